/**
 * Where a long step or evaluation is, for the page and the CLI. A real-size model on a CPU
 * backend takes 20 s to minutes a step; without this the page would sit at "step 0" all
 * that time. Only where ops compute as they are issued (wasm, cpu) does the model's layer
 * loop follow the work itself; on WebGPU the same loop only queues it, and a step's
 * progress would race to 100% and then wait, so nothing is reported there.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerObserver } from '../model/types';
import type { StepProgress } from './events';

/** Whether the current backend computes each op as it is issued (wasm, cpu) rather than queueing it (webgpu, webgl). */
export function computesAtDispatch(backend: string = tf.getBackend()): boolean {
  return backend === 'wasm' || backend === 'cpu';
}

/**
 * The layer observer for one micro-batch of step `step`: the forward through the layers is
 * the first half of the micro-batch's share, the backward the second (for a frozen model the
 * backward computes input gradients only, about a forward's work, plus what it recomputes).
 */
export function microBatchObserver(
  step: number, microBatch: number, microBatches: number, started: number, report: (p: StepProgress) => void,
): LayerObserver {
  return (pass, done, layers) => {
    const within = (pass === 'forward' ? done : layers + done) / (2 * layers);
    report({
      step, fraction: (microBatch + within) / microBatches, pass, layer: done, layers, microBatch, microBatches,
      elapsedMs: performance.now() - started,
    });
  };
}
