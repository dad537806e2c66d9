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
import { methodVariableNames } from './methods';
import type { MethodKind } from './methods/types';
import type { OptimizerKind, OptimizerState } from './optimizers';
import { describeFingerprint, type ModelFingerprint } from '../formats/fingerprint';
import { parseSafetensors, toFloat32, writeSafetensors, type SafetensorsFile, type TensorToWrite } from '../formats/safetensors';

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

function metaJson<T>(meta: Record<string, string>, key: string): T {
  const text = meta[key];
  if (text === undefined) checkpointError(`The checkpoint is incomplete: it has no "${key}" entry.`, 'It may be damaged; start a new run.');
  try {
    return JSON.parse(text) as T;
  } catch {
    return checkpointError(`The checkpoint's "${key}" entry is not valid JSON.`, 'It may be damaged; start a new run.');
  }
}

/**
 * `expectedFingerprint` is the loaded model's: a checkpoint of another model is refused,
 * naming both, before any tensor is read.
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
    checkpointError(`The checkpoint has format version ${meta.version}; this studio reads version ${CHECKPOINT_VERSION}.`);
  }
  const fingerprint = metaJson<ModelFingerprint>(meta, 'fingerprint');
  if (expectedFingerprint && fingerprint.sha256 !== expectedFingerprint.sha256) {
    checkpointError(`This checkpoint was trained on the model ${describeFingerprint(fingerprint)}, but the loaded model is ${describeFingerprint(expectedFingerprint)}.`,
      'Load the model the run was trained on, or start a new run.');
  }
  const tensor = (name: string) => {
    const t = file.tensors.get(name);
    if (!t) checkpointError(`The checkpoint is incomplete: it has no tensor "${name}".`, 'It may be damaged; start a new run.');
    return t;
  };
  const variables = metaJson<string[]>(meta, 'variables').map((name) => {
    const t = tensor(`variable/${name}`);
    return { name, shape: [...t.shape], data: toFloat32(t) };
  });
  const opt = metaJson<{ kind: OptimizerKind; step: number; slots: string[] }>(meta, 'optimizer');
  const optimizer: OptimizerState = {
    kind: opt.kind,
    step: opt.step,
    slots: opt.slots.map((name) => {
      const t = tensor(`optimizer/${name}`);
      return { name, shape: [...t.shape], data: toFloat32(t) };
    }),
  };
  const split: Record<string, number[]> = {};
  for (const name of metaJson<string[]>(meta, 'split')) {
    const t = tensor(`split/${name}`);
    if (t.dtype !== 'I32') checkpointError(`The checkpoint's split "${name}" is ${t.dtype}, not I32 example ids.`);
    // Read as integers: through float32 ids past 2^24 would come back rounded.
    const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
    split[name] = Array.from({ length: t.bytes.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true));
  }
  const rng = metaJson<Record<string, number>>(meta, 'rng');
  for (const [name, state] of Object.entries(rng)) {
    if (!isUint32(state)) checkpointError(`The checkpoint's random generator state "${name}" is ${JSON.stringify(state)}, not a 32-bit state.`);
  }
  const step = Number(meta.step);
  if (!Number.isInteger(step) || step < 0) checkpointError(`The checkpoint's step is ${JSON.stringify(meta.step)}, not a step count.`);
  return {
    method: meta.method as MethodKind,
    variables,
    optimizer,
    step,
    rng,
    split,
    trainingConfig: metaJson<Record<string, unknown>>(meta, 'training_config'),
    metrics: metaJson<unknown>(meta, 'metrics'),
    trainerState: metaJson<Record<string, unknown>>(meta, 'trainer_state'),
    fingerprint,
    createdAt: meta.created_at ?? '',
  };
}
