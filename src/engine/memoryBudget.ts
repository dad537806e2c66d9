/**
 * What a backend can hold, and whether a model or a run fits it — checked before anything
 * is allocated, so a setting that does not fit is refused with a sentence naming what does,
 * never met with a wasm abort ("Internal error: Aborted()") or a lost GPU device.
 *
 * The bytes come from model/memory.ts (the estimate, held against measured peaks by its
 * tests); this module adds the backends' limits and the search for what fits.
 */
import { StudioError } from '../errors';
import {
  evaluationBatchBytes, formatBytes, largestTensorBytes, mlpPreActivations, trainingStepBytes, weightBytes, type BatchShape, type MemoryDims,
} from '../model/memory';
import type { MlpRecompute } from '../model/types';
import { SETTINGS, type TrainConfig } from '../tuning/config';
import { PAD_MULTIPLE, type EncodedExample } from '../tuning/objective';
import type { PreparedTask } from '../tuning/task';
import type { BackendChoice } from './backend';

/** The wasm heap can grow to 4 GiB − 64 KiB; past this share, allocator slack and XNNPACK's scratch make growth risky. */
const WASM_HEAP_BYTES = 4294901760;
const USABLE_SHARE = 0.8;
/** WebGPU says nothing of a device's memory: a budget a laptop GPU (or a software adapter's RAM) can give one tab. */
const WEBGPU_BUDGET_BYTES = 4 * 2 ** 30;
/**
 * What a step's activations may take before the backward recomputes instead: within the room
 * left, and the step's peak, weights included, within `stepMemoryBytes` (the Step memory
 * setting: 1 GiB unless changed, under which a 135M model at batch 8 × 148 measures 0.9 GB).
 */
export function activationSpend(residentBytes: number, room: number, stepMemoryBytes = defaultStepMemoryBytes()): number {
  return Math.min(room, stepMemoryBytes - residentBytes);
}

function defaultStepMemoryBytes(): number {
  return SETTINGS.stepMemoryMiB.default * 2 ** 20;
}

export interface MemoryBudget {
  /** Bytes tensors may take in all, weights included. */
  bytes: number;
  /** The backend as messages name it. */
  label: string;
  /** The largest single tensor (one WebGPU buffer), or null for no such limit. */
  maxTensorBytes: number | null;
}

export function memoryBudget(choice: BackendChoice, overrideBytes?: number): MemoryBudget {
  switch (choice.backend) {
    case 'webgpu': {
      const limits = choice.adapter;
      return {
        bytes: overrideBytes ?? WEBGPU_BUDGET_BYTES,
        label: 'WebGPU',
        maxTensorBytes: limits ? Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize) : null,
      };
    }
    case 'wasm':
      return { bytes: overrideBytes ?? USABLE_SHARE * WASM_HEAP_BYTES, label: 'the wasm backend', maxTensorBytes: null };
    default:
      return { bytes: overrideBytes ?? USABLE_SHARE * WASM_HEAP_BYTES, label: `the ${choice.backend} backend`, maxTensorBytes: null };
  }
}

/** Refuses, right after config.json is read, a model whose weights alone would not fit. */
export function checkWeightsFit(dims: MemoryDims, budget: MemoryBudget, name: string): void {
  const bytes = weightBytes(dims);
  if (bytes > budget.bytes) {
    throw new StudioError('model',
      `${name} needs about ${formatBytes(bytes)} for its weights alone (int8), more than ${budget.label} holds here (about ${formatBytes(budget.bytes)}).`,
      'Choose a smaller model.');
  }
}

/** A training run's batches: the step's, and the evaluation's (scored against every label). */
export interface RunShapes {
  step: BatchShape;
  /** Label tokens scored per training row. */
  targetTokens: number;
  evaluation: BatchShape;
  labels: number;
  labelTokens: number;
  /** The shortest step sequence there is: [BOS], the template, one token of text and the target. */
  minSequence: number;
}

/** A run's memory plan against the backend's limit: RunInfo.memory, which the page and the CLI show. */
export interface RunMemory {
  /** Estimated peak bytes, weights included. */
  peakBytes: number;
  /** What the backend may hold in all, and its name as messages give it. */
  budgetBytes: number;
  backend: string;
  /** How many MLP pre-activations the backward makes again rather than keep: fewer bytes, one matmul more each. */
  mlpRecompute: MlpRecompute;
  /** All the model's MLP pre-activations (projections before the activation), which mlpRecompute counts against. */
  mlpPreActivations: number;
  /** Examples per evaluation batch (smaller than the step's batch where memory is short). */
  evaluationBatch: number;
  /** All of it in a sentence, for the page and the CLI. */
  note: string;
}

function fitsTensor(dims: MemoryDims, budget: MemoryBudget, shapes: RunShapes): boolean {
  return budget.maxTensorBytes === null || largestTensorBytes(dims, shapes.step, shapes.targetTokens, shapes.labels, shapes.labelTokens) <= budget.maxTensorBytes;
}

/**
 * How a run will use memory, or a refusal naming the largest batch and length that fit.
 * `residentBytes`: what the backend holds already (the weights, mostly).
 */
export function planTraining(dims: MemoryDims, budget: MemoryBudget, residentBytes: number, shapes: RunShapes, stepMemoryBytes = defaultStepMemoryBytes()): RunMemory {
  const room = budget.bytes - residentBytes;
  const stepBytes = (s: BatchShape, recompute: MlpRecompute) => trainingStepBytes(dims, s, shapes.targetTokens, recompute);
  const evalBytes = (batch: number) => evaluationBatchBytes(dims, { ...shapes.evaluation, batch }, shapes.labels, shapes.labelTokens);
  const most = mlpPreActivations(dims);
  const fits = (s: BatchShape) => stepBytes(s, most) <= room && fitsTensor(dims, budget, { ...shapes, step: s });
  if (!fits(shapes.step)) refuse(dims, budget, room, shapes, fits);
  const mlpRecompute = leastRecompute((r) => stepBytes(shapes.step, r), activationSpend(residentBytes, room, stepMemoryBytes), most);
  const step = stepBytes(shapes.step, mlpRecompute);
  // Evaluation runs between steps, beside the copies a step in flight holds: it may take what
  // the step does (or half the room), in smaller batches if need be.
  const soft = Math.max(step, room / 2);
  let evaluationBatch = shapes.evaluation.batch;
  while (evaluationBatch > 1 && evalBytes(evaluationBatch) > soft) evaluationBatch = Math.ceil(evaluationBatch / 2);
  // Not even one example within that: within the whole room, or the refusal that names it.
  if (evalBytes(evaluationBatch) > soft) {
    evaluationBatch = evaluationBatchThatFits(dims, budget, residentBytes, { ...shapes.evaluation, batch: 1 }, shapes.labels, shapes.labelTokens);
  }
  const peakBytes = residentBytes + Math.max(step, evalBytes(evaluationBatch));
  return {
    mlpRecompute, mlpPreActivations: most, evaluationBatch, peakBytes, budgetBytes: budget.bytes, backend: budget.label,
    note: describePlan(peakBytes, budget, mlpRecompute, most, stepMemoryBytes),
  };
}

/** The plan in a sentence, so a slower step on a large model is explained where it is seen. */
function describePlan(peakBytes: number, budget: MemoryBudget, recomputed: number, all: number, stepMemoryBytes: number): string {
  const peak = `Memory: about ${formatBytes(peakBytes)} at peak, of the ${formatBytes(budget.bytes)} ${budget.label} may hold here.`;
  if (recomputed === 0) return `${peak} The backward keeps every activation it needs.`;
  const which = recomputed === all ? `all ${all}` : `${recomputed} of the ${all}`;
  const within = stepMemoryBytes <= budget.bytes
    ? `the step memory setting (${Math.round(stepMemoryBytes / 2 ** 20)} MiB; more runs faster where there is room)` : `what ${budget.label} has left`;
  return `${peak} To keep a step within ${within}, the backward recomputes ${which} MLP projections' outputs `
    + `instead of keeping them: ${recomputed} more matmul${recomputed === 1 ? '' : 's'} each step.`;
}

/**
 * The least MLP recomputation (of `most`) whose step's activations stay within `spend`
 * (activationSpend): each one recomputed is one matmul more for [N, ffn] less kept, so the
 * count is searched, not stepped through levels. `most` when nothing fits.
 */
export function leastRecompute(stepBytes: (recompute: MlpRecompute) => number, spend: number, most: number): MlpRecompute {
  if (stepBytes(most) > spend) return most;
  let [low, high] = [0, most]; // stepBytes(high) ≤ spend; it falls as the count grows
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (stepBytes(mid) <= spend) high = mid;
    else low = mid + 1;
  }
  return high;
}

/**
 * The largest evaluation batch, at most `shape.batch`, whose scoring against `labels` labels
 * fits beside what the backend holds; a refusal when not even one example does.
 */
export function evaluationBatchThatFits(dims: MemoryDims, budget: MemoryBudget, residentBytes: number, shape: BatchShape, labels: number, labelTokens: number): number {
  const room = budget.bytes - residentBytes;
  const bytes = (batch: number) => evaluationBatchBytes(dims, { ...shape, batch }, labels, labelTokens);
  let batch = shape.batch;
  while (batch > 1 && bytes(batch) > room) batch = Math.ceil(batch / 2);
  if (bytes(batch) > room) {
    throw new StudioError('settings',
      `Scoring one example against ${labels} labels needs about ${formatBytes(bytes(1))}, more than ${budget.label} has left (about ${formatBytes(room)}).`,
      'Use fewer labels, shorter label texts, or a shorter max length.');
  }
  return batch;
}

function refuse(dims: MemoryDims, budget: MemoryBudget, room: number, shapes: RunShapes, fits: (s: BatchShape) => boolean): never {
  const { step } = shapes;
  const need = trainingStepBytes(dims, step, shapes.targetTokens, mlpPreActivations(dims));
  const prompt = step.promptTokens + step.prefixTokens;
  const what = `A training step at batch ${step.batch} × ${step.sequence} tokens${prompt ? ` (+${prompt} virtual tokens)` : ''}`;
  let batch = step.batch;
  while (batch > 1 && !fits({ ...step, batch })) batch--;
  let sequence = step.sequence;
  while (sequence - 8 >= shapes.minSequence && !fits({ ...step, sequence })) sequence -= 8;
  const ways: string[] = [];
  if (fits({ ...step, batch })) ways.push(`a batch size of at most ${batch} (gradient accumulation keeps the effective batch)`);
  if (fits({ ...step, sequence })) ways.push(`a max length of at most ${sequence - shapes.targetTokens} tokens`);
  if (!fitsTensor(dims, budget, shapes) && need <= room) {
    throw new StudioError('settings',
      `${what} needs a tensor of ${formatBytes(largestTensorBytes(dims, step, shapes.targetTokens, shapes.labels, shapes.labelTokens))}, over this GPU's ${formatBytes(budget.maxTensorBytes!)} limit for one buffer.`,
      ways.length ? `Use ${ways.join(', or ')}.` : 'Use a smaller batch or a shorter max length.');
  }
  throw new StudioError('settings',
    `${what} needs about ${formatBytes(need)}, more than ${budget.label} has left here (about ${formatBytes(room)} beside the model).`,
    ways.length ? `Use ${ways.join(', or ')}.` : 'Even one short example does not fit: choose a smaller model, or fewer virtual tokens.');
}

const padded = (n: number) => Math.ceil(n / PAD_MULTIPLE) * PAD_MULTIPLE;
const longest = (examples: readonly EncodedExample[], withTarget: boolean) =>
  examples.reduce((a, e) => Math.max(a, e.inputIds.length + (withTarget ? e.targetIds.length : 0)), 1);

/**
 * The batches a run will make, from its prepared data and settings: the longest training
 * row (input and target) and the longest validation input, padded as the objective pads
 * them; the text baseline's instruction (`instructionTokens`) precedes the input when it
 * is scored. `templateTokens`: [BOS] and the template around an empty text.
 */
export function runShapes(task: PreparedTask, config: TrainConfig, instructionTokens: number, templateTokens: number): RunShapes {
  const prefix = config.method === 'prefix';
  const p = config.numVirtualTokens;
  const targetTokens = task.train.reduce((a, e) => Math.max(a, e.targetIds.length), 1);
  const evaluated = config.maxEvalExamples > 0 ? task.validation.slice(0, config.maxEvalExamples) : task.validation;
  return {
    step: { batch: config.batchSize, sequence: padded(longest(task.train, true)), promptTokens: prefix ? 0 : p, prefixTokens: prefix ? p : 0 },
    targetTokens,
    evaluation: {
      batch: config.evalBatchSize,
      sequence: padded(Math.max(longest(evaluated, false), 1)),
      promptTokens: Math.max(prefix ? 0 : p, instructionTokens),
      prefixTokens: prefix ? p : 0,
    },
    // Target scoring continues each input with its own target only: one label's worth of work.
    labels: task.scoring === 'target' ? 1 : task.labels.length,
    labelTokens: task.labelIds.reduce((a, l) => Math.max(a, l.length), 1),
    minSequence: templateTokens + 1 + targetTokens,
  };
}

/** Settings a newly loaded model trains well at here (null: the defaults are fine), and why. */
export interface SuggestedSettings {
  batchSize: number;
  maxLength: number;
  /** One sentence: what the suggestion is for. */
  reason: string;
  /** A short run that shows a first accuracy within minutes, not hours (README, "what to choose"). */
  firstLook: FirstLook;
}

export interface FirstLook {
  batchSize: number;
  maxLength: number;
  steps: number;
  maxEvalExamples: number;
}

/** Past this many parameters the defaults (batch 16, max length 128) are tuned for the small default model, not this one. */
export const LARGE_MODEL_PARAMETERS = 20e6;

/** From how many parameters a model counts as large (an object, so that a test hook can lower it in a running worker). */
export interface LargeModelFrom {
  parameters: number;
}

/**
 * A first look at a large model on a CPU: a ~135M model at 4 × 64 for 50 steps (about 10 min
 * here), one of 360M-0.5B at 2 × 64 for 20 steps (about 15 min), scoring fewer validation
 * examples than the default 300, each of which is a forward pass of the whole model.
 */
function firstLookFor(parameters: number, batchThatFits: number): FirstLook {
  const small = parameters < 200e6;
  return { batchSize: Math.min(small ? 4 : 2, batchThatFits), maxLength: 64, steps: small ? 50 : 20, maxEvalExamples: small ? 100 : 50 };
}

/**
 * For a model past the default's size: batch 8 at max length 128 and 20 virtual tokens (a
 * step of seconds, not minutes, on a CPU; PEFT's examples train such models at batch 8), or
 * the largest batch below that whose step fits what the backend has left, counted as the
 * engine runs it (MLP pre-activations recomputed past 1 GiB at peak). Null for a small model.
 */
export function suggestSettings(
  dims: MemoryDims, parameters: number, budget: MemoryBudget, residentBytes: number, from: LargeModelFrom = { parameters: LARGE_MODEL_PARAMETERS },
): SuggestedSettings | null {
  if (parameters < from.parameters) return null;
  const maxLength = 128;
  const room = budget.bytes - residentBytes;
  const shape = (batch: number) => ({ batch, sequence: maxLength + 8, promptTokens: 20, prefixTokens: 0 });
  const step = (batch: number) => {
    const bytes = (r: MlpRecompute) => trainingStepBytes(dims, shape(batch), 2, r);
    return bytes(leastRecompute(bytes, activationSpend(residentBytes, room), mlpPreActivations(dims)));
  };
  let batchSize = 8;
  while (batchSize > 1 && step(batchSize) > room) batchSize /= 2;
  const millions = Math.round(parameters / 1e6);
  // Where the step recomputes at the default Step memory but keeping everything would fit, say what that takes.
  const keepAll = trainingStepBytes(dims, shape(batchSize), 2, 0);
  const keepAllMiB = Math.ceil((residentBytes + keepAll) / 2 ** 20 / 64) * 64;
  const faster = keepAll > step(batchSize) && keepAll <= room
    ? ` With Step memory (Advanced) at ${keepAllMiB.toLocaleString('en-US')} MiB or more nothing is recomputed: the same numbers in less time, if this machine can spare the memory.` : '';
  return {
    batchSize,
    maxLength,
    firstLook: firstLookFor(parameters, batchSize),
    reason: `A ${millions}M-parameter model takes about ${formatBytes(step(batchSize))} a step at batch ${batchSize} and max length ${maxLength} on ${budget.label}; larger batches cost memory and time in proportion.${faster}`,
  };
}
