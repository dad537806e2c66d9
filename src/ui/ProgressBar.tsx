/**
 * A progress bar with its figures beside it. A native <progress> (announced by screen
 * readers), indeterminate when the total is unknown.
 */
export function ProgressBar({ value, max, label, text, testId }: {
  value: number;
  max: number | null;
  label: string;
  text: string;
  testId?: string;
}) {
  return (
    <div className="progress-row" data-testid={testId}>
      {max ? <progress value={Math.min(value, max)} max={max} aria-label={label} /> : <progress aria-label={label} />}
      <span className="progress-text num">{text}</span>
    </div>
  );
}
