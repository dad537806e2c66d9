import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config';

/** One layer's keys and values, [B, kvHeads, S, headDim] each, after RoPE. */
export interface LayerKV {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

export interface ForwardInput {
  /** [B, T, d] input embeddings: token embeddings, possibly preceded by soft-prompt vectors. */
  inputsEmbeds: tf.Tensor3D;
  /**
   * [B, S] with 1 for keys that may be attended and 0 for padding, where S counts `past`
   * positions then the T new ones. Absent: every key is real.
   */
  keyMask?: tf.Tensor2D;
  /** [B, T] int32 positions; absent: pastLength .. pastLength+T-1 for every row. */
  positionIds?: tf.Tensor2D;
  /**
   * Keys/values already computed for earlier positions, one entry per layer: a KV cache
   * during generation, or the per-layer prefixes of prefix tuning.
   */
  past?: LayerKV[];
  /** Also return this call's keys/values concatenated after `past` (for a KV cache). */
  returnKV?: boolean;
}

export interface ForwardOutput {
  /** [B, T, d] final hidden states, after the last norm. */
  hidden: tf.Tensor3D;
  kv?: LayerKV[];
}

/**
 * What the checkpointed backward makes again instead of keeping from the forward, per MLP:
 * nothing; the up projection only (a SwiGLU MLP keeps its gate's pre-activation: half the
 * memory for one matmul); or every pre-activation. GPT-2's MLP has one pre-activation, so
 * 'up' keeps it, as 'none' does.
 */
export type MlpRecompute = 'none' | 'up' | 'all';

/** A decoder-only language model over tfjs tensors; every architecture implements this. */
export interface CausalLM {
  readonly config: ModelConfig;
  /** [B, T] int32 token ids → [B, T, d] embeddings. */
  embed(ids: tf.Tensor2D): tf.Tensor3D;
  forward(input: ForwardInput): ForwardOutput;
  /** Training memory against speed: see DecoderLM.mlpRecompute. */
  mlpRecompute: MlpRecompute;
  /** [..., d] hidden states → [..., V] logits. */
  logits(hidden: tf.Tensor): tf.Tensor;
  /**
   * Rows start..start+count of the input embedding table as a new float32 [count, d] tensor
   * (the caller disposes it), or [d, count] transposed. Tiles, never the whole table.
   */
  embeddingRows(start: number, count: number, transpose?: boolean): tf.Tensor2D;
  /** The tensors this model owns on the backend, for memory accounting. */
  weightTensors(): tf.Tensor[];
  dispose(): void;
}
