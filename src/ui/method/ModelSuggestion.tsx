import { useDataStore } from '../../state/dataStore';
import { useModelStore } from '../../state/modelStore';
import { useSettingsStore } from '../../state/settingsStore';
import { useTokenLengthStore } from '../../state/tokenLengthStore';
import type { TrainConfig } from '../../tuning/config';
import { estimateCpuRun } from '../../tuning/runEstimate';
import { formatDuration } from '../format';

/**
 * For a model past the default's size, the batch and max length it trains well at on this
 * backend (the engine works them out from its memory model when the model loads), offered
 * in one click: the defaults are tuned for the small default model. Beside it, a first look:
 * a short run that shows a first accuracy within minutes, with its time where it can be
 * estimated (wasm and cpu).
 */
export function ModelSuggestion({ disabled }: { disabled?: boolean }) {
  const suggestion = useModelStore((s) => s.facts?.suggestedSettings ?? null);
  const speed = useModelStore((s) => s.facts?.stepSpeed ?? null);
  const config = useSettingsStore((s) => s.config);
  const set = useSettingsStore((s) => s.set);
  const validationCount = useDataStore((s) => s.dataset?.validationCount ?? null);
  const lengths = useTokenLengthStore((s) => s.lengths);
  if (!suggestion) return null;
  const apply = (values: Partial<TrainConfig>) => {
    for (const [key, value] of Object.entries(values)) set(key as keyof TrainConfig, value as never);
  };
  const inUse = (values: Partial<TrainConfig>) => Object.entries(values).every(([key, value]) => config[key as keyof TrainConfig] === value);
  const { batchSize, maxLength, firstLook } = suggestion;
  const look = speed ? estimateCpuRun(speed.dims, speed.matmulFlopsPerSecond, { ...config, ...firstLook }, validationCount, lengths) : null;
  const firstLookMs = look ? look.stepMs * firstLook.steps + look.evaluationMs * look.evaluations : null;
  return (
    <>
      <p className="offer" data-testid="model-suggestion">
        {suggestion.reason}{' '}
        {inUse({ batchSize, maxLength }) ? 'These settings are in use.' : (
          <button type="button" className="link" disabled={disabled} onClick={() => apply({ batchSize, maxLength })}>
            Use batch {batchSize}, max length {maxLength}
          </button>
        )}
      </p>
      <p className="offer" data-testid="first-look">
        For a first look sooner: {firstLook.steps} steps at batch {firstLook.batchSize} and max length {firstLook.maxLength}, scoring
        {' '}{firstLook.maxEvalExamples} validation examples{firstLookMs !== null && <>: about <span className="num">{formatDuration(firstLookMs)}</span> here,
        its {look!.evaluations} evaluations included (estimated)</>}.{' '}
        {inUse(firstLook) ? 'These settings are in use.' : (
          <button type="button" className="link" disabled={disabled} onClick={() => apply(firstLook)}>Use the first-look settings</button>
        )}
      </p>
    </>
  );
}
