/**
 * The files a run leaves behind, built from the engine's live objects: the resumable
 * studio checkpoint (a trainer snapshot plus what it was trained on) and the PEFT adapter
 * bundle. The byte formats live in src/formats; this module decides what goes in them, so
 * the worker and the CLI write the same bytes for the same run.
 */
import { isStudioError, StudioError } from '../errors';
import {
  adapterBundleFiles, STUDIO_FILE, STUDIO_FORMAT, writeAdapterZip, type AdapterBundleInput, type BundleLimits, type StudioFile, type StudioInfo,
  type UncheckedStudioFile,
} from '../formats/bundle';
import { listSome } from '../formats/bytes';
import { Sha256, type ModelFingerprint } from '../formats/fingerprint';
import type { ModelDims, PeftType } from '../formats/peft';
import { isModelFingerprint, readCheckpoint, writeCheckpoint, type Checkpoint } from '../tuning/checkpoint';
import { methodVariableNames } from '../tuning/methods';
import { METHOD_CATALOG, METHOD_KINDS, type MethodKind } from '../tuning/methods/catalog';
import type { ModelConfig } from '../model/config';
import { SETTINGS, validateTrainConfig, type TrainConfig } from '../tuning/config';
import type { SoftPromptMethod } from '../tuning/methods/types';
import type { PreparedTask } from '../tuning/task';
import type { RunSnapshot } from '../tuning/trainer';

/** One evaluation as the checkpoint and studio.json keep it. */
export interface EvaluationRecord {
  step: number;
  variant: string;
  loss: number;
  accuracy: number;
  macroF1: number;
  /** How often greedy decoding wrote the label; absent in checkpoints from before it was measured. */
  generationAccuracy?: number | null;
}

/** What a checkpoint says about the run beyond the trainer's numbers. */
export interface RunRecord {
  config: TrainConfig;
  task: Pick<PreparedTask, 'labels' | 'verbalizer' | 'tasks' | 'template' | 'trainIds' | 'validationIds' | 'train' | 'validation'>;
  history: EvaluationRecord[];
}

const dataFingerprints = new WeakMap<object, string>();

/**
 * What the run's examples are, not only how many: a SHA-256 over every example of each
 * split as the model sees it (input tokens after the template and the cut, the label's
 * tokens, the task), in split order. Another CSV of the same size gives another value.
 * Computed once per prepared task.
 */
export function dataFingerprint(task: Pick<PreparedTask, 'train' | 'validation'>): string {
  const known = dataFingerprints.get(task);
  if (known) return known;
  const hash = new Sha256();
  for (const split of [task.train, task.validation]) {
    hash.update(`split ${split.length}\n`);
    for (const e of split) {
      const numbers = Int32Array.from([e.inputIds.length, ...e.inputIds, e.targetIds.length, ...e.targetIds, e.task]);
      hash.update(new Uint8Array(numbers.buffer));
    }
  }
  const hex = hash.digestHex();
  dataFingerprints.set(task, hex);
  return hex;
}

export function encodeRunCheckpoint(snapshot: RunSnapshot, run: RunRecord, fingerprint: ModelFingerprint, method: SoftPromptMethod['kind']): Uint8Array {
  const names = methodVariableNames(method, snapshot.variables.length);
  const checkpoint: Checkpoint = {
    method,
    variables: snapshot.variables.map((v, i) => ({ name: names[i], shape: v.shape, data: v.data })),
    optimizer: snapshot.optimizer,
    step: snapshot.step,
    rng: { sampler: snapshot.samplerRngState, samplerEpochStart: snapshot.samplerEpochStartState },
    split: { train: run.task.trainIds, validation: run.task.validationIds },
    trainingConfig: { ...run.config },
    metrics: { history: run.history },
    trainerState: {
      dataFingerprint: dataFingerprint(run.task),
      samplerCursor: snapshot.samplerCursor,
      bestStep: snapshot.bestStep,
      labels: run.task.labels,
      verbalizer: run.task.verbalizer,
      tasks: run.task.tasks,
      template: run.task.template,
    },
    fingerprint,
    createdAt: new Date().toISOString(),
  };
  return writeCheckpoint(checkpoint);
}

export interface DecodedRun {
  snapshot: RunSnapshot;
  config: TrainConfig;
  verbalizer: Record<string, string>;
  labels: string[];
  split: { train: number[]; validation: number[] };
  /** dataFingerprint of the run's task; null in checkpoints written before it was kept. */
  dataFingerprint: string | null;
  history: EvaluationRecord[];
}

/** A stored settings record read against the settings table, one setting at a time. */
export interface StoredSettings {
  /** The settings that passed their own check. */
  valid: Partial<TrainConfig>;
  /** Each setting that did not, with the table's sentence for it. */
  problems: { key: keyof TrainConfig; message: string }[];
  /** Keys the table does not have. */
  unknown: string[];
}

/**
 * Checks each setting of a record written to a file (studio.json's trainingConfig, a
 * checkpoint's training_config) alone against the settings table (validateTrainConfig
 * with only that setting given), so every problem is named by its setting.
 */
export function readStoredSettings(record: Record<string, unknown>): StoredSettings {
  const out: StoredSettings = { valid: {}, problems: [], unknown: [] };
  for (const [key, value] of Object.entries(record)) {
    if (!Object.prototype.hasOwnProperty.call(SETTINGS, key)) {
      out.unknown.push(key);
      continue;
    }
    const k = key as keyof TrainConfig;
    // init is checked with its text, the one setting it depends on.
    const alone: Record<string, unknown> = k === 'init' ? { init: value, initText: typeof record.initText === 'string' ? record.initText : '' } : { [k]: value };
    try {
      validateTrainConfig(alone as Partial<TrainConfig>);
      (out.valid as Record<string, unknown>)[k] = value;
    } catch (e) {
      if (!isStudioError(e)) throw e;
      out.problems.push({ key: k, message: e.message });
    }
  }
  return out;
}

const checkpointSettingsError = (problems: StoredSettings['problems']) => new StudioError('checkpoint',
  `The checkpoint's settings are not valid: ${listSome(problems.map((p) => `${p.key}: ${p.message}`), 3, ' ')}`,
  'It may be damaged or written by another program; start a new run.');

const sameIds = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A checkpoint read back for the loaded model (another model's is refused, naming both). */
export function decodeRunCheckpoint(bytes: Uint8Array, fingerprint: ModelFingerprint): DecodedRun {
  const c = readCheckpoint(bytes, fingerprint);
  const state = c.trainerState;
  const stored = readStoredSettings(c.trainingConfig);
  if (stored.problems.length) throw checkpointSettingsError(stored.problems);
  let config: TrainConfig;
  try {
    config = validateTrainConfig(stored.valid);
  } catch (e) {
    if (!isStudioError(e)) throw e;
    throw checkpointSettingsError([{ key: 'template', message: e.message }]);
  }
  if (config.method !== c.method) {
    throw new StudioError('checkpoint', `The checkpoint says its method is ${c.method}, but its settings say ${config.method}.`, 'It may be damaged; start a new run.');
  }
  if (c.step > config.steps) {
    throw new StudioError('checkpoint', `The checkpoint is at step ${c.step.toLocaleString('en-US')}, past the ${config.steps.toLocaleString('en-US')} steps its run was set to.`,
      'It may be damaged; start a new run.');
  }
  const labels = state.labels ?? [];
  const verbalizer = state.verbalizer ?? {};
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')
    || typeof verbalizer !== 'object' || verbalizer === null || Array.isArray(verbalizer)
    || !Object.values(verbalizer).every((v) => typeof v === 'string')) {
    throw new StudioError('checkpoint', 'The checkpoint\'s labels or verbalizer are not readable.', 'It may be damaged; start a new run.');
  }
  const metrics = c.metrics as { history?: unknown } | null;
  const history = (Array.isArray(metrics?.history) ? metrics.history as EvaluationRecord[] : [])
    .filter((h) => typeof h === 'object' && h !== null && typeof h.step === 'number' && typeof h.variant === 'string');
  return {
    snapshot: {
      step: c.step,
      variables: c.variables.map((v) => ({ shape: v.shape, data: v.data })),
      optimizer: c.optimizer,
      samplerRngState: c.rng.sampler ?? 0,
      samplerEpochStartState: c.rng.samplerEpochStart ?? 0,
      samplerCursor: Number(state.samplerCursor ?? 0),
      bestStep: typeof state.bestStep === 'number' ? state.bestStep : null,
    },
    config,
    verbalizer: verbalizer as Record<string, string>,
    labels: labels as string[],
    split: { train: c.split.train ?? [], validation: c.split.validation ?? [] },
    dataFingerprint: typeof state.dataFingerprint === 'string' ? state.dataFingerprint : null,
    history,
  };
}

/** A resumed run must see the labels it was trained on (checked before its verbalizer meets the data). */
export function checkSameLabels(decoded: DecodedRun, labels: readonly string[]): void {
  if (decoded.labels.length && decoded.labels.join('\u0000') !== labels.join('\u0000')) {
    throw new StudioError('checkpoint',
      `The checkpoint was trained on the labels ${decoded.labels.join(', ')}, but the loaded data has ${labels.join(', ')}.`,
      'Load the CSV the run was trained on, with the same column mapping.');
  }
}

/** A resumed run must see the examples it was trained on, in the same split. */
export function checkSameSplit(decoded: DecodedRun, task: PreparedTask): void {
  checkSameLabels(decoded, task.labels);
  if (!sameIds(decoded.split.train, task.trainIds) || !sameIds(decoded.split.validation, task.validationIds)) {
    throw new StudioError('checkpoint',
      `The checkpoint was trained on a different split of the data (${decoded.split.train.length} training / ${decoded.split.validation.length} validation examples; now ${task.trainIds.length} / ${task.validationIds.length}).`,
      'Load the same CSV with the same column mapping, validation fraction and split seed.');
  }
  if (decoded.dataFingerprint !== null && decoded.dataFingerprint !== dataFingerprint(task)) {
    throw new StudioError('checkpoint',
      `The checkpoint was trained on other data: the split has the same size (${task.trainIds.length} training / ${task.validationIds.length} validation examples), but its texts or labels differ.`,
      'Load the CSV the run was trained on, with the same column mapping, validation fraction and split seed.');
  }
}

export interface AdapterExportInput {
  method: SoftPromptMethod;
  config: TrainConfig;
  task: Pick<PreparedTask, 'labels' | 'verbalizer' | 'tasks' | 'taskLabels' | 'template'>;
  modelConfig: ModelConfig;
  /** The hub id when the model came from the hub, else its name. */
  baseModel: string;
  fingerprint: ModelFingerprint;
  /** Latest metrics by name (accuracy, loss, baselines). */
  metrics: Record<string, number | string>;
  history: EvaluationRecord[];
  createdAt: string;
  checkpoint?: Uint8Array;
}

export async function adapterBundleInput(x: AdapterExportInput): Promise<AdapterBundleInput> {
  const studio: StudioInfo = {
    method: x.config.method,
    template: x.task.template,
    verbalizer: x.task.verbalizer,
    labels: x.task.labels,
    ...(x.task.tasks.length ? { tasks: x.task.tasks, taskLabels: x.task.taskLabels.map((ids) => ids.map((j) => x.task.labels[j])) } : {}),
    metrics: x.metrics,
    trainingConfig: { ...x.config },
    modelFingerprint: x.fingerprint,
    createdAt: x.createdAt,
  };
  const quantized = x.modelConfig.quantization !== null;
  return {
    exported: await x.method.exportPeft(),
    common: {
      baseModel: x.baseModel,
      model: x.modelConfig,
      numVirtualTokens: x.method.numVirtualTokens,
      init: { kind: x.config.init, ...(x.config.init === 'text' ? { text: x.config.initText } : {}) },
    },
    studio,
    notes: [
      // A hub id is owner/name; a folder the studio names has no slash (see engine/adapters pythonBaseModel).
      ...(quantized ? [x.baseModel.includes('/')
        ? 'The prompt was trained against the int8-quantized weights of the base model; from the hub, PEFT loads its original float weights, on which the scores can differ a little from the studio\'s (int8 quantization barely moves the embeddings).'
        : 'The prompt was trained against the int8-quantized weights of the base model. "Download base model" gives exactly those weights, dequantized to float32, so PEFT scores as the studio does.'] : []),
    ],
    ...(x.checkpoint ? { checkpoint: x.checkpoint } : {}),
  };
}

export async function adapterZip(x: AdapterExportInput): Promise<Uint8Array> {
  return writeAdapterZip(await adapterBundleInput(x));
}

export async function adapterFiles(x: AdapterExportInput): Promise<Map<string, Uint8Array>> {
  return adapterBundleFiles(await adapterBundleInput(x));
}

// ---- reading studio.json ---------------------------------------------------------------

/** studio.json read for the loaded model: each field checked, what could not be used said in `warnings`. */
export interface CheckedStudioFile {
  studio: StudioFile;
  /** The settings the prompt runs with: its own where valid, else the studio's defaults (each named in `warnings`). */
  config: TrainConfig;
  /** Null when the file's fingerprint is missing or unreadable (said in `warnings`). */
  fingerprint: ModelFingerprint | null;
  warnings: string[];
}

/** Settings that change what the prompt predicts: a bad one is refused, never replaced by a default. */
const PREDICTION_SETTINGS: readonly (keyof TrainConfig)[] = ['maxLength', 'truncateSide'];

const FIX_OR_REMOVE = `Fix that field, or remove ${STUDIO_FILE} to load the adapter on its own (its labels then come from your data).`;

function studioFieldError(message: string): never {
  throw new StudioError('adapter', `${STUDIO_FILE}: ${message}`, FIX_OR_REMOVE);
}

/** A value for a message, short whatever it is. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * studio.json's one schema: every field it has, checked for its type and against the
 * adapter it came with (the method against adapter_config.json's peft_type, the tasks
 * against the multitask weights). A field the predictions depend on (method, template,
 * labels, verbalizer, tasks, the max length and truncation side) must be right or the
 * file is refused, naming the field; a training setting only kept for the record (the
 * optimizer, the learning rate…) that is not valid is replaced by the default and named
 * in a warning, as are unreadable metrics, fingerprint and date.
 */
export function checkStudioFile(raw: UncheckedStudioFile, adapter: { peftType: PeftType; fallbackMethod: MethodKind; numVirtualTokens: number; numTasks: number | null }): CheckedStudioFile {
  const warnings: string[] = [];
  const method = raw.method ?? adapter.fallbackMethod;
  if (typeof method !== 'string' || !(METHOD_KINDS as readonly string[]).includes(method)) {
    studioFieldError(`"method" is ${shortJson(method)}, not one of ${METHOD_KINDS.join(', ')}.`);
  }
  const kind = method as MethodKind;
  if (METHOD_CATALOG[kind].peftType !== adapter.peftType) {
    throw new StudioError('adapter',
      `${STUDIO_FILE} says the method is ${kind} (exported as ${METHOD_CATALOG[kind].peftType}), but adapter_config.json's peft_type is ${adapter.peftType}.`,
      'The adapter\'s files do not belong together: load the folder or zip as the studio exported it.');
  }
  const template = raw.template;
  if (typeof template !== 'string') studioFieldError(`"template" is ${shortJson(template)}, not text.`);
  if (!template.includes('{text}')) studioFieldError(`"template" (${shortJson(template)}) has no {text}, where each example's text goes.`);

  const labels = raw.labels;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) studioFieldError(`"labels" is ${shortJson(labels)}, not a list of label names.`);
  if (labels.length < 2) studioFieldError(`"labels" lists ${labels.length === 0 ? 'no labels' : `only ${shortJson(labels)}`}; a prompt classifies among at least two.`);
  const blank = labels.find((l) => l.trim() === '');
  if (blank !== undefined) studioFieldError(`"labels" holds an empty label name.`);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice !== undefined) studioFieldError(`"labels" lists ${shortJson(twice)} twice.`);

  const verbalizer = raw.verbalizer;
  if (typeof verbalizer !== 'object' || verbalizer === null || Array.isArray(verbalizer)) studioFieldError(`"verbalizer" is ${shortJson(verbalizer)}, not an object of label → text.`);
  const words = verbalizer as Record<string, unknown>;
  for (const label of labels) {
    const text = Object.prototype.hasOwnProperty.call(words, label) ? words[label] : undefined;
    if (typeof text !== 'string' || text.trim() === '') {
      studioFieldError(`"verbalizer" has no text for the label ${shortJson(label)}${text === undefined ? '' : ` (it has ${shortJson(text)})`}.`);
    }
  }

  let tasks: string[] | undefined;
  if (raw.tasks !== undefined) {
    if (!Array.isArray(raw.tasks) || !raw.tasks.every((t) => typeof t === 'string' && t.trim() !== '')) studioFieldError(`"tasks" is ${shortJson(raw.tasks)}, not a list of task names.`);
    tasks = raw.tasks as string[];
  }
  if (adapter.numTasks !== null && tasks !== undefined && tasks.length !== adapter.numTasks) {
    studioFieldError(`"tasks" names ${tasks.length} task${tasks.length === 1 ? '' : 's'}, but the adapter's weights hold ${adapter.numTasks}.`);
  }
  // Each task's labels (files from before this field classify every task among all labels).
  const taskLabels = raw.taskLabels as string[][] | undefined;
  if (taskLabels !== undefined && !(tasks && Array.isArray(taskLabels) && taskLabels.length === tasks.length
    && taskLabels.every((own) => Array.isArray(own) && own.length >= 1 && own.every((l) => labels.includes(l))))) {
    studioFieldError(`"taskLabels" is ${shortJson(taskLabels)}, not one list of the prompt's labels per task in "tasks".`);
  }

  // Settings: each checked alone against the settings table.
  let record: Record<string, unknown> = {};
  if (typeof raw.trainingConfig === 'object' && raw.trainingConfig !== null && !Array.isArray(raw.trainingConfig)) {
    record = raw.trainingConfig as Record<string, unknown>;
  } else if (raw.trainingConfig !== undefined) {
    warnings.push(`${STUDIO_FILE}: "trainingConfig" is ${shortJson(raw.trainingConfig)}, not a settings object; the studio's defaults are shown for it.`);
  }
  const stored = readStoredSettings(record);
  for (const p of stored.problems) {
    if (PREDICTION_SETTINGS.includes(p.key)) studioFieldError(`trainingConfig.${p.key}: ${p.message}`);
  }
  const replaced = stored.problems.filter((p) => p.key !== 'method' && p.key !== 'numVirtualTokens' && p.key !== 'template');
  if (replaced.length) {
    warnings.push(`${STUDIO_FILE}: ${listSome(replaced.map((p) => `trainingConfig.${p.key}: ${p.message}`), 3, ' ')} `
      + `${replaced.length === 1 ? 'That setting is' : 'Those settings are'} shown with the studio's default; the predictions do not depend on ${replaced.length === 1 ? 'it' : 'them'}.`);
  }
  if (stored.unknown.length) {
    warnings.push(`${STUDIO_FILE}: trainingConfig has settings this studio does not know (${listSome(stored.unknown.map((k) => `"${k}"`))}); they were ignored.`);
  }
  // The method and prompt length are the weights'; the template is the file's own field.
  let config: TrainConfig;
  try {
    config = validateTrainConfig({ ...stored.valid, method: kind, numVirtualTokens: adapter.numVirtualTokens, template });
  } catch (e) {
    if (!isStudioError(e)) throw e;
    // Only a combination can fail here (text init without its text): keep the rest.
    warnings.push(`${STUDIO_FILE}: trainingConfig: ${e.message} The initialization is shown as the default.`);
    config = validateTrainConfig({ ...stored.valid, init: SETTINGS.init.default, method: kind, numVirtualTokens: adapter.numVirtualTokens, template });
  }

  let metrics: unknown = raw.metrics ?? null;
  if (metrics !== null && (typeof metrics !== 'object' || Array.isArray(metrics)
    || !Object.values(metrics as object).every((v) => typeof v === 'number' || typeof v === 'string'))) {
    warnings.push(`${STUDIO_FILE}: "metrics" is not a table of numbers, so the adapter's recorded metrics are not shown.`);
    metrics = null;
  }
  let fingerprint: ModelFingerprint | null = null;
  if (isModelFingerprint(raw.modelFingerprint)) fingerprint = raw.modelFingerprint;
  else warnings.push(`${STUDIO_FILE}: "modelFingerprint" is missing or unreadable, so the studio cannot check which model the prompt was trained on.`);
  let createdAt = raw.createdAt;
  if (typeof createdAt !== 'string' || !Number.isFinite(Date.parse(createdAt))) {
    if (createdAt !== undefined) warnings.push(`${STUDIO_FILE}: "createdAt" is ${shortJson(createdAt)}, not a date; an export takes today's date.`);
    createdAt = '';
  }
  const studio: StudioFile = {
    format: STUDIO_FORMAT,
    version: raw.version,
    baseModel: typeof raw.baseModel === 'string' ? raw.baseModel : '',
    method: kind,
    template,
    verbalizer: Object.fromEntries(labels.map((l) => [l, words[l] as string])),
    labels,
    ...(tasks ? { tasks } : {}),
    ...(taskLabels ? { taskLabels } : {}),
    metrics,
    trainingConfig: record,
    modelFingerprint: fingerprint as ModelFingerprint,
    createdAt: createdAt as string,
  };
  return { studio, config, fingerprint, warnings };
}

// ---- how much an adapter may hold ----------------------------------------------------------

const MiB = 2 ** 20;

/**
 * What an adapter zip's files may unpack to for this model: the prompt at the most
 * virtual tokens a run can have ([2P, widest] as F64: prefix tuning's layers·2·kv_dim, or
 * the hidden size) plus room, and a checkpoint three times that (the variables and two
 * optimizer slots) plus an encoder as wide as the model and the split's example ids.
 */
export function bundleLimits(model: ModelDims): BundleLimits {
  const maxP = SETTINGS.numVirtualTokens.type === 'integer' ? SETTINGS.numVirtualTokens.max : 1000;
  const d = model.hiddenSize;
  const widest = Math.max(d, model.numLayers * 2 * model.numKeyValueHeads * model.headDim);
  const prompt = 2 * maxP * widest;
  const encoder = 4 * d * (d + widest) + 16 * d * d;
  return {
    weights: 16 * MiB + 8 * prompt,
    checkpoint: 64 * MiB + 3 * 4 * (prompt + encoder),
    why: 'an adapter for this model can hold',
  };
}
