/**
 * What each soft-prompt method is, without its code: its name for people, the PEFT type it
 * exports as, and the settings of its own (as PEFT gives each tuner its own config fields).
 * The settings table and the page's Method step read this; it imports no tensor library, so
 * the page does not load tfjs for it. The methods' code is registered in ./index.ts.
 */
import type { PeftType } from '../../formats/peft';

export type MethodKind = 'prompt' | 'ptuning-mlp' | 'ptuning-lstm' | 'prefix' | 'multitask';

/** Settings that belong to some methods only (the rest apply to every method). */
export type MethodSettingKey = 'encoderHiddenSize' | 'encoderNumLayers' | 'prefixProjection' | 'numRanks';

export interface MethodDescription {
  label: string;
  peftType: PeftType;
  /** Its own settings, in the order the form shows them; `when` hides one that another turns off. */
  settings: readonly { key: MethodSettingKey; when?: (config: { prefixProjection: boolean }) => boolean }[];
  /** Needs a task column in the data. */
  needsTasks: boolean;
}

export const METHOD_CATALOG: Readonly<Record<MethodKind, MethodDescription>> = {
  prompt: { label: 'Prompt tuning', peftType: 'PROMPT_TUNING', settings: [], needsTasks: false },
  'ptuning-mlp': { label: 'P-tuning (MLP encoder)', peftType: 'P_TUNING', settings: [{ key: 'encoderHiddenSize' }], needsTasks: false },
  'ptuning-lstm': {
    label: 'P-tuning (LSTM encoder)', peftType: 'P_TUNING', settings: [{ key: 'encoderHiddenSize' }, { key: 'encoderNumLayers' }], needsTasks: false,
  },
  prefix: {
    label: 'Prefix tuning',
    peftType: 'PREFIX_TUNING',
    settings: [{ key: 'prefixProjection' }, { key: 'encoderHiddenSize', when: (c) => c.prefixProjection }],
    needsTasks: false,
  },
  multitask: { label: 'Multitask prompt tuning', peftType: 'MULTITASK_PROMPT_TUNING', settings: [{ key: 'numRanks' }], needsTasks: true },
};

export const METHOD_KINDS = Object.keys(METHOD_CATALOG) as MethodKind[];

/** Whether a method-specific setting applies to this configuration. */
export function methodUsesSetting(config: { method: MethodKind; prefixProjection: boolean }, key: MethodSettingKey): boolean {
  const own = METHOD_CATALOG[config.method]?.settings.find((s) => s.key === key);
  return own !== undefined && (own.when?.(config) ?? true);
}
