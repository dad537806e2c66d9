/**
 * One wasm build at one thread count, kept open: the default model (and a larger synthetic one),
 * then a training step and the matmul rate whenever the driver asks.
 */
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { buildModel } from '../../src/model/build';
import type { CausalLM } from '../../src/model/types';
import { urlSource } from '../../src/model/sources';
import { wasmBackendOptions } from '../../src/worker/wasmAssets';
import { matmulFlopsPerSecond, measureTrainingStep } from '../step';
import { SYNTHETIC_MODELS, syntheticPackage } from '../synthetic';
import type { ThreadsMessage, ThreadsModel, ThreadsRequest } from './threadsProtocol';

const post = (m: ThreadsMessage) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);
let session: ModelSession | null = null;
const models = new Map<ThreadsModel, CausalLM>();

self.onmessage = async (e: MessageEvent<ThreadsRequest>) => {
  try {
    const request = e.data;
    if (request.kind === 'open') {
      // Without the thread scripts the engine starts wasm single-threaded, as a page that has none would.
      const { wasmPaths, wasmThreads } = wasmBackendOptions(request.threads);
      const backend = await selectBackend('wasm', request.build === 'threaded' ? { wasmPaths, wasmThreads } : { wasmPaths });
      session = await ModelSession.open(urlSource(new URL('/models/stories260K/', location.href).href), backend);
      models.set('stories260K', session.model);
      const names: Record<string, { name: string; parameters: number }> = { stories260K: { name: 'stories260K', parameters: session.pkg.weights.parameterCount() } };
      if (request.synthetic) {
        const pkg = syntheticPackage(SYNTHETIC_MODELS[0]);
        models.set('synthetic', buildModel(pkg));
        names.synthetic = { name: SYNTHETIC_MODELS[0].name, parameters: pkg.weights.parameterCount() };
      }
      post({ kind: 'opened', wasm: backend.wasm ?? null, models: names });
      return;
    }
    const model = models.get(request.model);
    if (!session || !model) throw new Error(`${request.model} is not open`);
    const step = await measureTrainingStep(model, session.tokenizer, request.shape, request.steps);
    post({ kind: 'measured', step, matmulFlopsPerSecond: await matmulFlopsPerSecond() });
  } catch (err) {
    post({ kind: 'error', text: (err as Error).stack ?? String(err) });
  }
};
