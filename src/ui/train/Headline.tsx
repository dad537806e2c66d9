import { useShallow } from 'zustand/react/shallow';
import { useTrainingStore } from '../../state/trainingStore';
import { scoringNote } from '../../tuning/config';
import { isImbalanced, majorityBaseline } from '../../tuning/metrics';
import { formatPercent } from '../format';

/**
 * The figures to watch: validation accuracy now and at best, against what it must beat —
 * the model with no prompt (zero-shot) and always answering the most frequent label. When
 * the classes are uneven, macro-F1 goes beside each accuracy (there the majority class
 * alone scores high). Under the accuracies, how often greedy decoding writes the label. For
 * free-text targets (target scoring) accuracy is that exact match, and there is no majority class.
 */
export function Headline() {
  const { evaluation, best, zeroShot, scoring, labels } = useTrainingStore(useShallow((s) => ({
    evaluation: s.evaluation, best: s.bestAccuracy, zeroShot: s.zeroShot, scoring: s.info?.config.scoring, labels: s.info?.labels.length ?? 0,
  })));
  const target = scoring === 'target';
  // Every evaluation scores the same examples: either report gives their label counts.
  const examples = evaluation?.report ?? zeroShot?.report ?? null;
  const majority = examples ? majorityBaseline(examples) : null;
  const uneven = examples ? isImbalanced(examples) : false;
  const f1 = (x: number | undefined) => (uneven ? <dd className="muted small" data-macro-f1={x ?? ''}>macro-F1 {x === undefined ? '–' : x.toFixed(2)}</dd> : null);
  const written = (x: number | null | undefined, testId: string) => (typeof x === 'number' && !target ? (
    <dd className="muted small" data-testid={testId} data-value={x}
      title="The share of these examples after which greedy decoding writes the label's words: what model.generate answers in Python (the paper scored T5 this way, by exact match). Accuracy above ranks the labels instead.">
      writes the label: {formatPercent(x)}
    </dd>
  ) : null);
  const note = scoring ? scoringNote(scoring, labels) : null;
  return (
    <>
    {note && <p className="help" data-testid="scoring-note">{note}</p>}
    <dl className="headline num" data-testid="headline" data-scoring={scoring ?? ''}>
      <div>
        <dt>{target ? 'Validation exact match' : 'Validation accuracy'}</dt>
        <dd data-testid="validation-accuracy">{formatPercent(evaluation?.report.accuracy)}</dd>
        <dd className="muted small">{evaluation ? `step ${evaluation.step}, ${evaluation.examples} examples` : 'at the first evaluation'}</dd>
        {f1(evaluation?.report.macroF1)}
        {written(evaluation?.generationAccuracy, 'generation-accuracy')}
      </div>
      <div>
        <dt>Best</dt>
        <dd>{formatPercent(best)}</dd>
      </div>
      <div>
        <dt>Zero-shot</dt>
        <dd data-testid="zero-shot-accuracy">{formatPercent(zeroShot?.report.accuracy)}</dd>
        <dd className="muted small">no prompt</dd>
        {f1(zeroShot?.report.macroF1)}
        {written(zeroShot?.generationAccuracy, 'zero-shot-generation-accuracy')}
      </div>
      {!target && <div>
        <dt>Majority class</dt>
        <dd data-testid="majority-accuracy" data-label={majority?.label ?? ''}>{formatPercent(majority?.accuracy)}</dd>
        <dd className="muted small" title="What always answering the most frequent label scores: the floor a prompt must beat.">
          {majority ? <>always “{majority.label}”</> : 'the floor to beat'}
        </dd>
        {f1(majority?.macroF1)}
      </div>}
      <div>
        <dt>Validation loss</dt>
        <dd>{evaluation ? evaluation.loss.toFixed(3) : '–'}</dd>
      </div>
    </dl>
    </>
  );
}
