/**
 * The engine's home in the browser: a module Web Worker, so the page never waits on a
 * tensor. A thin shell: it decodes requests, calls the engine and posts replies and events.
 */
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { selectBackend, type BackendChoice } from '../engine/backend';
import { ModelSession } from '../engine/session';
import { StudioError, isStudioError } from '../errors';
import { fileListSource, urlSource } from '../model/sources';
import type { ModelSource } from '../model/package';
import type { Method, ModelSourceSpec, ReplyMessage, RequestMessage, Requests, WorkerEvent } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let backend: BackendChoice | null = null;
let session: ModelSession | null = null;

function post(message: ReplyMessage | WorkerEvent): void {
  scope.postMessage(message);
}

function sourceFor(spec: ModelSourceSpec): ModelSource {
  switch (spec.kind) {
    case 'url':
      return urlSource(spec.url, { description: spec.label ?? spec.url });
    case 'files':
      return fileListSource(spec.files, 'the chosen files');
    case 'hub':
      throw new StudioError('model', 'Loading from the Hugging Face hub is not available yet.');
  }
}

type Handler<M extends Method> = (args: Requests[M]['args'], id: number) => Promise<Requests[M]['result']>;

const handlers: { [M in Method]: Handler<M> } = {
  async init({ backend: preference, flags }) {
    backend = await selectBackend(preference, {
      flags,
      wasmPaths: {
        'tfjs-backend-wasm.wasm': wasmPlainUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
      },
    });
    return backend;
  },

  async loadModel({ source }) {
    if (!backend) throw new StudioError('model', 'The engine is not started yet.');
    const next = await ModelSession.open(sourceFor(source), backend, ({ file, loaded, total }) =>
      post({ event: 'loadProgress', file, loaded, total }));
    // Only a model that loaded completely replaces the current one.
    session?.dispose();
    session = next;
    return session.facts();
  },

  async generate({ prompt, maxNewTokens, temperature, topP, seed }, id) {
    if (!session) throw new StudioError('model', 'No model is loaded yet.');
    const current = session;
    const promptIds = current.promptIds(prompt);
    const ids = [...promptIds];
    // Decoding the whole text each time keeps SentencePiece's spaces and multi-byte characters right.
    return current.generate(prompt, {
      maxNewTokens, temperature, topP, seed,
      onToken: (tokenId) => {
        ids.push(tokenId);
        post({ event: 'token', requestId: id, tokenId, text: current.tokenizer.decode(ids, { skipSpecialTokens: true }) });
      },
    });
  },
};

// Requests run one at a time, in order: tfjs state is global and the GPU queue is shared.
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (e: MessageEvent<RequestMessage>) => {
  const { id, method, args } = e.data;
  queue = queue.then(async () => {
    try {
      const handler = handlers[method] as Handler<typeof method>;
      const result = await handler(args as never, id);
      post({ id, ok: true, result });
    } catch (err) {
      const error = isStudioError(err)
        ? { code: err.code, message: err.message, hint: err.hint }
        : { code: 'internal', message: `Internal error: ${(err as Error)?.message ?? String(err)}` };
      post({ id, ok: false, error });
    }
  });
};
