/**
 * Prefix tuning (Li & Liang 2021): instead of input vectors, every layer gets P trainable
 * key/value pairs that the input attends to, as if a prefix had already been run through
 * the model. Reparameterized as in PEFT's PrefixEncoder with prefix_projection:
 *   Embedding(P, d) → Linear(d, h) → Tanh → Linear(h, L·2·kv_dim)
 * and exported, like PEFT in inference mode, as the encoder's output
 * [P, L·2·kv_dim] (per layer: key then value; kv_dim = Hkv·hd for grouped-query models).
 * The keys are used as given (no RoPE), as PEFT's past_key_values are.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../data/random';
import { StudioError } from '../../errors';
import type { ModelDims } from '../../formats/peft';
import type { LayerKV } from '../../model/types';
import { createDense, dense, denseVariables, uniformValues, variableFrom, type DenseParams } from './nn';
import { peftTensor, type PeftExport, type PromptContribution, type SoftPromptMethod } from './types';

export interface PrefixTuningConfig {
  numVirtualTokens: number;
  /** Reparameterize through the MLP (true, the paper's choice for stability) or train the prefixes directly. */
  prefixProjection: boolean;
  encoderHiddenSize: number;
  seed: number;
}

export class PrefixTuning implements SoftPromptMethod {
  /** Parameter names as PEFT's PrefixEncoder has them (with or without the projection). */
  static variableNames(count: number): string[] {
    return count === 1 ? ['embedding.weight'] : ['embedding.weight', 'transform.0.weight', 'transform.0.bias', 'transform.2.weight', 'transform.2.bias'];
  }

  /** A PREFIX_TUNING adapter: PEFT stores the per-layer keys and values, which run here as free prefixes. */
  static fromPeft(exported: PeftExport, model: ModelDims): PrefixTuning {
    const prompt = peftTensor(exported, 'prompt_embeddings');
    const [p, width] = prompt.shape;
    const expected = model.numLayers * 2 * model.numKeyValueHeads * model.headDim;
    if (width !== expected) {
      throw new StudioError('adapter', `The adapter's prefixes have ${width} values per virtual token, but this model needs ${expected} (${model.numLayers} layers × 2 × ${model.numKeyValueHeads * model.headDim}).`,
        'Load the model the adapter was trained for.');
    }
    return new PrefixTuning(prompt.data, { numVirtualTokens: p, prefixProjection: false, encoderHiddenSize: model.hiddenSize, seed: 0 }, model);
  }

  readonly kind = 'prefix' as const;
  readonly numVirtualTokens: number;
  readonly variables: tf.Variable[];
  private readonly embedding: tf.Variable; // [P, d] with projection, [P, L·2·kv] without
  private readonly mlp: DenseParams[] = [];
  private readonly kvDim: number;

  constructor(initial: Float32Array, private readonly cfg: PrefixTuningConfig, private readonly model: ModelDims) {
    this.numVirtualTokens = cfg.numVirtualTokens;
    this.kvDim = model.numKeyValueHeads * model.headDim;
    const rng = createRng(cfg.seed ^ 0x9e1f);
    const outWidth = model.numLayers * 2 * this.kvDim;
    if (cfg.prefixProjection) {
      this.embedding = variableFrom(initial, [cfg.numVirtualTokens, model.hiddenSize]);
      this.mlp.push(createDense(rng, model.hiddenSize, cfg.encoderHiddenSize), createDense(rng, cfg.encoderHiddenSize, outWidth));
    } else if (initial.length === cfg.numVirtualTokens * outWidth) {
      // Prefixes given as they are (an imported PEFT adapter).
      this.embedding = variableFrom(initial, [cfg.numVirtualTokens, outWidth]);
    } else {
      // Small values: prefixes far larger than real keys would swamp every attention row.
      this.embedding = variableFrom(uniformValues(rng, cfg.numVirtualTokens * outWidth, 0.5), [cfg.numVirtualTokens, outWidth]);
    }
    this.variables = [this.embedding, ...this.mlp.flatMap(denseVariables)];
  }

  /** [P, L·2·kv_dim] from the encoder's input [P, d] (or the direct prefixes). */
  private prefixes(input: tf.Tensor2D = this.embedding as tf.Tensor2D): tf.Tensor2D {
    if (!this.cfg.prefixProjection) return input;
    return dense(tf.tanh(dense(input, this.mlp[0])), this.mlp[1]);
  }

  contribution(batch: number): PromptContribution {
    return this.split(this.prefixes(), batch);
  }

  withVectors(vectors: tf.Tensor2D, batch: number): PromptContribution | null {
    return this.cfg.prefixProjection ? this.split(this.prefixes(vectors), batch) : null;
  }

  private split(prefixes: tf.Tensor2D, batch: number): PromptContribution {
    const { numLayers, numKeyValueHeads: hkv, headDim: hd } = this.model;
    const p = this.numVirtualTokens;
    const all = prefixes
      .reshape([p, numLayers * 2, hkv, hd])
      .transpose([1, 2, 0, 3]); // [L·2, Hkv, P, hd]
    const pastKV: LayerKV[] = [];
    const perLayer = tf.split(all, numLayers * 2, 0); // each [1, Hkv, P, hd]
    for (let l = 0; l < numLayers; l++) {
      pastKV.push({
        k: perLayer[2 * l].tile([batch, 1, 1, 1]) as tf.Tensor4D,
        v: perLayer[2 * l + 1].tile([batch, 1, 1, 1]) as tf.Tensor4D,
      });
    }
    return { pastKV, length: p };
  }

  projectable(): tf.Tensor2D | null {
    // Only with the projection do the prefixes come from vectors in the token-embedding space.
    return this.cfg.prefixProjection ? (this.embedding.clone() as tf.Tensor2D) : null;
  }

  async exportPeft(): Promise<PeftExport> {
    const prefixes = tf.tidy(() => this.prefixes());
    const data = (await prefixes.data()) as Float32Array;
    const shape = prefixes.shape;
    prefixes.dispose();
    return {
      peftType: 'PREFIX_TUNING',
      tensors: { prompt_embeddings: { shape: [...shape], data } },
      config: {
        prefix_projection: this.cfg.prefixProjection,
        encoder_hidden_size: this.cfg.encoderHiddenSize,
        // PEFT sizes prefixes by these: per layer 2 × num_attention_heads × (token_dim / num_attention_heads).
        token_dim: this.kvDim,
        num_attention_heads: this.model.numKeyValueHeads,
      },
    };
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
