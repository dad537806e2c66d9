/**
 * Floating-point operations of one prompt-tuning training step, counted from the shapes
 * (a multiply-add is 2 FLOPs). Only input gradients flow backward: the model is frozen, so
 * its weight gradients are never computed. Elementwise work (norms, RoPE, softmax) is
 * left out; it is small next to the products.
 */
import type { ModelConfig } from '../src/model/config';

export interface StepShape {
  batch: number;
  /** Tokens per row: [BOS] + text + target, without the virtual tokens. */
  sequence: number;
  virtualTokens: number;
  /** Target tokens per row (the label), scored through the LM head. */
  targets: number;
}

export function trainingStepFlops(cfg: ModelConfig, s: StepShape): { forward: number; backward: number; total: number } {
  const d = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKeyValueHeads * cfg.headDim;
  const t = s.sequence + s.virtualTokens; // positions per row
  const tokens = s.batch * t;
  const mlp = cfg.modelType === 'gpt2' ? 2 * d * cfg.intermediateSize : 3 * d * cfg.intermediateSize;
  const linearPerLayer = 2 * tokens * (d * q + 2 * d * kv + q * d + mlp);
  const attentionPerLayer = 2 * 2 * s.batch * cfg.numHeads * t * t * cfg.headDim; // q·kᵀ and p·v
  const head = 2 * s.batch * s.targets * d * cfg.vocabSize;
  const forward = cfg.numLayers * (linearPerLayer + attentionPerLayer) + head;
  // dx through each linear costs what its forward did; attention needs four products (dq, dk, dv, dp).
  const backward = cfg.numLayers * (linearPerLayer + 2 * attentionPerLayer) + head;
  return { forward, backward, total: forward + backward };
}

/**
 * The matmuls the memory plan adds: each MLP pre-activation the backward recomputes
 * (DecoderLM.mlpRecompute) is one more d → ffn product over every position. Not the model's
 * FLOPs — the step does them only to keep less — so reported beside the step's, not in them.
 */
export function recomputedMlpFlops(cfg: Pick<ModelConfig, 'hiddenSize' | 'intermediateSize'>, s: StepShape, recompute: number): number {
  return recompute * 2 * s.batch * (s.sequence + s.virtualTokens) * cfg.hiddenSize * cfg.intermediateSize;
}
