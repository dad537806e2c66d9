/**
 * Every training setting in one table: its type, the default a first-time user gets, its
 * bounds, the help text beside it, where the form shows it and its command-line flag.
 * Validation, the page's Method step and the CLI's flags and usage all read this table, so
 * a setting is added or changed in one place. Imports no tensor library (the page reads it).
 */
import { labelsLookLikeFreeText } from '../data/examples';
import { StudioError } from '../errors';
import type { InitKind } from './init';
import { METHOD_CATALOG, METHOD_KINDS, methodUsesSetting, type MethodKind, type MethodSettingKey } from './methods/catalog';
import type { OptimizerKind } from './optimizers';

export type Schedule = 'constant' | 'linear' | 'cosine';

/**
 * How an evaluation scores an example: 'rank' compares every label's likelihood (classification);
 * 'target' checks only the example's own target (a generation task: free-text targets, where
 * ranking thousands of them per example would be both slow and meaningless); 'auto' picks
 * 'target' when the labels look like free text (resolveScoring, below).
 */
export type ScoringChoice = 'auto' | 'rank' | 'target';

export type Scoring = Exclude<ScoringChoice, 'auto'>;

/** 'auto' scoring settled: target scoring where the labels look like free-text targets (data/examples.ts, labelsLookLikeFreeText). */
export function resolveScoring(choice: ScoringChoice | undefined, labels: number, rows: number): Scoring {
  if (choice === 'rank' || choice === 'target') return choice;
  return labelsLookLikeFreeText(labels, rows) ? 'target' : 'rank';
}

/** The line a run with target scoring shows (the page and `cli train`): what its accuracy means. */
export function scoringNote(scoring: ScoringChoice, labels: number): string | null {
  if (scoring !== 'target') return null;
  return `Scoring each example against its own target (${labels.toLocaleString('en-US')} distinct labels, taken as free text): `
    + 'accuracy is exact match, whether greedy decoding writes the target; nothing ranks the labels.';
}

export interface TrainConfig {
  method: MethodKind;
  numVirtualTokens: number;
  init: InitKind;
  initText: string;
  optimizer: OptimizerKind;
  learningRate: number;
  weightDecay: number;
  warmupSteps: number;
  schedule: Schedule;
  batchSize: number;
  gradientAccumulation: number;
  maxGradNorm: number;
  steps: number;
  evalEvery: number;
  projectEvery: number;
  checkpointEvery: number;
  earlyStoppingPatience: number;
  seed: number;
  template: string;
  maxLength: number;
  truncateSide: 'left' | 'right';
  /** P-tuning / prefix encoder width; 0 means the model width d. */
  encoderHiddenSize: number;
  encoderNumLayers: number;
  prefixProjection: boolean;
  numRanks: number;
  /** Validation examples scored at each evaluation; 0 means all. */
  maxEvalExamples: number;
  evalBatchSize: number;
  projectionTopK: number;
  scoring: ScoringChoice;
  /** MiB a step may reach at peak, weights included, before the backward recomputes rather than keeps (engine/memoryBudget.ts). */
  stepMemoryMiB: number;
}

/**
 * Where the Method step shows a setting: 'essential' ones (method, virtual tokens, steps) in
 * view, every other group folded away under "Advanced".
 */
export type SettingGroup = 'essential' | 'prompt' | 'optimization' | 'input' | 'more';

interface SettingBase<V> {
  /** How the form names it, and how messages name it unless `noun` says otherwise. */
  label: string;
  /** Shown after the label in the form, e.g. "steps" in "Evaluate every (steps)". */
  unit?: string;
  /** How a sentence starts with it, when not the label ("The seed must be…"). */
  noun?: string;
  help: string;
  group: SettingGroup;
  default: V;
  /** The CLI flag, without "--". */
  flag: string;
}

export interface IntegerSetting extends SettingBase<number> {
  type: 'integer';
  min: number;
  max: number;
}

/** A real number ≥ min (or > min), ≤ max; `tooHigh` words the upper bound's message. */
export interface NumberSetting extends SettingBase<number> {
  type: 'number';
  min: number;
  minExclusive?: boolean;
  max?: number;
  tooHigh?: (value: number) => string;
  hint?: string;
}

export interface ChoiceSetting<V extends string = string> extends SettingBase<V> {
  type: 'choice';
  choices: readonly { value: V; label: string }[];
}

export interface TextSetting extends SettingBase<string> {
  type: 'text';
  multiline?: boolean;
  placeholder?: string;
}

export interface BooleanSetting extends SettingBase<boolean> {
  type: 'boolean';
}

type SettingFor<V> = [V] extends [boolean] ? BooleanSetting
  : [V] extends [number] ? IntegerSetting | NumberSetting
  : [V] extends [string] ? (string extends V ? TextSetting : ChoiceSetting<V>)
  : never;

export type SettingSpec = IntegerSetting | NumberSetting | ChoiceSetting | TextSetting | BooleanSetting;

const MILLION = 1_000_000;

/** The table. Its order is the form's order within each group, and the order settings are checked in. */
export const SETTINGS: { readonly [K in keyof TrainConfig]: SettingFor<TrainConfig[K]> } = {
  method: {
    type: 'choice', label: 'Method', noun: 'method', group: 'essential', default: 'prompt', flag: 'method',
    choices: METHOD_KINDS.map((kind) => ({ value: kind, label: METHOD_CATALOG[kind].label })),
    help: 'Prompt tuning trains P vectors before the input (Lester et al. 2021). P-tuning produces them with a small MLP or bi-LSTM encoder. Prefix tuning trains keys and values at every layer. Multitask shares one prompt across the tasks in a task column, with a low-rank update per task.',
  },
  numVirtualTokens: {
    type: 'integer', label: 'Virtual tokens', group: 'essential', default: 20, min: 1, max: 1000, flag: 'virtual-tokens',
    help: 'Number of soft-prompt tokens P. The paper used 20-100; beyond 20 gains are small for large models, larger for small ones.',
  },
  init: {
    type: 'choice', label: 'Initialization', noun: 'initialization', group: 'prompt', default: 'labels', flag: 'init',
    choices: [
      { value: 'labels', label: 'Class labels' },
      { value: 'vocab', label: 'Sampled vocabulary' },
      { value: 'text', label: 'Text' },
      { value: 'random', label: 'Random uniform' },
    ],
    help: 'Starting point: class labels (best in the paper), sampled vocabulary, a text phrase, or random uniform [-0.5, 0.5] (worst).',
  },
  prefixProjection: {
    type: 'boolean', label: 'Prefix projection (MLP)', group: 'prompt', default: true, flag: 'prefix-projection',
    help: 'Prefix tuning through an MLP from P embeddings (more stable, the paper\'s choice) instead of free per-layer vectors.',
  },
  encoderHiddenSize: {
    type: 'integer', label: 'Encoder width', group: 'prompt', default: 0, min: 0, max: 65536, flag: 'encoder-hidden-size',
    help: 'Width of the P-tuning or prefix encoder (0: the model width).',
  },
  encoderNumLayers: {
    type: 'integer', label: 'Encoder layers', group: 'prompt', default: 2, min: 1, max: 8, flag: 'encoder-num-layers',
    help: 'LSTM layers of the P-tuning LSTM encoder (PEFT default 2).',
  },
  numRanks: {
    type: 'integer', label: 'Task rank', group: 'prompt', default: 1, min: 1, max: 64, flag: 'num-ranks',
    help: 'Rank of each task\'s multiplicative update in multitask prompt tuning.',
  },
  initText: {
    type: 'text', label: 'Init text', group: 'prompt', default: '', flag: 'init-text', placeholder: 'Classify whether the message is spam',
    help: 'The phrase for text initialization, e.g. "Classify whether the message is spam". Repeated or cut to P tokens.',
  },
  optimizer: {
    type: 'choice', label: 'Optimizer', noun: 'optimizer', group: 'optimization', default: 'adamw', flag: 'optimizer',
    choices: [{ value: 'adamw', label: 'AdamW' }, { value: 'adafactor', label: 'Adafactor' }],
    help: 'Adafactor is what the paper used (lr 0.3, constant). AdamW (lr ~0.1 for prompts) converges faster on small models.',
  },
  learningRate: {
    type: 'number', label: 'Learning rate', noun: 'The learning rate', group: 'optimization', default: 0.1, flag: 'lr',
    min: 0, minExclusive: true, max: 100, tooHigh: (v) => `A learning rate of ${v} would diverge at once; use at most 100.`,
    hint: 'The paper used 0.3 with Adafactor; 0.1 suits AdamW.',
    help: 'Prompts need far larger rates than fine-tuning: the paper used 0.3 with Adafactor.',
  },
  batchSize: {
    type: 'integer', label: 'Batch size', group: 'optimization', default: 16, min: 1, max: 4096, flag: 'batch-size',
    help: 'Examples per step. The paper used 32.',
  },
  steps: {
    type: 'integer', label: 'Steps', group: 'essential', default: 300, min: 1, max: MILLION, flag: 'steps',
    help: 'Optimizer steps to train. The paper trained 30,000 steps on T5; small tasks here need hundreds.',
  },
  warmupSteps: {
    type: 'integer', label: 'Warm-up steps', group: 'optimization', default: 10, min: 0, max: MILLION, flag: 'warmup-steps',
    help: 'Steps of linear warm-up from 0 to the learning rate.',
  },
  schedule: {
    type: 'choice', label: 'Schedule', noun: 'schedule', group: 'optimization', default: 'constant', flag: 'schedule',
    choices: [{ value: 'constant', label: 'Constant' }, { value: 'linear', label: 'Linear decay' }, { value: 'cosine', label: 'Cosine decay' }],
    help: 'Learning rate after warm-up: constant (the paper), or decaying linearly or along a cosine to 0 at the last step.',
  },
  seed: {
    type: 'integer', label: 'Seed', noun: 'The seed', group: 'optimization', default: 42,
    min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, flag: 'seed',
    help: 'The same seed, data and settings give the same run on the cpu backend.',
  },
  template: {
    type: 'text', label: 'Template', group: 'input', default: '{text}\nLabel:', flag: 'template', multiline: true,
    help: 'How an example is shown to the model; {text} is replaced by the text. The label follows it.',
  },
  maxLength: {
    type: 'integer', label: 'Max length', unit: 'tokens', group: 'input', default: 128, min: 4, max: MILLION, flag: 'max-length',
    help: 'Most tokens of [BOS] + template(text); longer texts are cut.',
  },
  truncateSide: {
    type: 'choice', label: 'Truncate side', noun: 'truncate side', group: 'input', default: 'right', flag: 'truncate-side',
    choices: [{ value: 'right', label: 'Right (keep the start)' }, { value: 'left', label: 'Left (keep the end)' }],
    help: 'Which end of a long text is cut: right keeps the beginning, left keeps the end.',
  },
  evalEvery: {
    type: 'integer', label: 'Evaluate every', unit: 'steps', group: 'more', default: 50, min: 1, max: MILLION, flag: 'eval-every',
    help: 'Evaluate on the validation split every N steps, and at the last. From N = 20 on, a run also evaluates early, at N/5 and N/2 (10 and 25 for 50), so the first accuracy comes within seconds.',
  },
  maxEvalExamples: {
    type: 'integer', label: 'Evaluation examples', group: 'more', default: 300, min: 0, max: 10 * MILLION, flag: 'eval-examples',
    help: 'Validation examples scored at each evaluation (0: all of them).',
  },
  projectEvery: {
    type: 'integer', label: 'Project every', unit: 'steps', group: 'more', default: 10, min: 1, max: MILLION, flag: 'project-every',
    help: 'Recompute each virtual token\'s nearest vocabulary tokens every N steps.',
  },
  projectionTopK: {
    type: 'integer', label: 'Nearest tokens shown', group: 'more', default: 5, min: 1, max: 100, flag: 'top-k',
    help: 'Nearest vocabulary tokens shown per virtual token.',
  },
  weightDecay: {
    type: 'number', label: 'Weight decay', group: 'more', default: 0, min: 0, flag: 'weight-decay',
    help: 'Decoupled weight decay on the prompt parameters. The paper: 1e-5.',
  },
  maxGradNorm: {
    type: 'number', label: 'Clip gradient norm', noun: 'The gradient clipping norm', group: 'more', default: 1.0, min: 0, flag: 'max-grad-norm',
    help: 'Clip the global gradient norm to this value (0 turns clipping off).',
  },
  gradientAccumulation: {
    type: 'integer', label: 'Gradient accumulation', group: 'more', default: 1, min: 1, max: 1024, flag: 'gradient-accumulation',
    help: 'Micro-batches whose gradients are averaged into one step: an effective batch of batch size × this.',
  },
  earlyStoppingPatience: {
    type: 'integer', label: 'Early-stopping patience', group: 'more', default: 0, min: 0, max: 1000, flag: 'patience',
    help: 'Stop after this many evaluations without a better validation accuracy, and keep the best prompt (0 turns it off).',
  },
  scoring: {
    type: 'choice', label: 'Scoring', noun: 'scoring', group: 'more', default: 'auto', flag: 'scoring',
    choices: [
      { value: 'auto', label: 'Auto (by the labels)' },
      { value: 'rank', label: 'Rank the labels (classification)' },
      { value: 'target', label: 'Each example\'s own target (generation)' },
    ],
    help: 'How evaluations score: rank every label and take the likeliest (classification), or check whether greedy decoding writes each example\'s own target (generation: free-text targets, exact match). Auto ranks unless there are over 32 distinct labels and they are more than a fifth of the rows.',
  },
  checkpointEvery: {
    type: 'integer', label: 'Checkpoint every', unit: 'steps', group: 'more', default: 50, min: 1, max: MILLION, flag: 'checkpoint-every',
    help: 'Save a resumable checkpoint every N steps.',
  },
  evalBatchSize: {
    type: 'integer', label: 'Evaluation batch size', group: 'more', default: 32, min: 1, max: 4096, flag: 'eval-batch-size',
    help: 'Examples per evaluation batch.',
  },
  stepMemoryMiB: {
    type: 'integer', label: 'Step memory', unit: 'MiB', group: 'more', default: 1024, min: 16, max: 65536, flag: 'step-memory',
    help: 'The peak a training step may reach, the model included, before its backward recomputes MLP activations instead of keeping them: the same numbers in more time. Higher runs a large model faster where the backend has room; the backend\'s own limit still holds.',
  },
};

export const SETTING_KEYS = Object.keys(SETTINGS) as (keyof TrainConfig)[];

/**
 * Whether step `step` (1-based) evaluates on the validation split: every `evalEvery` steps
 * and at the last, and — so that a first accuracy is on screen within a minute — early,
 * at a fifth and half of the first interval (10 and 25 for the default 50). Intervals
 * under 20 steps are already early; the evaluations there stay exactly every N.
 */
export function isEvaluationStep(step: number, cfg: Pick<TrainConfig, 'evalEvery' | 'steps'>): boolean {
  if (step % cfg.evalEvery === 0 || step === cfg.steps) return true;
  return cfg.evalEvery >= 20 && (step === Math.round(cfg.evalEvery / 5) || step === Math.round(cfg.evalEvery / 2));
}

/** How many of a run's steps evaluate (isEvaluationStep), counted without walking a million steps. */
export function evaluationStepCount(cfg: Pick<TrainConfig, 'evalEvery' | 'steps'>): number {
  // The early ones lie below the first interval, so never on one of its multiples; one at the last step is the last's.
  const early = cfg.evalEvery >= 20 ? new Set([Math.round(cfg.evalEvery / 5), Math.round(cfg.evalEvery / 2)]) : new Set<number>();
  const earlyBefore = [...early].filter((s) => s >= 1 && s < cfg.steps).length;
  return Math.floor(cfg.steps / cfg.evalEvery) + (cfg.steps % cfg.evalEvery !== 0 ? 1 : 0) + earlyBefore;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = Object.fromEntries(
  SETTING_KEYS.map((key) => [key, SETTINGS[key].default]),
) as unknown as TrainConfig;

/** Whether the form shows this setting for this configuration (method-specific ones only for their method). */
export function settingApplies(config: TrainConfig, key: keyof TrainConfig): boolean {
  const methodSpecific = Object.values(METHOD_CATALOG).some((m) => m.settings.some((s) => s.key === key));
  return !methodSpecific || methodUsesSetting(config, key as MethodSettingKey);
}

function fail(message: string, hint?: string): never {
  throw new StudioError('settings', message, hint);
}

/** The one value's problem, or nothing: a plain sentence that names the setting and its bounds. */
function checkSetting(spec: SettingSpec, value: unknown): void {
  const noun = spec.noun ?? spec.label;
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(`${noun} must be a whole number, got ${String(value)}.`);
      if (value < spec.min || value > spec.max) {
        // Bounds at the edge of exact integers say only that (a seed of 1e20 is not a whole number to us).
        if (spec.max === Number.MAX_SAFE_INTEGER) fail(`${noun} must be a whole number, got ${String(value)}.`);
        fail(`${noun} must be between ${spec.min} and ${spec.max}, got ${value}.`);
      }
      return;
    case 'number': {
      const low = typeof value !== 'number' || !Number.isFinite(value) || (spec.minExclusive ? value <= spec.min : value < spec.min);
      if (low) fail(`${noun} must be ${spec.minExclusive && spec.min === 0 ? 'a positive number' : `${spec.min} or more`}, got ${String(value)}.`, spec.hint);
      if (spec.max !== undefined && (value as number) > spec.max) fail(spec.tooHigh?.(value as number) ?? `${noun} must be at most ${spec.max}, got ${String(value)}.`);
      return;
    }
    case 'choice':
      if (!spec.choices.some((c) => c.value === value)) fail(`Unknown ${noun} "${String(value)}".`);
      return;
    case 'text':
      if (typeof value !== 'string') fail(`${noun} must be text, got ${String(value)}.`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`${noun} must be true or false, got ${String(value)}.`);
  }
}

/** What a configuration is checked against: the training split's size, the tasks, and (to settle 'auto' scoring) the labels and rows. */
export interface DataFacts {
  trainExamples: number;
  tasks: number;
  labels?: number;
  rows?: number;
}

/** Checks a configuration against itself and the data; returns it with defaults filled in (and 'auto' scoring settled where the labels are known). */
export function validateTrainConfig(partial: Partial<TrainConfig>, data?: DataFacts): TrainConfig {
  const cfg: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...partial };
  for (const key of SETTING_KEYS) checkSetting(SETTINGS[key], cfg[key]);
  if (!cfg.template.includes('{text}')) fail('The template must contain {text}, where each example\'s text goes.');
  if (cfg.init === 'text' && !cfg.initText.trim()) fail('Text initialization needs an init text.', 'Type a phrase that describes the task.');
  if (data) {
    if (cfg.batchSize > data.trainExamples) {
      fail(`The batch size (${cfg.batchSize}) is larger than the training split (${data.trainExamples} examples).`,
        `Use a batch size of at most ${data.trainExamples}.`);
    }
    if (METHOD_CATALOG[cfg.method].needsTasks && data.tasks < 1) {
      fail(`${METHOD_CATALOG[cfg.method].label} needs a task column.`, 'Map a column as the task, or choose another method.');
    }
    if (data.labels !== undefined && data.rows !== undefined) cfg.scoring = resolveScoring(cfg.scoring, data.labels, data.rows);
  }
  return cfg;
}
