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
 * How many MLP pre-activations the checkpointed backward makes again instead of keeping
 * them from the forward, counted over the whole stack: each is one [N, ffn] tensor less
 * kept for one more matmul in the backward. 0 keeps them all; up projections go first, layer
 * by layer, then gates (memory.ts mlpKeptInLayer), so every count between 0 and all of them
 * is a setting of its own and the engine spends exactly the memory it has.
 */
export type MlpRecompute = number;

/**
 * Told, while a gradient is being recorded, each time a layer's forward or backward is done:
 * `done` of the stack's `layers` in that pass. Where ops compute as they are issued (wasm,
 * cpu) that is how far a training step has got; on WebGPU only how far it has been queued.
 */
export type LayerObserver = (pass: 'forward' | 'backward', done: number, layers: number) => void;

/** A decoder-only language model over tfjs tensors; every architecture implements this. */
export interface CausalLM {
  readonly config: ModelConfig;
  /** [B, T] int32 token ids → [B, T, d] embeddings. */
  embed(ids: tf.Tensor2D): tf.Tensor3D;
  forward(input: ForwardInput): ForwardOutput;
  /** Training memory against speed: see DecoderLM.mlpRecompute. */
  mlpRecompute: MlpRecompute;
  /** Where a training step is, layer by layer (null: nobody asks). */
  layerObserver: LayerObserver | null;
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
