/**
 * How fast this machine multiplies, measured on the backend in use: the yardstick of every
 * "ratio to matmul" in the bench, and, for a large model on a CPU backend, what the page
 * estimates a step's time from before the first step has run (a real-size step takes
 * tens of seconds there; a newcomer should see that before pressing Train, not after).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../model/config';
import type { FlopsDims } from '../model/flops';
import { LARGE_MODEL_PARAMETERS, type LargeModelFrom } from './memoryBudget';

/**
 * The backend's own float32 matmul speed (FLOP/s): an n×n by n×n product, the median of
 * many calls after a warm-up (up to `repeats`, or as many as fit in `budgetMs`, at least
 * five). One call takes ~15 ms on wasm here, so a mean of five swung between 13 and 22
 * GFLOP/s from run to run.
 */
export async function matmulFlopsPerSecond(n = 512, repeats = 25, budgetMs = 2000): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const once = async () => {
    const started = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    return performance.now() - started;
  };
  try {
    await once();
    await once();
    const times: number[] = [];
    const began = performance.now();
    while (times.length < repeats && (times.length < 5 || performance.now() - began < budgetMs)) times.push(await once());
    const ms = times.sort((x, y) => x - y)[Math.floor(times.length / 2)];
    return (2 * n ** 3) / (ms / 1000);
  } finally {
    tf.dispose([a, b]);
  }
}

/** What the page estimates a step's time from (model/flops.ts estimateCpuStepMs). */
export interface StepSpeed {
  /** The backend's float32 matmul rate when the model loaded, FLOP/s. */
  matmulFlopsPerSecond: number;
  backend: string;
  dims: FlopsDims;
}

/**
 * For a large model on wasm or cpu: this machine's matmul rate, measured now (about half
 * a second). Null elsewhere: the default model's first step comes within a second, and on
 * WebGPU no step has been measured against its matmul rate to estimate from.
 */
export async function measureStepSpeed(config: ModelConfig, parameters: number, from: LargeModelFrom = { parameters: LARGE_MODEL_PARAMETERS }): Promise<StepSpeed | null> {
  const backend = tf.getBackend();
  if (parameters < from.parameters || (backend !== 'wasm' && backend !== 'cpu')) return null;
  const { modelType, hiddenSize, numHeads, numKeyValueHeads, headDim, intermediateSize, numLayers, vocabSize } = config;
  return {
    matmulFlopsPerSecond: await matmulFlopsPerSecond(512, 25, 400),
    backend,
    dims: { modelType, hiddenSize, numHeads, numKeyValueHeads, headDim, intermediateSize, numLayers, vocabSize },
  };
}
