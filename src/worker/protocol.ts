/**
 * The one typed protocol between the page and the engine worker. The page sends
 * requests ({id, method, args}) and receives exactly one reply per id ({id, ok, ...});
 * the worker also pushes events (progress, tokens, training steps) at any time.
 * Both sides import these types; nothing else crosses the boundary.
 */
import type { BackendChoice, BackendPreference } from '../engine/backend';
import type { ModelFacts } from '../engine/session';
import type { ColumnMapping, Delimiter, RowProblem, TextEncodingName } from '../data';
import type { TrainConfig } from '../tuning/config';
import type { ClassificationReport } from '../tuning/metrics';
import type { Projection } from '../tuning/projection';
import type { RunSummary, StepEvent } from '../tuning/trainer';

export type ModelSourceSpec =
  | { kind: 'url'; url: string; label?: string }
  | { kind: 'hub'; repo: string; revision: string }
  | { kind: 'files'; files: { name: string; file: File }[] };

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
}

export interface StartTrainingArgs {
  config: Partial<TrainConfig>;
  verbalizer: Record<string, string>;
  /** A studio checkpoint to continue from (bytes of the .safetensors checkpoint). */
  resumeFrom?: ArrayBuffer;
}

export interface RunInfo {
  runId: string;
  config: TrainConfig;
  labels: string[];
  trainCount: number;
  validationCount: number;
  truncated: number;
  startStep: number;
}

/** Every request: its arguments and what a successful reply carries. */
export interface Requests {
  init: { args: { backend: BackendPreference; flags?: Record<string, number | boolean> }; result: BackendChoice };
  loadModel: { args: { source: ModelSourceSpec }; result: ModelFacts };
  generate: { args: GenerateArgs; result: { promptIds: number[]; generatedIds: number[]; text: string } };
  loadTable: { args: { fileName: string; bytes: ArrayBuffer }; result: TableSummary };
  buildDataset: { args: { mapping: ColumnMapping; split: SplitOptions }; result: DatasetSummary };
  startTraining: { args: StartTrainingArgs; result: RunInfo };
  pause: { args: Record<string, never>; result: null };
  resume: { args: Record<string, never>; result: null };
  stop: { args: Record<string, never>; result: null };
  evaluate: { args: { variant: PromptVariant }; result: EvaluationSummary };
  project: { args: { task?: number }; result: ProjectionSummary };
  predict: { args: { texts: string[]; variants: PromptVariant[] }; result: Prediction[] };
  exportAdapter: { args: Record<string, never>; result: { fileName: string; bytes: ArrayBuffer } };
  exportPredictions: { args: Record<string, never>; result: { fileName: string; csv: string } };
}

export type Method = keyof Requests;

/** Requests answered at once, even while another request or a training run is busy. */
export const IMMEDIATE_METHODS: readonly Method[] = ['pause', 'resume', 'stop'];

export type RequestMessage = {
  [M in Method]: { id: number; method: M; args: Requests[M]['args'] };
}[Method];

export type ReplyMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError };

export interface SerializedError {
  code: string;
  message: string;
  hint?: string;
}

export type WorkerEvent =
  | { event: 'loadProgress'; file: string; loaded: number; total: number | null }
  | { event: 'token'; requestId: number; tokenId: number; text: string }
  | { event: 'log'; level: 'info' | 'warn'; message: string }
  | { event: 'tableProgress'; fraction: number }
  | { event: 'trainingPhase'; runId: string; phase: 'preparing' | 'baseline' | 'training' | 'paused' | 'recovering' | 'finishing' | 'done' }
  | { event: 'baseline'; runId: string; variant: PromptVariant; evaluation: EvaluationSummary; prompt?: string }
  | { event: 'step'; runId: string; step: StepEvent }
  | { event: 'evaluation'; runId: string; variant: PromptVariant; evaluation: EvaluationSummary }
  | { event: 'projection'; runId: string; projection: ProjectionSummary }
  | { event: 'checkpoint'; runId: string; step: number; bytes: ArrayBuffer }
  | { event: 'trainingEnded'; runId: string; summary: RunSummary }
  /** The GPU device was lost; the run continues on `backend` from `resumedFromStep`. */
  | { event: 'deviceLost'; runId: string | null; reason: string; backend: BackendChoice; resumedFromStep: number | null }
  | { event: 'trainingError'; runId: string; error: SerializedError };

export type WorkerMessage = ReplyMessage | WorkerEvent;

export function isReply(m: WorkerMessage): m is ReplyMessage {
  return 'id' in m && 'ok' in m;
}
