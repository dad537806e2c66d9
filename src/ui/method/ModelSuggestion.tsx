import { useModelStore } from '../../state/modelStore';
import { useSettingsStore } from '../../state/settingsStore';

/**
 * For a model past the default's size, the batch and max length it trains well at on this
 * backend (the engine works them out from its memory model when the model loads), offered
 * in one click: the defaults are tuned for the small default model.
 */
export function ModelSuggestion({ disabled }: { disabled?: boolean }) {
  const suggestion = useModelStore((s) => s.facts?.suggestedSettings ?? null);
  const batchSize = useSettingsStore((s) => s.config.batchSize);
  const maxLength = useSettingsStore((s) => s.config.maxLength);
  const set = useSettingsStore((s) => s.set);
  if (!suggestion) return null;
  const inUse = batchSize === suggestion.batchSize && maxLength === suggestion.maxLength;
  return (
    <p className="offer" data-testid="model-suggestion">
      {suggestion.reason}{' '}
      {inUse ? 'These settings are in use.' : (
        <button type="button" className="link" disabled={disabled} onClick={() => {
          set('batchSize', suggestion.batchSize);
          set('maxLength', suggestion.maxLength);
        }}>Use batch {suggestion.batchSize}, max length {suggestion.maxLength}</button>
      )}
    </p>
  );
}
