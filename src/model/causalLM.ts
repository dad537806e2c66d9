/**
 * What every decoder-only architecture shares around its blocks: token embeddings in, the
 * LM head out, the positions and attention mask of one forward call, and the bookkeeping of
 * its weights. gpt2.ts and llama.ts add their blocks and the forward that chains them.
 * Shapes as in layers.ts: B batch, T new positions, S all key positions, d width, V vocab.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config';
import { attentionBias, defaultPositions, type Embedding, type Linear } from './layers';
import type { CausalLM, ForwardInput, ForwardOutput, LayerKV, LayerObserver, MlpRecompute } from './types';

/** Positions before this call's: what the layers' `past` keys/values (a KV cache or a prefix) hold. */
export function pastLengthOf(past?: LayerKV[]): number {
  return past?.[0]?.k.shape[2] ?? 0;
}

/** One forward call's positions and attention mask, which every layer shares. */
export function forwardContext({ inputsEmbeds, keyMask, positionIds, past }: ForwardInput) {
  const [batch, t] = inputsEmbeds.shape;
  const pastLength = pastLengthOf(past);
  return {
    // As Hugging Face: the new tokens' positions start after the past (cache or prefix).
    positions: positionIds ?? defaultPositions(batch, t, pastLength), // [B, T] int32
    bias: attentionBias(t, pastLength, keyMask), // [B|1, 1, T, S]
  };
}

export abstract class DecoderLM implements CausalLM {
  /**
   * Run each layer as one backward step that keeps only the activations its written-out
   * backward reads (layers.ts checkpointedLayer). Off, tfjs's autodiff differentiates the
   * plain ops: the reference the tests compare against.
   */
  checkpointLayers = true;
  /**
   * With checkpointing: recompute this many MLP pre-activations in the backward (from the
   * stream it kept anyway) instead of keeping them — [N, ffn] less for each matmul made again
   * (types.ts MlpRecompute). The engine chooses the least recomputation whose step fits its
   * activation budget (engine/memoryBudget.ts).
   */
  mlpRecompute: MlpRecompute = 0;
  layerObserver: LayerObserver | null = null;

  constructor(
    readonly config: ModelConfig,
    private readonly tokens: Embedding, // [V, d]
    private readonly lmHead: Linear, // d → V (the token table itself when tied)
  ) {}

  abstract forward(input: ForwardInput): ForwardOutput;

  /** The weights between the token embeddings and the head: position table, blocks, norms. */
  protected abstract bodyTensors(): tf.Tensor[];

  embed(ids: tf.Tensor2D): tf.Tensor3D {
    return this.tokens.lookup(ids); // [B, T, d]
  }

  embeddingRows(start: number, count: number, transpose = false): tf.Tensor2D {
    return this.tokens.rowRange(start, count, transpose); // [count, d] or [d, count]
  }

  logits(hidden: tf.Tensor): tf.Tensor {
    const flat = hidden.reshape([-1, this.config.hiddenSize]) as tf.Tensor2D; // [N, d]
    return this.lmHead.apply(flat).reshape([...hidden.shape.slice(0, -1), this.config.vocabSize]); // [..., V]
  }

  weightTensors(): tf.Tensor[] {
    // A tied head is the token table: each tensor once.
    return [...new Set([...this.tokens.tensors(), ...this.bodyTensors(), ...this.lmHead.tensors()])];
  }

  dispose(): void {
    tf.dispose(this.weightTensors());
  }
}
