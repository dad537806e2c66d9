/**
 * The page's side of the worker protocol: typed requests that resolve with the worker's
 * reply, and a subscription for the events it pushes.
 */
import type { SerializedError } from '../errors';
import type { Method, Requests, WorkerEvent, WorkerMessage } from './protocol';
import { INTERRUPTING_METHODS, isReply } from './protocol';

export class WorkerRequestError extends Error {
  constructor(readonly detail: SerializedError) {
    super(detail.hint ? `${detail.message} ${detail.hint}` : detail.message);
  }
}

type Listener = (e: WorkerEvent) => void;

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<Listener>();
  /**
   * Set as a pause or stop request leaves; the worker reads it between a training step's
   * layers (wasm, cpu: there a step runs to its end before the worker reads a message, minutes
   * at real size). Shared memory needs a cross-origin-isolated page, as the studio is; without
   * it null, and those requests wait for the step under way.
   */
  readonly interrupt: Int32Array | null = typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated
    ? new Int32Array(new SharedArrayBuffer(4)) : null;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => this.receive(e.data);
    worker.onerror = (e) => {
      const error = new WorkerRequestError({ code: 'worker', message: `The engine worker failed: ${e.message || 'unknown error'}.` });
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
  }

  /** `transfer`: buffers in `args` handed to the worker instead of copied (a CSV's bytes). */
  request<M extends Method>(
    method: M, args: Requests[M]['args'], onId?: (id: number) => void, transfer: Transferable[] = [],
  ): Promise<Requests[M]['result']> {
    const id = this.nextId++;
    onId?.(id);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.interrupt && INTERRUPTING_METHODS.includes(method)) Atomics.store(this.interrupt, 0, 1);
      this.worker.postMessage({ id, method, args }, transfer);
    });
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private receive(message: WorkerMessage): void {
    if (isReply(message)) {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      if (message.ok) p.resolve(message.result);
      else p.reject(new WorkerRequestError(message.error));
      return;
    }
    for (const l of this.listeners) l(message);
  }

  terminate(): void {
    this.worker.terminate();
  }
}
