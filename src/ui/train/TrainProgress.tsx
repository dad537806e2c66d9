import { useShallow } from 'zustand/react/shallow';
import { useTrainingStore, type RunActivity } from '../../state/trainingStore';
import { formatDuration, formatNumber } from '../format';

const SCORED: Record<Extract<RunActivity, { kind: 'evaluation' }>['variant'], (step: number) => string> = {
  soft: (step) => `the prompt of step ${step.toLocaleString('en')}`,
  'zero-shot': () => 'the zero-shot baseline (no prompt)',
  text: () => 'the text-prompt baseline',
  discrete: () => 'the discrete projection',
};

/** Where a slow step or evaluation is, in words. */
function activityText(a: RunActivity): string {
  if (a.kind === 'evaluation') {
    return `Scoring ${SCORED[a.variant](a.step)}: ${a.done.toLocaleString('en')} of ${a.total.toLocaleString('en')} validation examples`;
  }
  const p = a.progress;
  const micro = p.microBatches > 1 ? `micro-batch ${p.microBatch + 1} of ${p.microBatches}, ` : '';
  return `Step ${p.step.toLocaleString('en')}: ${micro}${p.pass} pass, ${p.layer} of ${p.layers} layers (${Math.floor(p.fraction * 100)}%)`;
}

/**
 * Step count, loss, tokens per second and time left. Re-rendered at most once per frame
 * (the store batches steps); figures are tabular so the row does not jitter. Speed and time
 * left are averaged over steps (one step's figures jump); while paused the speed shown is
 * the last measured, and no time runs out. A slow step (a real-size model on the CPU) moves
 * the bar layer by layer, and says where it is, as does a slow evaluation; before the pace is
 * known, its share done so far gives a first step time and time left, marked "≈", as does
 * the first known pace until the time left has its three steps.
 */
export function TrainProgress() {
  const { step, total, status, pace, etaMs, activity } = useTrainingStore(useShallow((s) => ({
    step: s.lastStep, total: s.info?.config.steps ?? s.lastStep?.totalSteps ?? null, status: s.status, pace: s.pace, etaMs: s.etaMs,
    activity: s.activity,
  })));
  const current = step?.step ?? 0;
  const under = activity?.kind === 'step' && activity.progress.step === current + 1 ? activity.progress : null;
  // Until the pace is known (the second step), a slow step under way gives a first figure.
  const projectedStepMs = !pace && under && under.fraction >= 0.1 ? under.elapsedMs / under.fraction : null;
  // Until the time left is known (the third step), the step time so far gives a first one.
  const roughStepMs = pace?.stepMs ?? projectedStepMs;
  const left = status === 'ended' || status === 'failed' || status === 'idle' ? '–'
    : status === 'paused' ? 'paused'
      : etaMs !== null ? formatDuration(etaMs)
        : roughStepMs != null && total ? `≈ ${formatDuration(Math.max(0, roughStepMs * (total - current) - (under?.elapsedMs ?? 0)))}`
          : step ? 'estimating…' : '–';
  return (
    <div className="train-progress" data-testid="train-progress" data-step={current}>
      {total
        ? <progress max={total} value={Math.min(total, current + (under?.fraction ?? 0))} aria-label="Training steps" />
        : <progress max={1} value={0} aria-label="Training steps" />}
      <dl className="figures num">
        <div><dt>Step</dt><dd data-testid="step-count">{current.toLocaleString('en')} / {total?.toLocaleString('en') ?? '–'}</dd></div>
        <div><dt>Loss</dt><dd>{formatNumber(step?.loss)}</dd></div>
        <div><dt>Tokens/s</dt><dd data-testid="tokens-per-second">{pace ? Math.round(pace.tokensPerSecond).toLocaleString('en') : '–'}</dd></div>
        <div><dt>Step time</dt><dd data-testid="step-time">{pace ? formatDuration(pace.stepMs) : projectedStepMs !== null ? `≈ ${formatDuration(projectedStepMs)}` : '–'}</dd></div>
        <div><dt>Elapsed</dt><dd>{step ? formatDuration(step.elapsedMs) : '–'}</dd></div>
        <div><dt>Time left</dt><dd data-testid="eta">{left}</dd></div>
      </dl>
      <p className="train-activity muted" data-testid="train-activity" data-kind={activity?.kind ?? ''}>{activity ? activityText(activity) : ''}</p>
    </div>
  );
}
