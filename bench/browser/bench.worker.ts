/**
 * The benchmark in the browser: the same engine code as the studio's worker, timed on
 * the backend the page asks for.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { urlSource } from '../../src/model/sources';
import { wasmBackendOptions } from '../../src/worker/wasmAssets';
import { benchModelsFor, measureOnBackend } from '../backendBench';
import { measureTrainingStep, matmulFlopsPerSecond } from '../step';
import type { BenchMessage, BenchRequest } from './protocol';

const post = (m: BenchMessage) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);
const started = performance.now();
const since = () => performance.now() - started;

self.onmessage = async (e: MessageEvent<BenchRequest>) => {
  try {
    const { backend: preference, grid, flags } = e.data;
    // The studio's own wasm set-up: the threaded build on every core (the bench page is cross-origin isolated, as the studio is).
    const backend = await selectBackend(preference, { flags, ...wasmBackendOptions() });
    const backendReady = since();
    const modelUrl = (id: string) => new URL(`/models/${id}/`, location.href).href;
    const session = await ModelSession.open(urlSource(modelUrl('stories260K')), backend);
    const modelLoaded = since();
    // The first step of the first shape: what a user waits for after opening the studio.
    const firstStep = grid.batches.length
      ? await measureTrainingStep(session.model, session.tokenizer, { batch: grid.batches[0], sequence: grid.sequences[0], virtualTokens: grid.virtualTokens[0], targets: 1 }, 1)
      : null;
    const firstStepDone = since();
    if (firstStep) post({ kind: 'log', text: `${tf.getBackend()}: first step after ${firstStepDone.toFixed(0)} ms` });

    const weightBytes = { int8Package: 0, float32Package: 0 };
    for (const [key, id] of [['int8Package', 'stories260K'], ['float32Package', 'stories260K-f32']] as const) {
      const before = tf.memory().numBytes;
      const s = await ModelSession.open(urlSource(modelUrl(id)), backend);
      weightBytes[key] = tf.memory().numBytes - before;
      s.dispose();
    }
    const matmul = await matmulFlopsPerSecond();
    const measured = await measureOnBackend({
      model: session.model, tokenizer: session.tokenizer, backend: tf.getBackend(), softwareAdapter: backend.adapter?.isFallbackAdapter ?? false,
      grid, models: benchModelsFor(grid), log: (text) => post({ kind: 'log', text }),
    });
    session.dispose();
    post({
      kind: 'done', backend, matmulFlopsPerSecond: matmul, weightBytes,
      milestones: { backendReady, modelLoaded, firstStepDone }, firstStep, ...measured,
    });
  } catch (err) {
    post({ kind: 'error', text: (err as Error).stack ?? String(err) });
  }
};
