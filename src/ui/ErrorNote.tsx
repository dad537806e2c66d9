import type { UiError } from '../state/errors';

/** An error in place: what went wrong, and on its own line what to do about it. */
export function ErrorNote({ error, testId }: { error: UiError | null; testId?: string }) {
  if (!error) return null;
  return (
    <div className="error-note" role="alert" data-testid={testId} data-code={error.code}>
      <p className="error-message">{error.message}</p>
      {error.hint && <p className="error-hint">{error.hint}</p>}
    </div>
  );
}
