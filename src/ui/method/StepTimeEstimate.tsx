import { useSettingsStore } from '../../state/settingsStore';
import { useTokenLengthStore } from '../../state/tokenLengthStore';
import { useTrainingStore } from '../../state/trainingStore';
import { scaledStepMs } from '../../tuning/runEstimate';
import { formatDuration } from '../format';
import { useLargeModelEstimate } from './useLargeModelEstimate';

/**
 * What a run of the chosen length will take here, from the time per step measured on this
 * machine; scaled (roughly: work grows with the batch times its width) when the settings differ.
 * Before a step has run, a large model on a CPU backend gets an estimate from its FLOPs
 * and the matmul speed the engine measured as it loaded (model/flops.ts): its steps take
 * tens of seconds, which a newcomer should know before pressing Train.
 */
export function StepTimeEstimate() {
  const timing = useTrainingStore((s) => s.timing);
  const config = useSettingsStore((s) => s.config);
  const { estimate, speed } = useLargeModelEstimate();
  const lengths = useTokenLengthStore((s) => s.lengths);
  if (!timing && estimate && speed) {
    return (
      <p className="estimate" data-testid="step-estimate" data-estimated-ms={Math.round(estimate.stepMs)} data-batch-width={estimate.meanBatchWidth ?? undefined}>
        Estimated before any step has run, on <strong>{speed.backend}</strong>: about <span className="num">{formatDuration(estimate.stepMs)}</span> per
        step {estimate.meanBatchWidth === null
          ? 'when a batch fills the max length (shorter texts run faster)'
          : <>at this data&apos;s lengths (a batch about <span className="num">{Math.round(estimate.meanBatchWidth)}</span> tokens wide, label and padding included)</>},
        so {config.steps.toLocaleString('en')} steps take
        about <strong className="num">{formatDuration(estimate.stepMs * config.steps)}</strong>, and
        the {estimate.evaluations.toLocaleString('en')} evaluations of {estimate.examples.toLocaleString('en')} validation examples (the baselines
        and the discrete projection included) about <strong className="num">{formatDuration(estimate.evaluationMs * estimate.evaluations)}</strong> more.
        From the model&apos;s size and this machine&apos;s matmul speed (<span className="num">{(speed.matmulFlopsPerSecond / 1e9).toFixed(0)}</span> GFLOP/s);
        the first step&apos;s measured time replaces it.
      </p>
    );
  }
  if (!timing) {
    return <p className="estimate muted" data-testid="step-estimate">The time per step on this machine appears here once a step has run.</p>;
  }
  const ms = scaledStepMs(timing, config, lengths);
  const same = Math.abs(ms / timing.msPerStep - 1) < 1e-9;
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
