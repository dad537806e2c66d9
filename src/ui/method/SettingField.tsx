import { useId, type ReactElement } from 'react';
import { useSettingsStore } from '../../state/settingsStore';
import { SETTINGS, type TrainConfig } from '../../tuning/config';
import { NumberInput } from '../NumberInput';

/** A labelled control with its help text (from the settings table) read out with it. */
function Field({ setting, label, children, wide }: {
  setting: keyof TrainConfig;
  label: string;
  children: (ids: { id: string; helpId: string }) => ReactElement;
  wide?: boolean;
}) {
  const id = useId();
  const helpId = `${id}-help`;
  return (
    <div className={`field${wide ? ' wide' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, helpId })}
      <p id={helpId} className="help">{SETTINGS[setting].help}</p>
    </div>
  );
}

/**
 * One setting as its table entry describes it: a number field, a select, a text field or a
 * checkbox. Numbers are not bounded in the field: an out-of-range value stays as typed and
 * the settings check says what the bounds are, with the engine's own words.
 */
export function SettingControl({ setting, label, wide }: {
  setting: keyof TrainConfig;
  /** Instead of the table's label (e.g. when another setting changes what this one means). */
  label?: string;
  wide?: boolean;
}) {
  const spec = SETTINGS[setting];
  const value = useSettingsStore((s) => s.config[setting]);
  const set = useSettingsStore((s) => s.set);
  const shown = label ?? (spec.unit ? `${spec.label} (${spec.unit})` : spec.label);
  const testId = `setting-${setting}`;
  switch (spec.type) {
    case 'integer':
    case 'number':
      return (
        <Field setting={setting} label={shown}>
          {({ id, helpId }) => (
            <NumberInput id={id} aria-describedby={helpId} value={value as number} integer={spec.type === 'integer'}
              onValue={(v) => set(setting, v as never)} data-testid={testId} />
          )}
        </Field>
      );
    case 'choice':
      return (
        <Field setting={setting} label={shown} wide={wide}>
          {({ id, helpId }) => (
            <select id={id} aria-describedby={helpId} value={value as string}
              onChange={(e) => set(setting, e.target.value as never)} data-testid={testId}>
              {spec.choices.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
            </select>
          )}
        </Field>
      );
    case 'text':
      return (
        <Field setting={setting} label={shown} wide>
          {({ id, helpId }) => spec.multiline
            ? <textarea id={id} aria-describedby={helpId} rows={2} value={value as string} placeholder={spec.placeholder}
              onChange={(e) => set(setting, e.target.value as never)} data-testid={testId} />
            : <input id={id} aria-describedby={helpId} value={value as string} placeholder={spec.placeholder}
              onChange={(e) => set(setting, e.target.value as never)} data-testid={testId} />}
        </Field>
      );
    case 'boolean':
      return <BooleanControl setting={setting} label={shown} />;
  }
}

function BooleanControl({ setting, label }: { setting: keyof TrainConfig; label: string }) {
  const value = useSettingsStore((s) => s.config[setting]) as boolean;
  const set = useSettingsStore((s) => s.set);
  const id = useId();
  return (
    <div className="field">
      <label className="check">
        <input type="checkbox" checked={value} aria-describedby={`${id}-help`}
          onChange={(e) => set(setting, e.target.checked as never)} data-testid={`setting-${setting}`} />
        {label}
      </label>
      <p id={`${id}-help`} className="help">{SETTINGS[setting].help}</p>
    </div>
  );
}
