/**
 * The training settings as command-line flags, read off the settings table: one flag per
 * setting (`--lr`, `--virtual-tokens`, …), parsed by its type, and the usage lines that
 * list them with their defaults. Bounds are checked by the engine, in the page's words.
 */
import { SETTINGS, SETTING_KEYS, type SettingSpec, type TrainConfig } from '../tuning/config';
import { StudioError } from '../errors';
import { finiteNumber, nonNegativeInt, oneOf, positiveInt } from './args';

/** parseArgs options for every training flag (values arrive as strings and are parsed by type). */
export const trainingFlagOptions = Object.fromEntries(
  SETTING_KEYS.map((key) => [SETTINGS[key].flag, { type: 'string' as const }]),
) as Record<string, { type: 'string' }>;

function integer(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new StudioError('cli', `${flag} must be a whole number, got "${value}".`);
  return n;
}

function parseValue(spec: SettingSpec, value: string): TrainConfig[keyof TrainConfig] {
  const flag = `--${spec.flag}`;
  switch (spec.type) {
    case 'integer':
      if (spec.min >= 1) return positiveInt(value, flag, 0);
      if (spec.min === 0) return nonNegativeInt(value, flag, 0);
      return integer(value, flag);
    case 'number':
      return finiteNumber(value, flag, 0);
    case 'choice':
      return oneOf(value, flag, spec.choices.map((c) => c.value))!;
    case 'text':
      return value;
    case 'boolean':
      if (/^(true|yes|1)$/i.test(value)) return true;
      if (/^(false|no|0)$/i.test(value)) return false;
      throw new StudioError('cli', `${flag} must be true or false, got "${value}".`);
  }
}

/** The training settings the flags give; the rest are the studio's defaults (validateTrainConfig). */
export function trainConfigFromFlags(values: Record<string, string | boolean | string[] | undefined>): Partial<TrainConfig> {
  const config: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const raw = values[SETTINGS[key].flag];
    if (typeof raw === 'string') config[key] = parseValue(SETTINGS[key], raw);
  }
  return config as Partial<TrainConfig>;
}

function flagUsage(spec: SettingSpec): string {
  const shown = (v: unknown) => (typeof v === 'string' && (v === '' || /\s/.test(v)) ? JSON.stringify(v) : String(v));
  const value = spec.type === 'choice' ? spec.choices.map((c) => c.value).join('|')
    : spec.type === 'text' ? 'T'
    : spec.type === 'boolean' ? 'true|false'
    : spec.type === 'integer' ? 'N' : 'X';
  return `--${spec.flag} ${value} (${shown(spec.default)})`;
}

/** The flags with their defaults, wrapped to `width` columns under `indent`. */
export function trainingUsage(indent = '  ', width = 104): string {
  const lines: string[] = [];
  let line = indent;
  for (const key of SETTING_KEYS) {
    const item = flagUsage(SETTINGS[key]).replace(/\n/g, '\\n');
    if (line.trim() && line.length + 2 + item.length > width) {
      lines.push(line);
      line = indent;
    }
    line += (line.trim() ? '  ' : '') + item;
  }
  if (line.trim()) lines.push(line);
  return lines.join('\n');
}
