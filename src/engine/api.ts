/**
 * What the engine says to its callers, in plain data: the arguments of its calls, what they
 * return and the events it emits. The worker carries these to the page unchanged, and the
 * CLI and the tests receive them directly; so they live with the engine, not the transport.
 */
import type { ColumnMapping, Delimiter, RowProblem, TextEncodingName } from '../data';
import type { TrainConfig } from '../tuning/config';
import type { ClassificationReport } from '../tuning/metrics';
import type { Projection } from '../tuning/projection';
import type { RunSummary, StepEvent, StepProgress } from '../tuning/trainer';
import type { SerializedError } from '../errors';
import type { BackendChoice } from './backend';
import type { RunMemory } from './memoryBudget';

export type { RunMemory } from './memoryBudget';

export type { SerializedError } from '../errors';
export type { RunSummary, StepEvent } from '../tuning/trainer';
export type { TokenLengths } from '../tuning/tokenLengths';
export type { BackendChoice, BackendPreference } from './backend';
export type { ModelFacts } from './session';

export interface GenerateArgs {
  prompt: string;
  maxNewTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
}

/** What the page learns about an uploaded table (the rows stay in the worker). */
export interface TableSummary {
  fileName: string;
  columns: string[];
  rowCount: number;
  /** The first rows, for the preview. */
  preview: string[][];
  delimiter: Delimiter;
  hasHeader: boolean;
  encoding: TextEncodingName | null;
  problems: RowProblem[];
  warnings: string[];
  guess: ColumnMapping;
}

export interface SplitOptions {
  validationFraction: number;
  seed: number;
  /** null: random split even if the mapping names a split column. */
  splitColumn: string | null;
}

export interface DatasetSummary {
  labels: { name: string; count: number; trainCount: number; validationCount: number }[];
  tasks: string[];
  trainCount: number;
  validationCount: number;
  rejected: RowProblem[];
  warnings: string[];
  /** The default verbalizer for these labels (label → text the model scores). */
  verbalizer: Record<string, string>;
}

/** One evaluation as the page sees it (probabilities stay in the worker). */
export interface EvaluationSummary {
  step: number;
  loss: number;
  report: ClassificationReport;
  examples: number;
  /** The share of examples after which greedy decoding writes their label (model.generate's answer); absent in runs stored before it. */
  generationAccuracy?: number | null;
}

export interface ProjectionSummary {
  step: number;
  projection: Projection;
  tokens: Record<number, string>;
}

export type PromptVariant = 'soft' | 'zero-shot' | 'text' | 'discrete';

export interface Prediction {
  text: string;
  /** Label probabilities (softmax over label log-likelihoods), per prompt variant. */
  probabilities: Partial<Record<PromptVariant, number[]>>;
  /** What the model writes after the text, per prompt variant, where asked for (`continueTokens`). */
  continuations?: Partial<Record<PromptVariant, Continuation>>;
}

/**
 * The model's own words after the template-filled text: greedy, as PEFT's `model.generate`
 * writes by default, so the adapter card's Python lines print the same tokens.
 */
export interface Continuation {
  ids: number[];
  /** The new tokens as text, with the spaces they carry (a label word usually starts with one). */
  text: string;
  /** Ended on the model's end-of-text token before the token limit. */
  ended: boolean;
}

export interface StartTrainingArgs {
  config: Partial<TrainConfig>;
  verbalizer: Record<string, string>;
  /**
   * A studio checkpoint to continue from (bytes of the .safetensors checkpoint). The run
   * keeps the checkpoint's settings and verbalizer; `config.steps` may only extend it.
   */
  resumeFrom?: ArrayBuffer;
  /** Keep this id (a run resumed after a page reload stays the same run in the history). */
  runId?: string;
}

export interface ImportAdapterArgs {
  fileName: string;
  /** The exported zip. */
  zip?: ArrayBuffer | Uint8Array;
  /** Or a folder's files by relative path. */
  files?: Map<string, Uint8Array>;
  /** For a plain PEFT adapter (no studio.json): the page's current verbalizer and template. */
  fallback?: { verbalizer?: Record<string, string>; template?: string };
}

/** An imported adapter, now the current prompt. */
export interface AdapterInfo {
  runId: string;
  fileName: string;
  peftType: string;
  method: string;
  numVirtualTokens: number;
  labels: string[];
  verbalizer: Record<string, string>;
  template: string;
  tasks: string[];
  /** base_model_name_or_path from adapter_config.json. */
  baseModel: string;
  /** Whether it carried studio.json (exported by the studio). */
  fromStudio: boolean;
  /** The model it was trained on, per studio.json. */
  trainedOn: string | null;
  /** Whether that is the loaded model (null: unknown, a plain PEFT adapter). */
  fingerprintMatches: boolean | null;
  /** A resumable checkpoint rides along in the zip. */
  hasCheckpoint: boolean;
  metrics: Record<string, number | string> | null;
  /** The loaded data has its labels, so Evaluate works. */
  evaluable: boolean;
  /** What the import could not use as it was (a studio.json field replaced by a default, another model), in words. */
  warnings: string[];
  /** The imported prompt as the current run (what the page shows for a trained run). */
  run: RunInfo;
}

/** A prompt kept in the library. */
export interface LibraryEntry {
  id: string;
  name: string;
  method: string;
  numVirtualTokens: number;
  labels: string[];
  tasks: string[];
  template: string;
  /** Its latest validation accuracy, when known. */
  accuracy: number | null;
  /** Where it came from: "trained, step N" or the adapter's file name. */
  source: string;
}

export interface BatchPredictArgs {
  fileName: string;
  bytes: ArrayBuffer | Uint8Array;
  textColumn: string;
  /** The column naming each row's prompt (a library name)… */
  promptColumn?: string;
  /** …or one prompt for every row. */
  prompt?: string;
  /** For multitask prompts: the column naming each row's task. */
  taskColumn?: string;
  batchSize?: number;
}

export interface RunInfo {
  runId: string;
  config: TrainConfig;
  labels: string[];
  /** Multitask prompts: the task names, in task-id order, and each task's labels (indices into labels); empty otherwise. */
  tasks?: string[];
  taskLabels?: number[][];
  /** Label → the text the model scores for it (a resumed run keeps its own). */
  verbalizer: Record<string, string>;
  /** The longest label's target in tokens: how far the playground continues a free-text prompt. */
  targetTokens?: number;
  trainCount: number;
  validationCount: number;
  truncated: number;
  startStep: number;
  /** How the run uses memory, planned before it started; absent for a loaded adapter (nothing trains). */
  memory?: RunMemory;
}

/** How far the base model's download is: reading the model's source again, then writing its float32 weights. */
export interface BaseModelProgress {
  stage: 'reading' | 'writing';
  file: string;
  loaded: number;
  total: number | null;
}

export type EngineEvent =
  | { event: 'loadProgress'; file: string; loaded: number; total: number | null; fromCache: boolean }
  /** The base model's download: its source read again (its bytes are not kept once loaded), then its float32 weights written. */
  | ({ event: 'exportProgress'; what: 'baseModel' } & BaseModelProgress)
  | { event: 'token'; requestId: number; tokenId: number; text: string }
  | { event: 'log'; level: 'info' | 'warn'; message: string }
  | { event: 'tableProgress'; fraction: number }
  | { event: 'batchProgress'; done: number; total: number }
  | { event: 'trainingPhase'; runId: string; phase: 'preparing' | 'baseline' | 'training' | 'paused' | 'recovering' | 'finishing' | 'done' }
  | { event: 'baseline'; runId: string; variant: PromptVariant; evaluation: EvaluationSummary; prompt?: string }
  | { event: 'step'; runId: string; step: StepEvent }
  /** Within a slow step (wasm, cpu): how far it has got. Never stored; the next 'step' event supersedes it. */
  | { event: 'stepProgress'; runId: string; progress: StepProgress }
  /** Within a slow evaluation (wasm, cpu): `done` of `total` examples scored for `variant` (of step `step`'s prompt). */
  | { event: 'evaluationProgress'; runId: string; variant: PromptVariant; step: number; done: number; total: number }
  | { event: 'evaluation'; runId: string; variant: PromptVariant; evaluation: EvaluationSummary }
  | { event: 'projection'; runId: string; projection: ProjectionSummary }
  | { event: 'checkpoint'; runId: string; step: number; bytes: ArrayBuffer }
  | { event: 'trainingEnded'; runId: string; summary: RunSummary }
  /** The GPU device was lost; the run continues on `backend` from `resumedFromStep`. */
  | { event: 'deviceLost'; runId: string | null; reason: string; backend: BackendChoice; resumedFromStep: number | null }
  | { event: 'trainingError'; runId: string; error: SerializedError };

