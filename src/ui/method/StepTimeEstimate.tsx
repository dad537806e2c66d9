import { useSettingsStore } from '../../state/settingsStore';
import { useTrainingStore } from '../../state/trainingStore';
import { formatDuration } from '../format';

/**
 * What a run of the chosen length will take here, from the time per step measured on this
 * machine; scaled (roughly: work grows with batch × sequence) when the settings differ.
 */
export function StepTimeEstimate() {
  const timing = useTrainingStore((s) => s.timing);
  const config = useSettingsStore((s) => s.config);
  if (!timing) {
    return <p className="estimate muted" data-testid="step-estimate">The time per step on this machine appears here once a step has run.</p>;
  }
  const batch = config.batchSize * config.gradientAccumulation;
  const work = (b: number, len: number, p: number) => b * (len + p);
  const ratio = work(batch, config.maxLength, config.numVirtualTokens) / work(timing.batchSize, timing.maxLength, timing.numVirtualTokens);
  const same = Math.abs(ratio - 1) < 1e-9;
  const ms = timing.msPerStep * ratio;
  return (
    <p className="estimate" data-testid="step-estimate">
      Measured on <strong>{timing.backend}</strong>: <span className="num">{formatDuration(timing.msPerStep)}</span> per step
      (batch {timing.batchSize}, max length {timing.maxLength}, {timing.numVirtualTokens} virtual tokens).{' '}
      {same ? 'So ' : <>At these settings roughly <span className="num">{formatDuration(ms)}</span> per step, so </>}
      {config.steps.toLocaleString('en')} steps take
      about <strong className="num">{formatDuration(ms * config.steps)}</strong>, plus evaluations.
    </p>
  );
}
