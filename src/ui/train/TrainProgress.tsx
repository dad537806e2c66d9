import { useTrainingStore } from '../../state/trainingStore';
import { formatDuration, formatNumber } from '../format';

/**
 * Step count, loss, tokens per second and time left. Re-rendered at most once per frame
 * (the store batches steps); figures are tabular so the row does not jitter.
 */
export function TrainProgress() {
  const step = useTrainingStore((s) => s.lastStep);
  const total = useTrainingStore((s) => s.info?.config.steps ?? s.lastStep?.totalSteps ?? null);
  const status = useTrainingStore((s) => s.status);
  const current = step?.step ?? 0;
  return (
    <div className="train-progress" data-testid="train-progress" data-step={current}>
      {total
        ? <progress max={total} value={current} aria-label="Training steps" />
        : <progress max={1} value={0} aria-label="Training steps" />}
      <dl className="figures num">
        <div><dt>Step</dt><dd data-testid="step-count">{current.toLocaleString('en')} / {total?.toLocaleString('en') ?? '–'}</dd></div>
        <div><dt>Loss</dt><dd>{formatNumber(step?.loss)}</dd></div>
        <div><dt>Tokens/s</dt><dd>{step ? Math.round(step.tokensPerSecond).toLocaleString('en') : '–'}</dd></div>
        <div><dt>Step time</dt><dd>{step ? formatDuration(step.stepMs) : '–'}</dd></div>
        <div><dt>Elapsed</dt><dd>{step ? formatDuration(step.elapsedMs) : '–'}</dd></div>
        <div><dt>Time left</dt><dd data-testid="eta">{step && status !== 'ended' ? formatDuration(step.etaMs) : '–'}</dd></div>
      </dl>
    </div>
  );
}
