import { useShallow } from 'zustand/react/shallow';
import { listSome } from '../../data';
import { useInspectStore } from '../../state/inspectStore';
import { useCurrentAdapter } from '../../state/promptsStore';
import { hasRun, isActive, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';

/**
 * Evaluate the current prompt on the validation split when asked: what an imported adapter
 * needs (no run evaluates it), and a fresh reading for a trained one.
 */
export function EvaluatePrompt() {
  const ready = useTrainingStore((s) => hasRun(s) && !isActive(s));
  const adapter = useCurrentAdapter();
  const { evaluating, error, evaluate } = useInspectStore(useShallow((s) => ({
    evaluating: s.promptEvaluating, error: s.promptEvaluateError, evaluate: s.evaluatePrompt,
  })));
  if (!ready) return null;
  const blocked = adapter !== null && !adapter.evaluable;
  return (
    <div className="evaluate-prompt">
      <button type="button" className="secondary" disabled={evaluating || blocked} onClick={() => void evaluate()} data-testid="evaluate-prompt">
        {evaluating ? 'Evaluating…' : 'Evaluate on the validation split'}
      </button>
      {blocked && (
        <span className="muted small"> To evaluate this adapter, load a CSV with the labels {listSome(adapter.labels, 12)} (Data step), then load the adapter again.</span>
      )}
      <ErrorNote error={error} testId="evaluate-prompt-error" />
    </div>
  );
}
