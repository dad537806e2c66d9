/** One wasm build at one thread count: the training step on the default model (and a larger one), and the matmul rate. */
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { buildModel } from '../../src/model/build';
import { urlSource } from '../../src/model/sources';
import { wasmBackendOptions } from '../../src/worker/wasmAssets';
import { matmulFlopsPerSecond, measureTrainingStep } from '../step';
import { SYNTHETIC_MODELS, syntheticPackage } from '../synthetic';
import type { ThreadsMessage, ThreadsRequest, ThreadsStep } from './threadsProtocol';

const post = (m: ThreadsMessage) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);

self.onmessage = async (e: MessageEvent<ThreadsRequest>) => {
  try {
    const { build, threads, shapes, steps, synthetic } = e.data;
    // Without the thread scripts the engine starts wasm single-threaded, as a page that has none would.
    const { wasmPaths, wasmThreads } = wasmBackendOptions(threads);
    const backend = await selectBackend('wasm', build === 'threaded' ? { wasmPaths, wasmThreads } : { wasmPaths });
    post({ kind: 'log', text: `${backend.wasm?.build}, ${backend.wasm?.threads} thread(s)` });
    const session = await ModelSession.open(urlSource(new URL('/models/stories260K/', location.href).href), backend);
    const matmul = await matmulFlopsPerSecond();
    const measured: ThreadsStep[] = [];
    for (const shape of shapes) {
      const m = await measureTrainingStep(session.model, session.tokenizer, shape, steps);
      measured.push({ model: 'stories260K', parameters: session.pkg.weights.parameterCount(), step: m });
      post({ kind: 'log', text: `B=${shape.batch} S=${shape.sequence} P=${shape.virtualTokens}: ${m.stepMs.toFixed(1)} ms` });
    }
    if (synthetic) {
      const pkg = syntheticPackage(SYNTHETIC_MODELS[0]);
      const model = buildModel(pkg);
      try {
        const m = await measureTrainingStep(model, session.tokenizer, { batch: 8, sequence: 64, virtualTokens: 20, targets: 1 }, 3);
        measured.push({ model: SYNTHETIC_MODELS[0].name, parameters: pkg.weights.parameterCount(), step: m });
        post({ kind: 'log', text: `${SYNTHETIC_MODELS[0].name}: ${m.stepMs.toFixed(1)} ms` });
      } finally {
        model.dispose();
      }
    }
    session.dispose();
    post({ kind: 'done', wasm: backend.wasm ?? null, matmulFlopsPerSecond: matmul, steps: measured });
  } catch (err) {
    post({ kind: 'error', text: (err as Error).stack ?? String(err) });
  }
};
