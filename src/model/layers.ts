/**
 * The blocks every architecture shares, as small functions over tfjs tensors.
 * Shapes are written where they change. B batch, T new positions, S all key positions
 * (past + new), d model width, H heads, Hkv key/value heads, hd head width.
 */
import * as tf from '@tensorflow/tfjs';
import type { RopeScaling } from './config';
import type { LayerKV } from './types';

/** y = x · Wᵀ (+ b) for a frozen weight W of shape [out, in]. */
export interface Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [N, in] → [N, out] */
  apply(x: tf.Tensor2D): tf.Tensor2D;
  tensors(): tf.Tensor[];
}

export class DenseLinear implements Linear {
  readonly outFeatures: number;
  readonly inFeatures: number;
  /**
   * tfjs-wasm multiplies by a transposed right operand about 7× slower than by a plain one
   * (3 vs 22-38 GFLOP/s measured on x·Wᵀ against x·W), so there the forward transposes W
   * (a cheap O(in·out) copy) and a custom gradient computes dx = dy·W untransposed too.
   * WebGPU and cpu read the transpose for free.
   */
  private readonly apply2d: (x: tf.Tensor2D) => tf.Tensor2D;

  constructor(
    private readonly weight: tf.Tensor2D, // [out, in]
    private readonly bias?: tf.Tensor1D, // [out]
  ) {
    [this.outFeatures, this.inFeatures] = weight.shape;
    const w = this.weight;
    this.apply2d = tf.getBackend() === 'wasm'
      ? (tf.customGrad(((x: tf.Tensor2D) => ({
        value: tf.matMul(x, tf.transpose(w)), // [N, out]
        gradFunc: (dy: tf.Tensor2D) => tf.matMul(dy, w), // [N, in]
      })) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D) => tf.Tensor2D)
      : (x) => tf.matMul(x, w, false, true) as tf.Tensor2D; // [N, out]
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    const y = this.apply2d(x);
    return this.bias ? (tf.add(y, this.bias) as tf.Tensor2D) : y;
  }

  tensors(): tf.Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
}

/**
 * A frozen token embedding table [V, d]: float32 here, int8 on WebGPU (QuantEmbedding in
 * quantLinear.ts). A tied LM head multiplies by the same table, hence `asLinear`.
 */
export interface Embedding {
  readonly vocabSize: number;
  readonly dim: number;
  /** [B, T] int32 → [B, T, d] */
  lookup(ids: tf.Tensor2D): tf.Tensor3D;
  /** The table as float32 [V, d], owned by the embedding (do not dispose). */
  table(): tf.Tensor2D;
  /** d → V logits through the table itself: [N, d] → [N, V]. */
  asLinear(): Linear;
  tensors(): tf.Tensor[];
}

export class DenseEmbedding implements Embedding {
  readonly vocabSize: number;
  readonly dim: number;
  private head?: Linear;

  constructor(private readonly weight: tf.Tensor2D) { // [V, d]
    [this.vocabSize, this.dim] = weight.shape;
  }

  lookup(ids: tf.Tensor2D): tf.Tensor3D {
    return tf.gather(this.weight, ids) as unknown as tf.Tensor3D; // [B, T, d]
  }

  table(): tf.Tensor2D {
    return this.weight;
  }

  asLinear(): Linear {
    this.head ??= new DenseLinear(this.weight);
    return this.head;
  }

  tensors(): tf.Tensor[] {
    return [this.weight];
  }
}

/** Applies a Linear to the last axis of a [B, T, in] tensor. */
export function linear3(layer: Linear, x: tf.Tensor3D): tf.Tensor3D {
  const [b, t, d] = x.shape;
  return layer.apply(x.reshape([b * t, d])).reshape([b, t, layer.outFeatures]);
}

export function rmsNorm(x: tf.Tensor3D, weight: tf.Tensor1D, eps: number): tf.Tensor3D {
  const meanSquare = tf.mean(tf.square(x), -1, true); // [B, T, 1]
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight);
}

export function layerNorm(x: tf.Tensor3D, weight: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor3D {
  const { mean, variance } = tf.moments(x, -1, true); // [B, T, 1] each
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), weight), bias);
}

/** Inverse frequencies of rotary embeddings, with Llama 3's long-context rescaling when configured. */
export function ropeInverseFrequencies(headDim: number, theta: number, scaling: RopeScaling | null): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  if (scaling?.ropeType === 'llama3') {
    const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldLen } = scaling;
    const lowWavelen = oldLen / lowFreqFactor;
    const highWavelen = oldLen / highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] = inv[i] / factor;
      else if (wavelen >= highWavelen) {
        const smooth = (oldLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}

/** cos and sin tables [maxPositions, hd] in Hugging Face's "rotate halves" layout. */
export function ropeTables(maxPositions: number, headDim: number, theta: number, scaling: RopeScaling | null) {
  const inv = ropeInverseFrequencies(headDim, theta, scaling);
  const half = headDim / 2;
  const cos = new Float32Array(maxPositions * headDim);
  const sin = new Float32Array(maxPositions * headDim);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      // The angle is rounded to float32 as torch and llama2.c compute it.
      const angle = Math.fround(p * inv[i]);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * headDim + i] = cos[p * headDim + i + half] = c;
      sin[p * headDim + i] = sin[p * headDim + i + half] = s;
    }
  }
  return {
    cos: tf.tensor2d(cos, [maxPositions, headDim]),
    sin: tf.tensor2d(sin, [maxPositions, headDim]),
  };
}

/** x·cos + rotate_half(x)·sin, with x [B, H, T, hd] and cos/sin [B, 1, T, hd]. */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3);
  const rotated = tf.concat([tf.neg(x2), x1], 3); // [B, H, T, hd]
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

/** [B, T, H*hd] → [B, H, T, hd] */
export function splitHeads(x: tf.Tensor3D, heads: number, headDim: number): tf.Tensor4D {
  const [b, t] = x.shape;
  return x.reshape([b, t, heads, headDim]).transpose([0, 2, 1, 3]);
}

/** [B, H, T, hd] → [B, T, H*hd] */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor3D {
  const [b, h, t, hd] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([b, t, h * hd]);
}

/**
 * Grouped-query attention: key/value head g serves query heads g*groups .. g*groups+groups-1.
 * Tiled at rank 3: tfjs-webgpu runs a rank-5 tile on the CPU through a synchronous GPU
 * read, which is slow everywhere and fatal in a worker on some adapters.
 */
export function repeatKV(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  if (groups === 1) return x;
  const [b, hkv, s, hd] = x.shape;
  return x
    .reshape([b * hkv, 1, s * hd])
    .tile([1, groups, 1]) // [B·Hkv, G, S·hd]
    .reshape([b, hkv * groups, s, hd]);
}

/** Concatenates earlier keys/values (cache or prefix) before this call's. */
export function appendKV(past: LayerKV | undefined, k: tf.Tensor4D, v: tf.Tensor4D): LayerKV {
  if (!past) return { k, v };
  return { k: tf.concat([past.k, k], 2), v: tf.concat([past.v, v], 2) };
}

/** A large negative number instead of -Infinity, so a fully masked row gives a uniform softmax, not NaN. */
const MASKED = -1e9;

/**
 * Additive attention mask [B|1, 1, T, S]: 0 where query t (at absolute index pastLength+t)
 * may see key s (s ≤ pastLength+t, and the key is not padding), MASKED elsewhere.
 */
export function attentionBias(t: number, pastLength: number, keyMask?: tf.Tensor2D): tf.Tensor4D {
  const s = pastLength + t;
  const causal = new Float32Array(t * s);
  for (let i = 0; i < t; i++) for (let j = pastLength + i + 1; j < s; j++) causal[i * s + j] = MASKED;
  const bias = tf.tensor4d(causal, [1, 1, t, s]);
  if (!keyMask) return bias;
  const padding = tf.mul(tf.sub(1, keyMask), MASKED).reshape([keyMask.shape[0], 1, 1, s]); // [B, 1, 1, S]
  return tf.add(bias, padding);
}

/**
 * softmax(q·kᵀ/√hd + bias)·v with q [B, H, T, hd] and k, v [B, Hkv, S, hd] → [B, H, T, hd].
 * Grouped-query attention without copying keys/values per query head: the G = H/Hkv query
 * heads that share a key/value head are stacked along the query axis, so each key/value
 * head does one [G·T, S] product (fewer, larger matmuls, and no tiled copies of K and V).
 */
export function scaledDotProductAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor4D): tf.Tensor4D {
  const [b, h, t, hd] = q.shape;
  const hkv = k.shape[1];
  const groups = h / hkv;
  const scale = 1 / Math.sqrt(hd);
  // Scaling q ([T, hd] per head) instead of the scores ([T, S]) keeps one fewer T×S tensor alive for backward.
  const grouped = tf.mul(q, scale).reshape([b, hkv, groups * t, hd]); // row g·T + t of kv head j is query head j·G + g
  const groupedBias = groups === 1 ? bias : tf.concat(new Array<tf.Tensor4D>(groups).fill(bias), 2); // [B|1, 1, G·T, S]
  const scores = tf.add(tf.matMul(grouped, k, false, true), groupedBias); // [B, Hkv, G·T, S]
  return tf.matMul(tf.softmax(scores), v).reshape([b, h, t, hd]); // [B, H, T, hd]
}

/**
 * Causal self-attention of this call's q [B, H, T, hd] and k, v [B, Hkv, T, hd] over the
 * layer's past keys/values and its own → [B, T, H·hd] (heads merged, before the output
 * projection), and the keys/values it attended, [B, Hkv, S, hd] each, for a KV cache.
 */
export function causalSelfAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, past: LayerKV | undefined, bias: tf.Tensor4D) {
  const kv = appendKV(past, k, v); // [B, Hkv, S, hd]
  const attended = scaledDotProductAttention(q, kv.k, kv.v, bias); // [B, H, T, hd]
  return { y: mergeHeads(attended), kv }; // [B, T, H·hd]
}

/** Default positions: pastLength .. pastLength+T-1 for every row, [B, T] int32. */
export function defaultPositions(batch: number, t: number, pastLength: number): tf.Tensor2D {
  return tf.range(pastLength, pastLength + t, 1, 'int32').expandDims(0).tile([batch, 1]) as tf.Tensor2D;
}
