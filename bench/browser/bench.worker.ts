/**
 * The benchmark in the browser: the same engine code as the studio's worker, timed on
 * the backend the page asks for.
 */
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { buildModel } from '../../src/model/build';
import { urlSource } from '../../src/model/sources';
import { attentionElements, gridShapes, shapeBudget, syntheticBudget, syntheticStepBytes } from '../grid';
import { measureGeneration } from '../generation';
import { measureOverlap, measureTrainingStep, matmulFlopsPerSecond } from '../step';
import { SYNTHETIC_MODELS, syntheticPackage } from '../synthetic';
import type { BenchMessage, BenchRequest } from './protocol';

const post = (m: BenchMessage) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);
const started = performance.now();
const since = () => performance.now() - started;

self.onmessage = async (e: MessageEvent<BenchRequest>) => {
  try {
    const { backend: preference, grid, flags } = e.data;
    const backend = await selectBackend(preference, {
      flags,
      wasmPaths: {
        'tfjs-backend-wasm.wasm': wasmPlainUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
      },
    });
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
    const measurements = [];
    const budget = shapeBudget(tf.getBackend(), backend.adapter?.isFallbackAdapter ?? false);
    for (const { batch, sequence, virtualTokens } of gridShapes(grid)) {
      if (attentionElements({ batch, sequence, virtualTokens }) > budget) {
        post({ kind: 'log', text: `B=${batch} S=${sequence} P=${virtualTokens}: skipped (over this backend's memory/time budget)` });
        continue;
      }
      const m = await measureTrainingStep(session.model, session.tokenizer, { batch, sequence, virtualTokens, targets: 1 }, grid.steps);
      measurements.push(m);
      post({ kind: 'log', text: `B=${batch} S=${sequence} P=${virtualTokens}: ${m.stepMs.toFixed(1)} ms` });
    }
    const overlap = grid.overlap ? await measureOverlap(session.model, session.tokenizer, { ...grid.overlap, targets: 1 }, grid.overlap.steps) : null;
    if (overlap) post({ kind: 'log', text: `overlap: ${overlap.waitingMsPerStep.toFixed(1)} → ${overlap.overlappedMsPerStep.toFixed(1)} ms/step` });
    const synthetic = [];
    if (grid.synthetic) {
      for (const shape of SYNTHETIC_MODELS) {
        const pkg = syntheticPackage(shape);
      const needs = syntheticStepBytes(pkg.weights.parameterCount(), shape.vocabSize, 8, 85);
      const budgetOf = syntheticBudget(tf.getBackend(), backend.adapter?.isFallbackAdapter ?? false);
      if (needs > budgetOf) {
        const error = budgetOf === 0
          ? 'skipped: a step would take tens of minutes on this backend'
          : `skipped: a step needs about ${(needs / 2 ** 30).toFixed(1)} GiB, more than this backend holds`;
        synthetic.push({ model: shape.name, parameters: pkg.weights.parameterCount(), measurement: null, error });
        post({ kind: 'log', text: `${shape.name}: ${error}` });
        continue;
      }
        try {
          const model = buildModel(pkg);
          try {
            const m = await measureTrainingStep(model, session.tokenizer, { batch: 8, sequence: 64, virtualTokens: 20, targets: 1 }, 3);
            synthetic.push({ model: shape.name, parameters: pkg.weights.parameterCount(), measurement: m });
          } finally {
            model.dispose();
          }
        } catch (err) {
          synthetic.push({ model: shape.name, parameters: pkg.weights.parameterCount(), measurement: null, error: (err as Error).message });
        }
      }
    }
    const generation = await measureGeneration(session.model, session.tokenizer, grid.generation, (text) => post({ kind: 'log', text }));
    session.dispose();
    post({
      kind: 'done', backend, matmulFlopsPerSecond: matmul, weightBytes,
      milestones: { backendReady, modelLoaded, firstStepDone }, firstStep, grid: measurements, synthetic, generation, overlap,
    });
  } catch (err) {
    post({ kind: 'error', text: (err as Error).stack ?? String(err) });
  }
};
