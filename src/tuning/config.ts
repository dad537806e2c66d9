/**
 * Every training setting in one typed record, with the default a first-time user gets,
 * the help text the UI shows beside it, and the checks that turn a bad value into a
 * sentence instead of a NaN twenty minutes later.
 */
import { StudioError } from '../errors';
import type { InitKind } from './init';
import type { MethodKind } from './methods/types';
import type { OptimizerKind } from './optimizers';

export type Schedule = 'constant' | 'linear' | 'cosine';

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
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  method: 'prompt',
  numVirtualTokens: 20,
  init: 'labels',
  initText: '',
  optimizer: 'adamw',
  learningRate: 0.1,
  weightDecay: 0,
  warmupSteps: 10,
  schedule: 'constant',
  batchSize: 16,
  gradientAccumulation: 1,
  maxGradNorm: 1.0,
  steps: 300,
  evalEvery: 50,
  projectEvery: 10,
  checkpointEvery: 50,
  earlyStoppingPatience: 0,
  seed: 42,
  template: '{text}\nLabel:',
  maxLength: 128,
  truncateSide: 'right',
  encoderHiddenSize: 0,
  encoderNumLayers: 2,
  prefixProjection: true,
  numRanks: 1,
  maxEvalExamples: 300,
  evalBatchSize: 32,
  projectionTopK: 5,
};

/** Help shown beside each setting; the paper's choices where it made one. */
export const TRAIN_CONFIG_HELP: Record<keyof TrainConfig, string> = {
  method: 'Prompt tuning trains P vectors before the input (Lester et al. 2021). P-tuning produces them with a small MLP or bi-LSTM encoder. Prefix tuning trains keys and values at every layer. Multitask shares one prompt across the tasks in a task column, with a low-rank update per task.',
  numVirtualTokens: 'Number of soft-prompt tokens P. The paper used 20-100; beyond 20 gains are small for large models, larger for small ones.',
  init: 'Starting point: class labels (best in the paper), sampled vocabulary, a text phrase, or random uniform [-0.5, 0.5] (worst).',
  initText: 'The phrase for text initialization, e.g. "Classify whether the message is spam". Repeated or cut to P tokens.',
  optimizer: 'Adafactor is what the paper used (lr 0.3, constant). AdamW (lr ~0.1 for prompts) converges faster on small models.',
  learningRate: 'Prompts need far larger rates than fine-tuning: the paper used 0.3 with Adafactor.',
  weightDecay: 'Decoupled weight decay on the prompt parameters. The paper: 1e-5.',
  warmupSteps: 'Steps of linear warm-up from 0 to the learning rate.',
  schedule: 'Learning rate after warm-up: constant (the paper), or decaying linearly or along a cosine to 0 at the last step.',
  batchSize: 'Examples per step. The paper used 32.',
  gradientAccumulation: 'Micro-batches whose gradients are averaged into one step: an effective batch of batch size × this.',
  maxGradNorm: 'Clip the global gradient norm to this value (0 turns clipping off).',
  steps: 'Optimizer steps to train. The paper trained 30,000 steps on T5; small tasks here need hundreds.',
  evalEvery: 'Evaluate on the validation split every N steps.',
  projectEvery: 'Recompute each virtual token\'s nearest vocabulary tokens every N steps.',
  checkpointEvery: 'Save a resumable checkpoint every N steps.',
  earlyStoppingPatience: 'Stop after this many evaluations without a better validation accuracy, and keep the best prompt (0 turns it off).',
  seed: 'The same seed, data and settings give the same run on the cpu backend.',
  template: 'How an example is shown to the model; {text} is replaced by the text. The label follows it.',
  maxLength: 'Most tokens of [BOS] + template(text); longer texts are cut.',
  truncateSide: 'Which end of a long text is cut: right keeps the beginning, left keeps the end.',
  encoderHiddenSize: 'Width of the P-tuning or prefix encoder (0: the model width).',
  encoderNumLayers: 'LSTM layers of the P-tuning LSTM encoder (PEFT default 2).',
  prefixProjection: 'Prefix tuning through an MLP from P embeddings (more stable, the paper\'s choice) instead of free per-layer vectors.',
  numRanks: 'Rank of each task\'s multiplicative update in multitask prompt tuning.',
  maxEvalExamples: 'Validation examples scored at each evaluation (0: all of them).',
  evalBatchSize: 'Examples per evaluation batch.',
  projectionTopK: 'Nearest vocabulary tokens shown per virtual token.',
};

function fail(message: string, hint?: string): never {
  throw new StudioError('settings', message, hint);
}

function integerIn(cfg: TrainConfig, key: keyof TrainConfig, min: number, max: number, label: string): void {
  const v = cfg[key] as number;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${label} must be a whole number, got ${String(v)}.`);
  if (v < min || v > max) fail(`${label} must be between ${min} and ${max}, got ${v}.`);
}

/** Checks a configuration against itself and the data; returns it with defaults filled in. */
export function validateTrainConfig(partial: Partial<TrainConfig>, data?: { trainExamples: number; tasks: number }): TrainConfig {
  const cfg: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...partial };
  integerIn(cfg, 'steps', 1, 1_000_000, 'Steps');
  integerIn(cfg, 'numVirtualTokens', 1, 1000, 'Virtual tokens');
  integerIn(cfg, 'batchSize', 1, 4096, 'Batch size');
  integerIn(cfg, 'gradientAccumulation', 1, 1024, 'Gradient accumulation');
  integerIn(cfg, 'warmupSteps', 0, 1_000_000, 'Warm-up steps');
  integerIn(cfg, 'evalEvery', 1, 1_000_000, 'Evaluate every');
  integerIn(cfg, 'projectEvery', 1, 1_000_000, 'Project every');
  integerIn(cfg, 'checkpointEvery', 1, 1_000_000, 'Checkpoint every');
  integerIn(cfg, 'earlyStoppingPatience', 0, 1000, 'Early-stopping patience');
  integerIn(cfg, 'maxLength', 4, 1_000_000, 'Max length');
  integerIn(cfg, 'encoderHiddenSize', 0, 65536, 'Encoder width');
  integerIn(cfg, 'encoderNumLayers', 1, 8, 'Encoder layers');
  integerIn(cfg, 'numRanks', 1, 64, 'Task rank');
  integerIn(cfg, 'maxEvalExamples', 0, 10_000_000, 'Evaluation examples');
  integerIn(cfg, 'evalBatchSize', 1, 4096, 'Evaluation batch size');
  integerIn(cfg, 'projectionTopK', 1, 100, 'Nearest tokens shown');
  if (!Number.isSafeInteger(cfg.seed)) fail(`The seed must be a whole number, got ${String(cfg.seed)}.`);
  if (typeof cfg.learningRate !== 'number' || !Number.isFinite(cfg.learningRate) || cfg.learningRate <= 0) {
    fail(`The learning rate must be a positive number, got ${String(cfg.learningRate)}.`, 'The paper used 0.3 with Adafactor; 0.1 suits AdamW.');
  }
  if (cfg.learningRate > 100) fail(`A learning rate of ${cfg.learningRate} would diverge at once; use at most 100.`);
  if (!Number.isFinite(cfg.weightDecay) || cfg.weightDecay < 0) fail(`Weight decay must be 0 or more, got ${String(cfg.weightDecay)}.`);
  if (!Number.isFinite(cfg.maxGradNorm) || cfg.maxGradNorm < 0) fail(`The gradient clipping norm must be 0 or more, got ${String(cfg.maxGradNorm)}.`);
  if (!cfg.template.includes('{text}')) fail('The template must contain {text}, where each example\'s text goes.');
  if (!['prompt', 'ptuning-mlp', 'ptuning-lstm', 'prefix', 'multitask'].includes(cfg.method)) fail(`Unknown method "${cfg.method}".`);
  if (!['random', 'vocab', 'text', 'labels'].includes(cfg.init)) fail(`Unknown initialization "${cfg.init}".`);
  if (!['adafactor', 'adamw'].includes(cfg.optimizer)) fail(`Unknown optimizer "${cfg.optimizer}".`);
  if (cfg.init === 'text' && !cfg.initText.trim()) fail('Text initialization needs an init text.', 'Type a phrase that describes the task.');
  if (data) {
    if (cfg.batchSize > data.trainExamples) {
      fail(`The batch size (${cfg.batchSize}) is larger than the training split (${data.trainExamples} examples).`,
        `Use a batch size of at most ${data.trainExamples}.`);
    }
    if (cfg.method === 'multitask' && data.tasks < 1) fail('Multitask prompt tuning needs a task column.', 'Map a column as the task, or choose another method.');
  }
  return cfg;
}
