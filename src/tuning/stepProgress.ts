/**
 * Where a long step or evaluation is, for the page and the CLI. A real-size model on a CPU
 * backend takes 20 s to minutes a step; without this the page would sit at "step 0" all
 * that time. Only where ops compute as they are issued (wasm, cpu) does the model's layer
 * loop follow the work itself; on WebGPU the same loop only queues it, and a step's
 * progress would race to 100% and then wait, so nothing is reported there.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../model/config';
import { mlpPreActivations } from '../model/memory';
import type { LayerObserver, MlpRecompute } from '../model/types';
import type { StepProgress } from './events';

/** Whether the current backend computes each op as it is issued (wasm, cpu) rather than queueing it (webgpu, webgl). */
export function computesAtDispatch(backend: string = tf.getBackend()): boolean {
  return backend === 'wasm' || backend === 'cpu';
}

/**
 * The forward's share of a training step's work. The model is frozen, so the backward computes
 * input gradients only — the forward's products once more — plus the MLP pre-activations it
 * recomputes instead of keeping (a product each); the attention's own products, a few percent
 * at these lengths, are left out.
 */
export function forwardShare(config: ModelConfig, recompute: MlpRecompute): number {
  const d = config.hiddenSize;
  const attention = 2 * d * config.numHeads * config.headDim + 2 * d * config.numKeyValueHeads * config.headDim;
  const perPreActivation = d * config.intermediateSize;
  const mlp = (mlpPreActivations(config) / config.numLayers + 1) * perPreActivation; // gate, up (or GPT-2's one), down
  const forward = config.numLayers * (attention + mlp);
  const recomputed = Math.min(Math.max(0, recompute), mlpPreActivations(config)) * perPreActivation;
  return forward / (2 * forward + recomputed);
}

/**
 * The layer observer for one micro-batch of step `step`: the forward through the layers is
 * the first `share` of the micro-batch's part of the step, the backward the rest, each layer
 * of a pass an equal part of it.
 */
export function microBatchObserver(
  step: number, microBatch: number, microBatches: number, started: number, share: number, report: (p: StepProgress) => void,
): LayerObserver {
  return (pass, done, layers) => {
    const within = pass === 'forward' ? share * (done / layers) : share + (1 - share) * (done / layers);
    report({
      step, fraction: (microBatch + within) / microBatches, pass, layer: done, layers, microBatch, microBatches,
      elapsedMs: performance.now() - started,
    });
  };
}
