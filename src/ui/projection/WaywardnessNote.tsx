import { useShallow } from 'zustand/react/shallow';
import { useInspectStore } from '../../state/inspectStore';
import { hasRun, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { formatPercent } from '../format';

/**
 * The caveat that belongs next to any reading of these tokens, with the figure that
 * shows it: the accuracy of the prompt made of the nearest tokens, against the soft one.
 */
export function WaywardnessNote() {
  const { discrete, evaluation, canEvaluate } = useTrainingStore(useShallow((s) => ({
    discrete: s.discrete, evaluation: s.evaluation, canEvaluate: hasRun(s),
  })));
  const { evaluating, evaluateError, evaluateDiscrete } = useInspectStore(useShallow((s) => ({
    evaluating: s.evaluating, evaluateError: s.evaluateError, evaluateDiscrete: s.evaluateDiscrete,
  })));
  return (
    <aside className="waywardness" data-testid="waywardness">
      <p>
        <strong>Read these words with care.</strong> A soft prompt can work well while its nearest tokens are misleading or
        nonsense: a prompt can be pulled close to any words without losing accuracy.
      </p>
      <p className="small" data-testid="waywardness-terms">
        <dfn>Waywardness</dfn> (Khashabi et al. 2022): a working prompt whose nearest words say something else.{' '}
        <dfn>Discrete projection</dfn>: the prompt with each virtual token replaced by its nearest real token, i.e. made of
        words; scoring it is the test.
      </p>
      <p className="num" data-testid="discrete-accuracy">
        Nearest-token prompt: <strong>{formatPercent(discrete?.report.accuracy)}</strong>
        {discrete ? ` (step ${discrete.step})` : ''} · soft prompt: <strong>{formatPercent(evaluation?.report.accuracy)}</strong>
        {evaluation ? ` (step ${evaluation.step})` : ''}
        {' '}
        <button type="button" className="link" disabled={!canEvaluate || evaluating !== null} onClick={() => void evaluateDiscrete()}
          data-testid="evaluate-discrete">
          {evaluating === 'discrete' ? 'Evaluating…' : 'Evaluate now'}
        </button>
      </p>
      <ErrorNote error={evaluateError} />
    </aside>
  );
}
