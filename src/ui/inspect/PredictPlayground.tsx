import { useShallow } from 'zustand/react/shallow';
import { playgroundTokens, useInspectStore } from '../../state/inspectStore';
import { hasRun, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import type { Continuation } from '../../engine/api';
import { formatPercent, visibleContinuation } from '../format';
import { submitOnModEnter } from '../keyboard';

/** One array for "no tasks", so the store's selector returns the same value while nothing changes. */
const NO_TASKS: string[] = [];

/**
 * Type a text, see each label's probability with the soft prompt and without any prompt,
 * and what the model writes after it with each (what the adapter card's `model.generate` prints).
 */
export function PredictPlayground() {
  const { text, task, prediction, labels, predicting, error, setText, setTask, predict } = useInspectStore(useShallow((s) => ({
    text: s.playgroundText, task: s.playgroundTask, prediction: s.prediction, labels: s.predictionLabels, predicting: s.predicting,
    error: s.predictError, setText: s.setPlaygroundText, setTask: s.setPlaygroundTask, predict: s.predict,
  })));
  const ready = useTrainingStore(hasRun);
  const tasks = useTrainingStore((s) => s.info?.tasks ?? NO_TASKS);
  const target = useTrainingStore((s) => s.info?.config.scoring === 'target');
  const tokens = useTrainingStore((s) => playgroundTokens(s.info));
  return (
    <div className="playground">
      <h3>Playground</h3>
      <form onSubmit={(e) => {
        e.preventDefault();
        void predict();
      }}>
        <label>
          {target ? 'Text to continue' : 'Text to classify'}
          <textarea rows={2} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={submitOnModEnter} data-testid="playground-input"
            placeholder="WINNER!! You have been selected to receive a £900 prize. Call now" />
        </label>
        {tasks.length > 1 && (
          <label className="playground-task">
            Task
            <select value={Math.min(task, tasks.length - 1)} onChange={(e) => setTask(Number(e.target.value))} data-testid="playground-task">
              {tasks.map((name, i) => <option key={name} value={i}>{name}</option>)}
            </select>
            <span className="help"> its prompt, and only its labels</span>
          </label>
        )}
        <button type="submit" disabled={!ready || predicting || !text.trim()} data-testid="playground-predict" title="Predict (Ctrl+Enter in the text)">
          {predicting ? 'Scoring…' : 'Predict'}
        </button>
        {!ready && <span className="muted small"> Available once training has started.</span>}
      </form>
      <ErrorNote error={error} />
      {prediction && labels.length > 0 && (
        <table className="prediction num" data-testid="playground-result">
          <thead><tr><th scope="col">Label</th><th scope="col">With the soft prompt</th><th scope="col">Zero-shot</th></tr></thead>
          <tbody>
            {labels.map(({ name: label, index }) => {
              const soft = prediction.probabilities.soft?.[index];
              const zero = prediction.probabilities['zero-shot']?.[index];
              return (
                <tr key={label} data-label={label} data-soft={soft ?? ''} data-zero-shot={zero ?? ''}>
                  <th scope="row">{label}</th>
                  <td><span className="mini-bar soft" style={{ width: `${(soft ?? 0) * 6}rem` }} aria-hidden="true" />{formatPercent(soft)}</td>
                  <td><span className="mini-bar zero" style={{ width: `${(zero ?? 0) * 6}rem` }} aria-hidden="true" />{formatPercent(zero)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {prediction?.continuations && (
        <div className="continuations" data-testid="playground-continuations">
          <h4>What the model writes next</h4>
          <p className="help">
            Greedy, up to {tokens} tokens after the template: what the adapter card&apos;s{' '}
            <code>model.generate</code> prints in Python.{' '}
            {target
              ? 'With free-text targets this is the prediction: an evaluation counts it right when it begins with the target.'
              : 'Rank scoring above only compares the labels; this shows whether the prompt makes the model write one.'}
          </p>
          <dl>
            <ContinuationLine name="With the soft prompt" variant="soft" continuation={prediction.continuations.soft} />
            <ContinuationLine name="Zero-shot" variant="zero-shot" continuation={prediction.continuations['zero-shot']} />
          </dl>
        </div>
      )}
    </div>
  );
}

function ContinuationLine({ name, variant, continuation }: { name: string; variant: string; continuation: Continuation | undefined }) {
  if (!continuation) return null;
  return (
    <div data-variant={variant} data-text={continuation.text}>
      <dt>{name}</dt>
      <dd>
        <code className="continuation">{visibleContinuation(continuation.text) || '(nothing)'}</code>
        {continuation.ended && <span className="muted small"> (end of text)</span>}
      </dd>
    </div>
  );
}
