import { useSettingsStore, USUAL_LEARNING_RATE } from '../../state/settingsStore';
import { SETTINGS } from '../../tuning/config';

/** When the rate is not the one usually paired with the chosen optimizer, offer that one. */
export function LearningRateOffer({ disabled }: { disabled?: boolean }) {
  const optimizer = useSettingsStore((s) => s.config.optimizer);
  const rate = useSettingsStore((s) => s.config.learningRate);
  const set = useSettingsStore((s) => s.set);
  const usual = USUAL_LEARNING_RATE[optimizer];
  if (rate === usual) return null;
  return (
    <p className="offer" data-testid="lr-offer">
      {SETTINGS.optimizer.choices.find((c) => c.value === optimizer)?.label} is usually run at {usual} on soft prompts.{' '}
      <button type="button" className="link" disabled={disabled} onClick={() => set('learningRate', usual)}>Use {usual}</button>
    </p>
  );
}
