/**
 * A resumable studio checkpoint: what PEFT's adapter does not hold and a run needs to go
 * on exactly where it stopped. Every method variable by name (P-tuning and prefix
 * encoders, multitask factors: PEFT keeps only their output), the optimizer's slots, the
 * step, the generators' uint32 states, which examples went to which split, the run's
 * settings and metric history, and the fingerprint of the model it was trained against.
 *
 * One safetensors file: tensors for the numbers (`variable/…`, `optimizer/…` F32,
 * `split/…` I32), `__metadata__` for the rest as JSON strings. Compact, readable by any
 * safetensors reader, and a single ArrayBuffer to transfer out of the worker.
 */
import { StudioError } from '../errors';
import { SETTINGS } from './config';
import { methodVariableNames } from './methods';
import { METHOD_KINDS } from './methods/catalog';
import type { MethodKind } from './methods/types';
import type { OptimizerKind, OptimizerState } from './optimizers';
import { describeFingerprint, type ModelFingerprint } from '../formats/fingerprint';
import { countNonFinite, parseSafetensors, toFloat32, writeSafetensors, type SafetensorsFile, type TensorToWrite } from '../formats/safetensors';

export const CHECKPOINT_FORMAT = 'prompt-tuning-studio/checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  method: MethodKind;
  /** In the method's `variables` order, named as PyTorch would name them (methods/index.ts methodVariableNames). */
  variables: NamedTensor[];
  optimizer: OptimizerState;
  /** Training steps taken. */
  step: number;
  /** Each generator's state (createRng(...).state()), by what it drives, e.g. { sampler: … }. */
  rng: Record<string, number>;
  /** Example ids per split, e.g. { train: […], validation: […] }. */
  split: Record<string, number[]>;
  /** The run's settings; opaque here. */
  trainingConfig: Record<string, unknown>;
  /** Evaluations so far; opaque here. */
  metrics: unknown;
  /** Anything else the trainer restores (sampler cursor, best step, …); opaque here. */
  trainerState: Record<string, unknown>;
  fingerprint: ModelFingerprint;
  /** ISO 8601. */
  createdAt: string;
}

function checkpointError(message: string, hint?: string): never {
  throw new StudioError('checkpoint', message, hint);
}

/** A method's variables with their names and current values. */
export async function namedMethodVariables(method: {
  kind: MethodKind;
  variables: readonly { shape: number[]; data(): Promise<unknown> }[];
}): Promise<NamedTensor[]> {
  const names = methodVariableNames(method.kind, method.variables.length);
  return Promise.all(method.variables.map(async (v, i) => ({
    name: names[i],
    shape: [...v.shape],
    data: (await v.data()) as Float32Array,
  })));
}

const isUint32 = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

export function writeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  const add = (name: string, t: TensorToWrite) => {
    if (name in tensors) throw new Error(`checkpoint tensor "${name}" given twice`);
    tensors[name] = t;
  };
  for (const v of c.variables) add(`variable/${v.name}`, { dtype: 'F32', shape: v.shape, data: v.data });
  for (const s of c.optimizer.slots) add(`optimizer/${s.name}`, { dtype: 'F32', shape: s.shape, data: s.data });
  for (const [name, ids] of Object.entries(c.split)) {
    if (!ids.every((id) => Number.isInteger(id) && id >= 0 && id <= 0x7fffffff)) throw new Error(`split "${name}" has ids that are not int32`);
    add(`split/${name}`, { dtype: 'I32', shape: [ids.length], data: Int32Array.from(ids) });
  }
  for (const [name, state] of Object.entries(c.rng)) {
    if (!isUint32(state)) throw new Error(`rng state "${name}" is ${state}, not a uint32`);
  }
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    method: c.method,
    step: String(c.step),
    variables: JSON.stringify(c.variables.map((v) => v.name)),
    optimizer: JSON.stringify({ kind: c.optimizer.kind, step: c.optimizer.step, slots: c.optimizer.slots.map((s) => s.name) }),
    rng: JSON.stringify(c.rng),
    split: JSON.stringify(Object.keys(c.split)),
    training_config: JSON.stringify(c.trainingConfig),
    metrics: JSON.stringify(c.metrics ?? null),
    trainer_state: JSON.stringify(c.trainerState),
    fingerprint: JSON.stringify(c.fingerprint),
    created_at: c.createdAt,
  };
  return writeSafetensors(tensors, metadata);
}

const DAMAGED = 'It may be damaged; start a new run, or resume from an earlier checkpoint.';

function metaJson(meta: Record<string, string>, key: string): unknown {
  const text = meta[key];
  if (text === undefined) checkpointError(`The checkpoint is incomplete: it has no "${key}" entry.`, DAMAGED);
  try {
    return JSON.parse(text);
  } catch {
    return checkpointError(`The checkpoint's "${key}" entry is not valid JSON.`, DAMAGED);
  }
}

/** A value for a message: short whatever it is. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNames = (x: unknown): x is string[] => Array.isArray(x) && x.every((n) => typeof n === 'string' && n !== '');

/** The largest step count a run can have (the settings table's bound). */
const MAX_STEP = SETTINGS.steps.type === 'integer' ? SETTINGS.steps.max : Number.MAX_SAFE_INTEGER;

/** Whether a fingerprint as stored is one: a SHA-256 in hex and a label for people. */
export function isModelFingerprint(x: unknown): x is ModelFingerprint {
  return isObject(x) && typeof x.sha256 === 'string' && /^[0-9a-f]{64}$/.test(x.sha256) && typeof x.label === 'string';
}

/**
 * `expectedFingerprint` is the loaded model's: a checkpoint of another model is refused,
 * naming both, before any tensor is read. Every metadata entry is checked for its type,
 * and every variable and optimizer value must be a finite number.
 */
export function readCheckpoint(bytes: Uint8Array | ArrayBuffer, expectedFingerprint?: ModelFingerprint): Checkpoint {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (data.byteLength >= 4 && data[0] === 0x50 && data[1] === 0x4b && data[2] === 3 && data[3] === 4) {
    checkpointError('This file is a zip archive, not a Prompt Tuning Studio checkpoint.',
      'If it is the studio\'s adapter download, unzip it and resume from the checkpoint.safetensors inside.');
  }
  if (data.byteLength > 8 && data[8] !== 0x7b) {
    checkpointError('This file is not a Prompt Tuning Studio checkpoint.', 'Load a checkpoint the studio saved.');
  }
  let file: SafetensorsFile;
  try {
    file = parseSafetensors(data, 'The checkpoint');
  } catch (e) {
    if (e instanceof StudioError) checkpointError(e.message, e.hint);
    throw e;
  }
  const meta = file.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    checkpointError('This file is not a Prompt Tuning Studio checkpoint.', 'Load a checkpoint the studio saved.');
  }
  if (Number(meta.version) !== CHECKPOINT_VERSION) {
    checkpointError(`The checkpoint has format version ${shown(meta.version)}; this studio reads version ${CHECKPOINT_VERSION}.`);
  }
  const fingerprint = metaJson(meta, 'fingerprint');
  if (!isModelFingerprint(fingerprint)) {
    checkpointError('The checkpoint does not say which model it was trained on (its "fingerprint" entry is not a model fingerprint).', DAMAGED);
  }
  if (expectedFingerprint && fingerprint.sha256 !== expectedFingerprint.sha256) {
    checkpointError(`This checkpoint was trained on the model ${describeFingerprint(fingerprint)}, but the loaded model is ${describeFingerprint(expectedFingerprint)}.`,
      'Load the model the run was trained on, or start a new run.');
  }
  const method = meta.method;
  if (!(METHOD_KINDS as readonly string[]).includes(method)) {
    checkpointError(`The checkpoint's method is ${shown(method)}, which is not one of ${METHOD_KINDS.join(', ')}.`, DAMAGED);
  }
  const step = Number(meta.step);
  if (!/^\d+$/.test(meta.step ?? '') || !Number.isSafeInteger(step)) checkpointError(`The checkpoint's step is ${shown(meta.step)}, not a step count.`, DAMAGED);
  if (step > MAX_STEP) {
    checkpointError(`The checkpoint's step is ${step.toLocaleString('en-US')}, more than the ${MAX_STEP.toLocaleString('en-US')} steps a run can have.`, DAMAGED);
  }
  const tensor = (name: string) => {
    const t = file.tensors.get(name);
    if (!t) checkpointError(`The checkpoint is incomplete: it has no tensor "${name}".`, DAMAGED);
    return t;
  };
  const finite = (name: string, values: Float32Array) => {
    const bad = countNonFinite(values);
    if (bad > 0) {
      checkpointError(`The checkpoint's tensor "${name}" holds ${bad.toLocaleString('en-US')} of ${values.length.toLocaleString('en-US')} values that are not finite numbers (NaN or infinity).`,
        'The run had diverged when it was saved: resume from an earlier checkpoint, or start a new run with a lower learning rate.');
    }
    return values;
  };
  const variableNames = metaJson(meta, 'variables');
  if (!isNames(variableNames)) checkpointError(`The checkpoint's "variables" entry is ${shown(variableNames)}, not a list of names.`, DAMAGED);
  const variables = variableNames.map((name) => {
    const t = tensor(`variable/${name}`);
    return { name, shape: [...t.shape], data: finite(`variable/${name}`, toFloat32(t)) };
  });
  const opt = metaJson(meta, 'optimizer');
  if (!isObject(opt) || !['adamw', 'adafactor'].includes(opt.kind as string) || !Number.isSafeInteger(opt.step) || (opt.step as number) < 0
    || (opt.step as number) > MAX_STEP || !isNames(opt.slots)) {
    checkpointError(`The checkpoint's "optimizer" entry is ${shown(opt)}, not an optimizer state (kind adamw or adafactor, a step, slot names).`, DAMAGED);
  }
  const optimizer: OptimizerState = {
    kind: opt.kind as OptimizerKind,
    step: opt.step as number,
    slots: (opt.slots as string[]).map((name) => {
      const t = tensor(`optimizer/${name}`);
      return { name, shape: [...t.shape], data: finite(`optimizer/${name}`, toFloat32(t)) };
    }),
  };
  const splitNames = metaJson(meta, 'split');
  if (!isNames(splitNames)) checkpointError(`The checkpoint's "split" entry is ${shown(splitNames)}, not a list of names.`, DAMAGED);
  const split: Record<string, number[]> = {};
  for (const name of splitNames) {
    const t = tensor(`split/${name}`);
    if (t.dtype !== 'I32') checkpointError(`The checkpoint's split "${name}" is ${t.dtype}, not I32 example ids.`);
    // Read as integers: through float32 ids past 2^24 would come back rounded.
    const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
    split[name] = Array.from({ length: t.bytes.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true));
    if (split[name].some((id) => id < 0)) checkpointError(`The checkpoint's split "${name}" holds negative example ids.`, DAMAGED);
  }
  const rng = metaJson(meta, 'rng');
  if (!isObject(rng)) checkpointError(`The checkpoint's "rng" entry is ${shown(rng)}, not the random generators' states.`, DAMAGED);
  for (const [name, state] of Object.entries(rng)) {
    if (!isUint32(state)) checkpointError(`The checkpoint's random generator state "${name}" is ${shown(state)}, not a 32-bit state.`);
  }
  const trainingConfig = metaJson(meta, 'training_config');
  if (!isObject(trainingConfig)) checkpointError(`The checkpoint's "training_config" entry is ${shown(trainingConfig)}, not the run's settings.`, DAMAGED);
  const trainerState = metaJson(meta, 'trainer_state');
  if (!isObject(trainerState)) checkpointError(`The checkpoint's "trainer_state" entry is ${shown(trainerState)}, not the trainer's state.`, DAMAGED);
  return {
    method: method as MethodKind,
    variables,
    optimizer,
    step,
    rng: rng as Record<string, number>,
    split,
    trainingConfig,
    metrics: metaJson(meta, 'metrics'),
    trainerState,
    fingerprint,
    createdAt: meta.created_at ?? '',
  };
}
