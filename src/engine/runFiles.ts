/**
 * The files a run leaves behind, built from the engine's live objects: the resumable
 * studio checkpoint (a trainer snapshot plus what it was trained on) and the PEFT adapter
 * bundle. The byte formats live in src/formats; this module decides what goes in them, so
 * the worker and the CLI write the same bytes for the same run.
 */
import { StudioError } from '../errors';
import { adapterBundleFiles, writeAdapterZip, type AdapterBundleInput, type StudioInfo } from '../formats/bundle';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../tuning/checkpoint';
import { methodVariableNames } from '../tuning/methods';
import type { ModelFingerprint } from '../formats/fingerprint';
import type { ModelConfig } from '../model/config';
import { validateTrainConfig, type TrainConfig } from '../tuning/config';
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
}

/** What a checkpoint says about the run beyond the trainer's numbers. */
export interface RunRecord {
  config: TrainConfig;
  task: Pick<PreparedTask, 'labels' | 'verbalizer' | 'tasks' | 'template' | 'trainIds' | 'validationIds'>;
  history: EvaluationRecord[];
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
  history: EvaluationRecord[];
}

const sameIds = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A checkpoint read back for the loaded model (another model's is refused, naming both). */
export function decodeRunCheckpoint(bytes: Uint8Array, fingerprint: ModelFingerprint): DecodedRun {
  const c = readCheckpoint(bytes, fingerprint);
  const state = c.trainerState;
  const config = validateTrainConfig(c.trainingConfig as Partial<TrainConfig>);
  if (config.method !== c.method) {
    throw new StudioError('checkpoint', `The checkpoint says its method is ${c.method}, but its settings say ${config.method}.`, 'It may be damaged; start a new run.');
  }
  const history = ((c.metrics as { history?: EvaluationRecord[] } | null)?.history ?? []).filter((h) => typeof h?.step === 'number');
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
    verbalizer: (state.verbalizer ?? {}) as Record<string, string>,
    labels: (state.labels ?? []) as string[],
    split: { train: c.split.train ?? [], validation: c.split.validation ?? [] },
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
}

export interface AdapterExportInput {
  method: SoftPromptMethod;
  config: TrainConfig;
  task: Pick<PreparedTask, 'labels' | 'verbalizer' | 'tasks' | 'template'>;
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
    ...(x.task.tasks.length ? { tasks: x.task.tasks } : {}),
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
      ...(quantized ? ['The prompt was trained against the int8-quantized weights of the base model; load it on the float base model for PEFT (int8 quantization barely moves the embeddings).'] : []),
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
