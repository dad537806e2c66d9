import { useId, type ReactElement } from 'react';
import { useSettingsStore } from '../../state/settingsStore';
import { TRAIN_CONFIG_HELP, type TrainConfig } from '../../tuning/config';
import { NumberInput } from '../NumberInput';

type NumberKey = { [K in keyof TrainConfig]: TrainConfig[K] extends number ? K : never }[keyof TrainConfig];

/** A labelled control with its help text (from TRAIN_CONFIG_HELP) read out with it. */
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
      <p id={helpId} className="help">{TRAIN_CONFIG_HELP[setting]}</p>
    </div>
  );
}

export function NumberSetting({ setting, label, integer, min, max, disabled }: {
  setting: NumberKey;
  label: string;
  integer?: boolean;
  min?: number;
  max?: number;
  disabled?: boolean;
}) {
  const value = useSettingsStore((s) => s.config[setting]);
  const set = useSettingsStore((s) => s.set);
  return (
    <Field setting={setting} label={label}>
      {({ id, helpId }) => (
        <NumberInput id={id} aria-describedby={helpId} value={value} integer={integer} min={min} max={max} disabled={disabled}
          onValue={(v) => set(setting, v)} data-testid={`setting-${setting}`} />
      )}
    </Field>
  );
}

export function SelectSetting<K extends keyof TrainConfig>({ setting, label, options, disabled, wide }: {
  setting: K;
  label: string;
  options: readonly { value: TrainConfig[K] & string; label: string }[];
  disabled?: boolean;
  /** A whole row, for a setting whose help is long. */
  wide?: boolean;
}) {
  const value = useSettingsStore((s) => s.config[setting]) as string;
  const set = useSettingsStore((s) => s.set);
  return (
    <Field setting={setting} label={label} wide={wide}>
      {({ id, helpId }) => (
        <select id={id} aria-describedby={helpId} value={value} disabled={disabled}
          onChange={(e) => set(setting, e.target.value as TrainConfig[K])} data-testid={`setting-${setting}`}>
          {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      )}
    </Field>
  );
}

export function TextSetting({ setting, label, multiline, disabled, placeholder }: {
  setting: 'template' | 'initText';
  label: string;
  multiline?: boolean;
  disabled?: boolean;
  placeholder?: string;
}) {
  const value = useSettingsStore((s) => s.config[setting]);
  const set = useSettingsStore((s) => s.set);
  return (
    <Field setting={setting} label={label} wide>
      {({ id, helpId }) => multiline
        ? <textarea id={id} aria-describedby={helpId} rows={2} value={value} disabled={disabled} placeholder={placeholder}
          onChange={(e) => set(setting, e.target.value)} data-testid={`setting-${setting}`} />
        : <input id={id} aria-describedby={helpId} value={value} disabled={disabled} placeholder={placeholder}
          onChange={(e) => set(setting, e.target.value)} data-testid={`setting-${setting}`} />}
    </Field>
  );
}

export function BooleanSetting({ setting, label, disabled }: { setting: 'prefixProjection'; label: string; disabled?: boolean }) {
  const value = useSettingsStore((s) => s.config[setting]);
  const set = useSettingsStore((s) => s.set);
  const id = useId();
  return (
    <div className="field">
      <label className="check">
        <input type="checkbox" checked={value} disabled={disabled} aria-describedby={`${id}-help`}
          onChange={(e) => set(setting, e.target.checked)} data-testid={`setting-${setting}`} />
        {label}
      </label>
      <p id={`${id}-help`} className="help">{TRAIN_CONFIG_HELP[setting]}</p>
    </div>
  );
}
