/**
 * The one typed protocol between the page and the engine worker. The page sends
 * requests ({id, method, args}) and receives exactly one reply per id ({id, ok, ...});
 * the worker also pushes events (progress, tokens, training steps) at any time.
 * Both sides import these types; nothing else crosses the boundary. The data the messages
 * carry is the engine's own vocabulary (engine/api.ts); this module adds only the envelope.
 */
import type {
  AdapterInfo, BackendChoice, BackendPreference, BatchPredictArgs, DatasetSummary, EngineEvent, EvaluationSummary, GenerateArgs,
  ImportAdapterArgs, LibraryEntry, ModelFacts, Prediction, ProjectionSummary, PromptVariant, RunInfo, SerializedError, SplitOptions,
  RunMemory, StartTrainingArgs, TableSummary, TokenLengths,
} from '../engine/api';
import type { ColumnMapping } from '../data';

export type ModelSourceSpec =
  | { kind: 'url'; url: string; label?: string }
  | { kind: 'hub'; repo: string; revision: string }
  | { kind: 'files'; files: { name: string; file: File }[] };

/** Every request: its arguments and what a successful reply carries. */
export interface Requests {
  /** `interrupt`: the page's flag for pause and stop requests (EngineClient.interrupt), where it can share memory. */
  init: { args: { backend: BackendPreference; flags?: Record<string, number | boolean>; interrupt?: SharedArrayBuffer }; result: BackendChoice };
  loadModel: { args: { source: ModelSourceSpec }; result: ModelFacts };
  generate: { args: GenerateArgs; result: { promptIds: number[]; generatedIds: number[]; text: string } };
  loadTable: { args: { fileName: string; bytes: ArrayBuffer }; result: TableSummary };
  buildDataset: { args: { mapping: ColumnMapping; split: SplitOptions }; result: DatasetSummary };
  /** The built dataset's token lengths with the loaded model's tokenizer, through this template. */
  tokenLengths: { args: { template: string; cap: number }; result: TokenLengths };
  /** What a run at these settings would hold in memory, or its refusal (a reply with the error), without starting it. */
  previewRun: { args: Pick<StartTrainingArgs, 'config' | 'verbalizer'>; result: RunMemory };
  startTraining: { args: StartTrainingArgs; result: RunInfo };
  pause: { args: Record<string, never>; result: null };
  resume: { args: Record<string, never>; result: null };
  stop: { args: Record<string, never>; result: null };
  /** The page is being hidden or closed: the running training takes a checkpoint at its next step. */
  checkpointSoon: { args: Record<string, never>; result: null };
  evaluate: { args: { variant: PromptVariant }; result: EvaluationSummary };
  project: { args: { task?: number }; result: ProjectionSummary };
  /** `continueTokens`: how many tokens the model may write after each text with each variant (0: none); `task`: a multitask prompt's task (0). */
  predict: { args: { texts: string[]; variants: PromptVariant[]; continueTokens?: number; task?: number }; result: Prediction[] };
  exportAdapter: { args: Record<string, never>; result: { fileName: string; bytes: ArrayBuffer } };
  exportCheckpoint: { args: Record<string, never>; result: { fileName: string; bytes: ArrayBuffer } };
  /** The loaded model for Python: a zip of one folder in Hugging Face layout, float32. */
  exportBaseModel: { args: Record<string, never>; result: { fileName: string; folder: string; blob: Blob } };
  importAdapter: {
    args: { fileName: string; zip?: ArrayBuffer; files?: { name: string; file: Blob }[]; fallback?: ImportAdapterArgs['fallback'] };
    result: AdapterInfo;
  };
  listLibrary: { args: Record<string, never>; result: LibraryEntry[] };
  addToLibrary: { args: { name: string }; result: LibraryEntry };
  removeFromLibrary: { args: { id: string }; result: null };
  batchPredict: { args: BatchPredictArgs & { bytes: ArrayBuffer }; result: { fileName: string; csv: string; rows: number; failed: number } };
  exportPredictions: { args: Record<string, never>; result: { fileName: string; csv: string } };
}

export type Method = keyof Requests;

/** Requests answered at once, even while another request or a training run is busy. */
export const IMMEDIATE_METHODS: readonly Method[] = ['pause', 'resume', 'stop', 'checkpointSoon'];

/** Requests that also set the shared interrupt flag as they leave, so a step under way ends between its layers. */
export const INTERRUPTING_METHODS: readonly Method[] = ['pause', 'stop'];

export type RequestMessage = {
  [M in Method]: { id: number; method: M; args: Requests[M]['args'] };
}[Method];

export type ReplyMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError };

/** Events are the engine's own, passed through. */
export type WorkerEvent = EngineEvent;

export type WorkerMessage = ReplyMessage | WorkerEvent;

export function isReply(m: WorkerMessage): m is ReplyMessage {
  return 'id' in m && 'ok' in m;
}
