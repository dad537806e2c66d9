/**
 * A choice among a few options, drawn as joined buttons but built from native radio
 * inputs: arrow keys move between them, and screen readers announce a radio group.
 */
export function SegmentedControl<T extends string>({ name, legend, options, value, onChange, testId }: {
  name: string;
  legend: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange(value: T): void;
  testId?: string;
}) {
  return (
    <fieldset className="segmented" data-testid={testId}>
      <legend className="visually-hidden">{legend}</legend>
      {options.map((o) => (
        <label key={o.value} className={o.value === value ? 'selected' : undefined}>
          <input type="radio" name={name} value={o.value} checked={o.value === value} onChange={() => onChange(o.value)} />
          <span>{o.label}</span>
        </label>
      ))}
    </fieldset>
  );
}
