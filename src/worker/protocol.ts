/**
 * The one typed protocol between the page and the engine worker. The page sends
 * requests ({id, method, args}) and receives exactly one reply per id ({id, ok, ...});
 * the worker also pushes events (progress, tokens, training steps) at any time.
 * Both sides import these types; nothing else crosses the boundary.
 */
import type { BackendChoice, BackendPreference } from '../engine/backend';
import type { ModelFacts } from '../engine/session';

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

/** Every request: its arguments and what a successful reply carries. */
export interface Requests {
  init: { args: { backend: BackendPreference; flags?: Record<string, number | boolean> }; result: BackendChoice };
  loadModel: { args: { source: ModelSourceSpec }; result: ModelFacts };
  generate: { args: GenerateArgs; result: { promptIds: number[]; generatedIds: number[]; text: string } };
}

export type Method = keyof Requests;

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
  /** A generated token, with the whole text so far (prompt included). */
  | { event: 'token'; requestId: number; tokenId: number; text: string }
  | { event: 'log'; level: 'info' | 'warn'; message: string };

export type WorkerMessage = ReplyMessage | WorkerEvent;

export function isReply(m: WorkerMessage): m is ReplyMessage {
  return 'id' in m && 'ok' in m;
}
