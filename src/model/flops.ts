/**
 * Floating-point operations of one prompt-tuning training step, counted from the shapes
 * (a multiply-add is 2 FLOPs), and the step time they mean on a CPU backend. Only input
 * gradients flow backward: the model is frozen, so its weight gradients are never
 * computed. Elementwise work (norms, RoPE, softmax) is left out; it is small next to the
 * products. Pure arithmetic: the page imports it too.
 */
import type { ModelConfig } from './config';

export interface StepShape {
  batch: number;
  /** Tokens per row: [BOS] + text + target, without the virtual tokens. */
  sequence: number;
  virtualTokens: number;
  /** Target tokens per row (the label), scored through the LM head. */
  targets: number;
}

/** What the count reads of a model's config. */
export type FlopsDims = Pick<ModelConfig,
  'modelType' | 'hiddenSize' | 'numHeads' | 'numKeyValueHeads' | 'headDim' | 'intermediateSize' | 'numLayers' | 'vocabSize'>;

export function trainingStepFlops(cfg: FlopsDims, s: StepShape): { forward: number; backward: number; total: number } {
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

/**
 * The share of the backend's plain float32 matmul rate (a 512² product) that a step
 * reaches on the work it does (the model's FLOPs and the MLP pre-activations its memory
 * plan recomputes), on wasm and cpu, by the rows each product multiplies (batch ×
 * positions). From the real-size rows of `npm run bench` (README, "Measured at real size":
 * four models, Node and Chromium, 2026-12-07): 0.75-0.93 at 8 × 148 = 1,184 rows, 0.37-0.72
 * at 1 × 52 (where nothing is recomputed); between and below, along the logarithm of the
 * rows. The int8 tiles' dequantization and packing cost the same per weight whatever the
 * rows, so few rows leave the products a smaller share of the step.
 */
export function cpuStepShareOfMatmul(rows: number): number {
  const few = { rows: 52, share: 0.57 };
  const many = { rows: 1184, share: 0.85 };
  if (rows >= many.rows) return many.share;
  const along = Math.log(Math.max(1, rows) / few.rows) / Math.log(many.rows / few.rows);
  return Math.max(0.3, few.share + along * (many.share - few.share));
}

/**
 * A step's time on a CPU backend, in ms, from its FLOPs, those of the MLP pre-activations it
 * recomputes (`recompute`: how many, as the memory plan decides), and the backend's measured
 * matmul rate (FLOP/s).
 */
export function estimateCpuStepMs(cfg: FlopsDims, s: StepShape, matmulFlopsPerSecond: number, recompute = 0): number {
  const rows = s.batch * (s.sequence + s.virtualTokens);
  const work = trainingStepFlops(cfg, s).total + recomputedMlpFlops(cfg, s, recompute);
  return work / (matmulFlopsPerSecond * cpuStepShareOfMatmul(rows)) * 1000;
}

/** Target tokens per row an estimate before the run counts: most labels are a token or two. */
export const ESTIMATE_TARGETS = 2;

/**
 * A training step's time on a CPU backend at these settings, in ms, before any step has
 * run: rows of `sequence` tokens, text and label (without the data's lengths: as long as
 * the max length, the longest a batch can be), each of the gradient accumulation's
 * micro-batches a step of its own, with `recompute` MLP pre-activations made again.
 */
export function estimateCpuRunStepMs(
  cfg: FlopsDims, settings: { batchSize: number; gradientAccumulation: number; maxLength: number; numVirtualTokens: number }, matmulFlopsPerSecond: number,
  sequence = settings.maxLength + ESTIMATE_TARGETS, recompute = 0,
): number {
  const shape = { batch: settings.batchSize, sequence, virtualTokens: settings.numVirtualTokens, targets: ESTIMATE_TARGETS };
  return settings.gradientAccumulation * estimateCpuStepMs(cfg, shape, matmulFlopsPerSecond, recompute);
}

/**
 * One evaluation's time on a CPU backend, in ms, before any has run: a forward pass over
 * each scored example (rank classification reads every label from it; a longer label's
 * continuation is small beside it), in batches of evalBatchSize rows of `sequence` tokens
 * (without the data's lengths: the max length).
 */
export function estimateCpuEvaluationMs(
  cfg: FlopsDims, settings: { maxLength: number; numVirtualTokens: number; evalBatchSize: number }, examples: number, matmulFlopsPerSecond: number,
  sequence = settings.maxLength,
): number {
  if (examples <= 0) return 0;
  const shape = { batch: examples, sequence, virtualTokens: settings.numVirtualTokens, targets: 1 };
  const rows = Math.min(examples, settings.evalBatchSize) * (sequence + settings.numVirtualTokens);
  return trainingStepFlops(cfg, shape).forward / (matmulFlopsPerSecond * cpuStepShareOfMatmul(rows)) * 1000;
}
