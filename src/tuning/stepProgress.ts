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
import type { CausalLM, LayerObserver, MlpRecompute } from '../model/types';
import type { StepProgress } from './events';

/** Whether the current backend computes each op as it is issued (wasm, cpu) rather than queueing it (webgpu, webgl). */
export function computesAtDispatch(backend: string = tf.getBackend()): boolean {
  return backend === 'wasm' || backend === 'cpu';
}

type Tape = { activeTape: { saved?: tf.Tensor[] }[] | null };

/**
 * tf.variableGrads of `f`, with `observer` (where not null) watching the model's layers
 * meanwhile. Abandoned midway (a throw: StepInterrupted), it leaves nothing behind: the
 * scope frees what the forward and backward made, and the tape is released by hand — tfjs
 * frees the copies it saved for the backward only when a backward completes.
 */
export function observedGradients(model: CausalLM, observer: LayerObserver | null, f: () => tf.Scalar, vars: tf.Variable[]) {
  const before = model.layerObserver;
  model.layerObserver = observer ?? before;
  try {
    return tf.tidy(() => tf.variableGrads(f, vars));
  } catch (e) {
    const state = (tf.engine() as unknown as { state: Tape }).state;
    state.activeTape?.forEach((node) => node.saved?.forEach((t) => t.dispose()));
    state.activeTape = null;
    throw e;
  } finally {
    model.layerObserver = before;
  }
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

/** Thrown between a step's layers when a pause or stop is requested: the step is abandoned, nothing of it applied. */
export class StepInterrupted extends Error {
  constructor() {
    super('the step was interrupted by a pause or stop request');
  }
}

/**
 * What watches a step's layers, where ops compute as they are issued (else null): progress
 * for `report`, and a check of `interrupted` that abandons the step (StepInterrupted).
 */
export function stepObserver(
  progress: Readonly<Parameters<typeof microBatchObserver>> | null, interrupted: (() => boolean) | null,
): LayerObserver | null {
  if (!computesAtDispatch() || (!progress && !interrupted)) return null;
  const report = progress ? microBatchObserver(...progress) : null;
  return (pass, done, layers) => {
    if (interrupted?.()) throw new StepInterrupted();
    report?.(pass, done, layers);
  };
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
