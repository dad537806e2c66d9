import { useShallow } from 'zustand/react/shallow';
import { useTrainingStore } from '../../state/trainingStore';
import { formatDuration, formatNumber } from '../format';

/**
 * Step count, loss, tokens per second and time left. Re-rendered at most once per frame
 * (the store batches steps); figures are tabular so the row does not jitter. Speed and time
 * left are averaged over steps (one step's figures jump); while paused the speed shown is
 * the last measured, and no time runs out.
 */
export function TrainProgress() {
  const { step, total, status, pace, etaMs } = useTrainingStore(useShallow((s) => ({
    step: s.lastStep, total: s.info?.config.steps ?? s.lastStep?.totalSteps ?? null, status: s.status, pace: s.pace, etaMs: s.etaMs,
  })));
  const current = step?.step ?? 0;
  const left = status === 'ended' || status === 'failed' || status === 'idle' ? '–'
    : status === 'paused' ? 'paused'
      : etaMs === null ? (step ? 'estimating…' : '–') : formatDuration(etaMs);
  return (
    <div className="train-progress" data-testid="train-progress" data-step={current}>
      {total
        ? <progress max={total} value={current} aria-label="Training steps" />
        : <progress max={1} value={0} aria-label="Training steps" />}
      <dl className="figures num">
        <div><dt>Step</dt><dd data-testid="step-count">{current.toLocaleString('en')} / {total?.toLocaleString('en') ?? '–'}</dd></div>
        <div><dt>Loss</dt><dd>{formatNumber(step?.loss)}</dd></div>
        <div><dt>Tokens/s</dt><dd data-testid="tokens-per-second">{pace ? Math.round(pace.tokensPerSecond).toLocaleString('en') : '–'}</dd></div>
        <div><dt>Step time</dt><dd data-testid="step-time">{pace ? formatDuration(pace.stepMs) : '–'}</dd></div>
        <div><dt>Elapsed</dt><dd>{step ? formatDuration(step.elapsedMs) : '–'}</dd></div>
        <div><dt>Time left</dt><dd data-testid="eta">{left}</dd></div>
      </dl>
    </div>
  );
}
