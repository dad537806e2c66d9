import { useShallow } from 'zustand/react/shallow';
import { useTrainingStore } from '../../state/trainingStore';
import { formatPercent } from '../format';

/** The figures to watch: validation accuracy now and at best, against the zero-shot baseline. */
export function Headline() {
  const { evaluation, best, zeroShot } = useTrainingStore(useShallow((s) => ({
    evaluation: s.evaluation, best: s.bestAccuracy, zeroShot: s.zeroShot,
  })));
  return (
    <dl className="headline num" data-testid="headline">
      <div>
        <dt>Validation accuracy</dt>
        <dd data-testid="validation-accuracy">{formatPercent(evaluation?.report.accuracy)}</dd>
        <dd className="muted small">{evaluation ? `step ${evaluation.step}, ${evaluation.examples} examples` : 'at the first evaluation'}</dd>
      </div>
      <div>
        <dt>Best</dt>
        <dd>{formatPercent(best)}</dd>
      </div>
      <div>
        <dt>Zero-shot</dt>
        <dd data-testid="zero-shot-accuracy">{formatPercent(zeroShot?.report.accuracy)}</dd>
        <dd className="muted small">no prompt</dd>
      </div>
      <div>
        <dt>Validation loss</dt>
        <dd>{evaluation ? evaluation.loss.toFixed(3) : '–'}</dd>
      </div>
    </dl>
  );
}
