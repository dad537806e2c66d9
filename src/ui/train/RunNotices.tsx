import { useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { ResumeAfterError } from './ResumeAfterError';
import { RunStorage } from './RunStorage';

/** The run's error and warnings, in place. */
export function RunNotices() {
  const error = useTrainingStore((s) => s.error);
  const notices = useTrainingStore((s) => s.notices);
  const truncated = useTrainingStore((s) => s.info?.truncated ?? 0);
  return (
    <div className="run-notices">
      <ErrorNote error={error} testId="train-error" />
      <ResumeAfterError />
      {error?.code === 'settings' && <p className="muted">The settings are in step 3, Method.</p>}
      {truncated > 0 && (
        <p className="warning">{truncated} example{truncated === 1 ? ' was' : 's were'} longer than the max length and cut.</p>
      )}
      {notices.length > 0 && (
        <ul className="warnings" aria-live="polite" data-testid="run-notices">
          {notices.map((n, i) => <li key={i} className="warning">{n}</li>)}
        </ul>
      )}
      <RunStorage />
    </div>
  );
}
