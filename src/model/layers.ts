/**
 * The blocks every architecture shares, as small functions over tfjs tensors.
 * Shapes are written where they change. B batch, T new positions, S all key positions
 * (past + new), d model width, H heads, Hkv key/value heads, hd head width, N = B·T rows.
 *
 * Each block is a plain forward (differentiable by tfjs's autodiff, which the tests use as
 * the reference) and, beside it, its backward written out: a decoder layer runs as one
 * custom-gradient step (`decoderLayer`) that keeps only the few activations those
 * backwards read. Left to autodiff, tfjs keeps every intermediate any gradient might read
 * (a dozen [N, d] and [N, ffn] tensors per layer and the B·H·T·S attention probabilities),
 * and every intermediate gradient too, until the whole backward pass ends.
 */
import * as tf from '@tensorflow/tfjs';
import type { RopeScaling } from './config';
import { attentionChunkRows } from './memory';
import type { LayerKV, LayerObserver } from './types';
import { headMatMul } from './kernels/headMatMul';

type GradFunc<Y extends tf.Tensor> = (dy: Y, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
/** Keeps tensors for the backward pass (a no-op when no gradient is being recorded). */
export type Save = (tensors: tf.Tensor[]) => void;

/**
 * tf.customGrad as these layers use it: tensors in, one tensor out, a gradient for every
 * input, and `save` for what the gradient reads (closures over forward tensors would find
 * them disposed: the forward runs in a tidy that ends before the backward starts).
 */
export function customGrad<Y extends tf.Tensor>(
  f: (...args: never[]) => { value: Y; gradFunc: GradFunc<Y> },
): (...inputs: tf.Tensor[]) => Y {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => Y;
}

/** One architecture's layer, as the checkpointed stack runs it. */
export interface StackLayers {
  numLayers: number;
  /** Tensors of the whole call the backwards read too (RoPE tables, the mask), held until they end. */
  shared: tf.Tensor[];
  /** Layer i on x (with its past keys/values): its output and what its backward reads. */
  forward(i: number, x: tf.Tensor3D, past: LayerKV | undefined): { out: tf.Tensor3D; kept: tf.Tensor[] };
  /** Layer i's input gradients from its output's, [B, T, d]: [dx], or [dx, dPastK, dPastV] with a past. `shared` as held. */
  backward(i: number, dy: tf.Tensor3D, kept: tf.Tensor[], shared: tf.Tensor[], pastLength: number): tf.Tensor[];
  /** Told as each layer's forward and backward ends, while a gradient is recorded. */
  observer?: LayerObserver | null;
}

/** What the last recorded stack kept, until its backward frees it (or the next forward, if it never ran). */
let pendingKept: tf.Tensor[][] = [];

const tapeIsRecording = () => (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();

/**
 * The decoder's layers as one step of tfjs's backward pass, with the backward written out.
 * While a gradient is being recorded, each layer keeps only the few activations its own
 * backward reads (freeing the rest as it ends); the backward then runs the layers in
 * reverse and frees each layer's activations, and the gradient between layers, as soon as
 * that layer is done. Left to tfjs, every intermediate of every layer — and every
 * intermediate gradient — would stay until the whole backward ends. (The activations are
 * held directly rather than through tf.customGrad's save, which copies them on wasm.)
 * Without a recording gradient it is the plain layers, each freeing its scratch as it ends.
 */
export function checkpointedStack(x: tf.Tensor3D, past: LayerKV[] | undefined, layers: StackLayers): tf.Tensor3D {
  const pastLength = past?.[0]?.k.shape[2] ?? 0;
  if (!tapeIsRecording()) {
    let h = x;
    for (let i = 0; i < layers.numLayers; i++) {
      const input = h;
      h = tf.tidy(() => layers.forward(i, input, past?.[i]).out);
      // The stream between layers is the stack's own: only the caller's input outlives its layer.
      if (input !== x) input.dispose();
    }
    return h;
  }
  // A forward whose backward never ran (it threw before the loss) leaves its activations here.
  tf.dispose(pendingKept.flat());
  pendingKept = [];
  const kept: tf.Tensor[][] = [layers.shared.map((t) => tf.keep(t.clone()))];
  const inputs = [x, ...(past ?? []).flatMap((p) => [p.k, p.v])];
  const external = new Set<tf.Tensor>(inputs);
  return customGrad((...args: never[]) => {
    const [xi, ...pastFlat] = args.slice(0, inputs.length) as unknown as tf.Tensor[];
    let h = xi as tf.Tensor3D;
    try {
      for (let i = 0; i < layers.numLayers; i++) {
        const layerPast = past ? { k: pastFlat[2 * i] as tf.Tensor4D, v: pastFlat[2 * i + 1] as tf.Tensor4D } : undefined;
        const input = h;
        const [out, ...layerKept] = tf.tidy(() => {
          const step = layers.forward(i, input, layerPast);
          return [step.out, ...step.kept];
        });
        // The stack's own inputs belong to the caller, whose scope may end before the backward: a copy of those.
        kept[i + 1] = layerKept.map((t) => tf.keep(external.has(t) ? t.clone() : t));
        h = out as tf.Tensor3D;
        layers.observer?.('forward', i + 1, layers.numLayers);
      }
    } catch (e) {
      // A layer, or the observer (a pause or stop between layers), threw: nothing of this forward is kept.
      tf.dispose(kept.flat());
      throw e;
    }
    pendingKept = kept;
    return {
      value: h,
      gradFunc: (dy: tf.Tensor3D) => {
        let grad = dy;
        const pastGrads: tf.Tensor[] = [];
        try {
          for (let i = layers.numLayers - 1; i >= 0; i--) {
            const upstream = grad;
            const grads = tf.tidy(() => layers.backward(i, upstream, kept[i + 1], kept[0], pastLength));
            tf.dispose(kept[i + 1]);
            if (grad !== dy) grad.dispose();
            grad = grads[0] as tf.Tensor3D;
            pastGrads.unshift(...grads.slice(1));
            layers.observer?.('backward', layers.numLayers - i, layers.numLayers);
          }
        } finally {
          tf.dispose(kept.flat());
          if (pendingKept === kept) pendingKept = [];
        }
        return [grad, ...pastGrads];
      },
    };
  })(...inputs);
}

/** y = x · Wᵀ (+ b) for a frozen weight W of shape [out, in]. */
export interface Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [N, in] → [N, out] */
  apply(x: tf.Tensor2D): tf.Tensor2D;
  /** dx = dy · W: [N, out] → [N, in], the gradient of `apply` for a custom backward pass. */
  inputGrad(dy: tf.Tensor2D): tf.Tensor2D;
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

  inputGrad(dy: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(dy, this.weight); // [N, in]
  }

  tensors(): tf.Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
}

/**
 * A frozen token embedding table [V, d]: float32 here, int8 in QuantEmbedding
 * (quantLinear.ts). A tied LM head multiplies by the same table, hence `asLinear`. Nothing
 * hands out the whole table as floats: a 150k-token vocabulary is half a GB of them.
 */
export interface Embedding {
  readonly vocabSize: number;
  readonly dim: number;
  /** [B, T] int32 → [B, T, d] */
  lookup(ids: tf.Tensor2D): tf.Tensor3D;
  /** Rows start..start+count as a new float32 [count, d] tensor, or [d, count] transposed: a tile of the table. */
  rowRange(start: number, count: number, transpose?: boolean): tf.Tensor2D;
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

  rowRange(start: number, count: number, transpose = false): tf.Tensor2D {
    return tf.tidy(() => {
      const rows = tf.slice(this.weight, [start, 0], [count, this.dim]); // [count, d]
      return transpose ? rows.transpose() : rows;
    });
  }

  asLinear(): Linear {
    this.head ??= new DenseLinear(this.weight);
    return this.head;
  }

  tensors(): tf.Tensor[] {
    return [this.weight];
  }
}

/**
 * down(silu(gate(h)) ⊙ up(h)): Llama's SwiGLU MLP over rows h [N, d] → [N, d], with the two
 * pre-activations gate(h), up(h) [N, ffn] its backward reads.
 */
export function gatedMlp(h: tf.Tensor2D, gate: Linear, up: Linear, down: Linear) {
  const g = gate.apply(h); // [N, ffn]
  const u = up.apply(h); // [N, ffn]
  return { y: down.apply(tf.mul(tf.mul(g, tf.sigmoid(g)), u) as tf.Tensor2D), g, u }; // [N, d]
}

/**
 * dh from dy [N, d]: with a = down'(dy), dgate = a ⊙ up ⊙ silu'(gate), dup = a ⊙ silu(gate),
 * dh = gate'(dgate) + up'(dup), where silu'(g) = σ(g)·(1 + g·(1 − σ(g))).
 */
export function gatedMlpBackward(g: tf.Tensor2D, u: tf.Tensor2D, dy: tf.Tensor2D, gate: Linear, up: Linear, down: Linear): tf.Tensor2D {
  // Scoped so each [N, ffn] temporary is freed as soon as it is used: they are the layer's largest.
  const [dGate, dUp] = tf.tidy(() => {
    const a = down.inputGrad(dy); // [N, ffn]
    const sig = tf.sigmoid(g);
    const dSilu = tf.tidy(() => tf.mul(sig, tf.add(1, tf.mul(g, tf.sub(1, sig)))));
    return [tf.mul(tf.mul(a, u), dSilu), tf.mul(a, tf.mul(g, sig))] as tf.Tensor2D[];
  });
  const dh = tf.add(gate.inputGrad(dGate), up.inputGrad(dUp)) as tf.Tensor2D; // [N, d]
  tf.dispose([dGate, dUp]);
  return dh;
}

/** An elementwise activation and its derivative (what a written-out backward needs). */
export interface Activation {
  apply(x: tf.Tensor): tf.Tensor;
  derivative(x: tf.Tensor): tf.Tensor;
}

/** proj(act(fc(h))): GPT-2's MLP over rows h [N, d] → [N, d], with the pre-activation fc(h) [N, ffn]. */
export function activatedMlp(h: tf.Tensor2D, fc: Linear, act: Activation, proj: Linear) {
  const z = fc.apply(h); // [N, ffn]
  return { y: proj.apply(act.apply(z) as tf.Tensor2D), z }; // [N, d]
}

/** dh = fc'(proj'(dy) ⊙ act'(z)). */
export function activatedMlpBackward(z: tf.Tensor2D, dy: tf.Tensor2D, fc: Linear, act: Activation, proj: Linear): tf.Tensor2D {
  const dz = tf.tidy(() => tf.mul(proj.inputGrad(dy), act.derivative(z)) as tf.Tensor2D); // [N, ffn]
  const dh = fc.inputGrad(dz);
  dz.dispose();
  return dh;
}

/** Applies a Linear to the last axis of a [B, T, in] tensor. */
export function linear3(layer: Linear, x: tf.Tensor3D): tf.Tensor3D {
  const [b, t, d] = x.shape;
  return layer.apply(x.reshape([b * t, d])).reshape([b, t, layer.outFeatures]);
}

/** linear3's input gradient: [B, T, out] → [B, T, in]. */
export function linear3Grad(layer: Linear, dy: tf.Tensor3D): tf.Tensor3D {
  const [b, t, d] = dy.shape;
  return layer.inputGrad(dy.reshape([b * t, d])).reshape([b, t, layer.inFeatures]);
}

const inverseRms = (x: tf.Tensor, eps: number) => tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)); // [B, T, 1]

/** x · r · w with r = 1/√(mean(x²) + eps) per row. */
export function rmsNorm(x: tf.Tensor3D, weight: tf.Tensor1D, eps: number): tf.Tensor3D {
  return tf.mul(tf.mul(x, inverseRms(x, eps)), weight);
}

/** With g = dy·w: dx = r·g − x·r³·mean(g·x). Reads only x. */
export function rmsNormBackward(x: tf.Tensor3D, weight: tf.Tensor1D, eps: number, dy: tf.Tensor3D): tf.Tensor3D {
  const r = inverseRms(x, eps);
  const g = tf.mul(dy, weight);
  return tf.sub(tf.mul(g, r), tf.mul(x, tf.mul(tf.pow(r, 3), tf.mean(tf.mul(g, x), -1, true))));
}

function normalized(x: tf.Tensor3D, eps: number) {
  const { mean, variance } = tf.moments(x, -1, true); // [B, T, 1] each
  const inverseStd = tf.rsqrt(tf.add(variance, eps));
  return { xhat: tf.mul(tf.sub(x, mean), inverseStd) as tf.Tensor3D, inverseStd };
}

/** (x − μ)/σ · w + b per row. */
export function layerNorm(x: tf.Tensor3D, weight: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor3D {
  return tf.add(tf.mul(normalized(x, eps).xhat, weight), bias);
}

/** With x̂ = (x − μ)/σ and g = dy·w: dx = (g − mean(g) − x̂·mean(g·x̂)) / σ. Reads only x. */
export function layerNormBackward(x: tf.Tensor3D, weight: tf.Tensor1D, eps: number, dy: tf.Tensor3D): tf.Tensor3D {
  const { xhat, inverseStd } = normalized(x, eps);
  const g = tf.mul(dy, weight);
  const centered = tf.sub(g, tf.mean(g, -1, true));
  return tf.mul(tf.sub(centered, tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))), inverseStd);
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

/**
 * rotate_half as a matrix, R [hd, hd] with x·R = (−x₂, x₁), row-major; the transpose when
 * `transposed` ((z₁, z₂) → (z₂, −z₁), its backward). Kept as plain arrays: a tensor cached
 * here would belong to whichever backend made it.
 */
const rotations = new Map<string, Float32Array>();
function rotateHalfMatrix(hd: number, transposed: boolean): tf.Tensor2D {
  const key = `${hd}${transposed ? 'T' : ''}`;
  let r = rotations.get(key);
  if (!r) {
    const half = hd / 2;
    r = new Float32Array(hd * hd);
    for (let j = 0; j < half; j++) {
      // x·R: output j (first half) is −x[j + half]; output j + half is x[j].
      const [minus, plus] = transposed ? [j * hd + j + half, (j + half) * hd + j] : [(j + half) * hd + j, j * hd + j + half];
      r[minus] = -1;
      r[plus] = 1;
    }
    rotations.set(key, r);
  }
  return tf.tensor2d(r, [hd, hd]);
}

/**
 * rotate_half(x) (or its transpose) over the last axis of [B, H, T, hd], as one plain 2-D
 * matmul by a signed permutation: every backend runs that as its best kernel (XNNPACK on
 * wasm), where a split, a negation and a concat were 12% of a wasm step, and a Reverse of
 * halves 11%. The product adds one exact ±1 term per output, so the values are unchanged.
 */
function rotateHalf(x: tf.Tensor4D, transposed = false): tf.Tensor4D {
  const [b, h, t, hd] = x.shape;
  return tf.matMul(x.reshape([b * h * t, hd]), rotateHalfMatrix(hd, transposed)).reshape([b, h, t, hd]);
}

/** x·cos + rotate_half(x)·sin, with x [B, H, T, hd] and cos/sin [B, 1, T, hd]. */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  return tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin)); // [B, H, T, hd]
}

/** RoPE is linear in x, so its backward reads no activation: dx = dy·cos + rotate_halfᵀ(dy·sin). */
export function ropeBackward(dy: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  return tf.add(tf.mul(dy, cos), rotateHalf(tf.mul(dy, sin), true));
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

/** The attention's shapes: G = H/Hkv query heads share each key/value head. */
function attentionShape(q: tf.Tensor4D, k: tf.Tensor4D) {
  const [b, h, t, hd] = q.shape;
  const hkv = k.shape[1];
  const groups = h / hkv;
  return {
    b, h, t, hd, groups, scale: 1 / Math.sqrt(hd),
    // Row g·T + t of key/value head j is query head j·G + g.
    grouped: (x: tf.Tensor) => x.reshape([x.shape[0], hkv, groups * t, hd]) as tf.Tensor4D,
  };
}

/** softmax(q·kᵀ + bias) with q already scaled and grouped [B, Hkv, G·T, hd] → [B, Hkv, G·T, S]; the scores are freed at once. */
function attentionProbabilities(qScaled: tf.Tensor4D, k: tf.Tensor4D, bias: tf.Tensor4D, groups: number): tf.Tensor4D {
  return tf.tidy(() => {
    const groupedBias = groups === 1 ? bias : tf.concat(new Array<tf.Tensor4D>(groups).fill(bias), 2); // [B|1, 1, G·T, S]
    return tf.softmax(tf.add(headMatMul(qScaled, k, false, true), groupedBias)) as tf.Tensor4D;
  });
}

/** `f` over the batch a chunk of rows at a time (the mask sliced along when it has a row per batch row), results joined along the batch. */
function byBatchChunks<R extends tf.Tensor[]>(tensors: tf.Tensor4D[], bias: tf.Tensor4D, rows: number, f: (parts: tf.Tensor4D[], bias: tf.Tensor4D) => R): R {
  const b = tensors[0].shape[0];
  if (rows >= b) return f(tensors, bias);
  const results: R[] = [];
  for (let start = 0; start < b; start += rows) {
    const n = Math.min(rows, b - start);
    results.push(tf.tidy(() => {
      const slice = (x: tf.Tensor4D) => tf.slice(x, [start, 0, 0, 0], [n, -1, -1, -1]);
      return f(tensors.map(slice), bias.shape[0] === 1 ? bias : slice(bias));
    }));
  }
  const joined = results[0].map((_, i) => tf.concat(results.map((r) => r[i]), 0)) as R;
  tf.dispose(results.flat());
  return joined;
}

/**
 * softmax(q·kᵀ/√hd + bias)·v with q [B, H, T, hd] and k, v [B, Hkv, S, hd] → [B, H, T, hd].
 * Grouped-query attention without copying keys/values per query head: the G = H/Hkv query
 * heads that share a key/value head are stacked along the query axis, so each key/value
 * head does one [G·T, S] product (fewer, larger matmuls, and no tiled copies of K and V).
 */
export function scaledDotProductAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor4D): tf.Tensor4D {
  const { h, t, hd, groups, scale, grouped } = attentionShape(q, k);
  const rows = attentionChunkRows(q.shape[0], h, t, k.shape[2]);
  return byBatchChunks([q, k, v], bias, rows, ([qc, kc, vc], mask) => {
    // Scaling q ([T, hd] per head) instead of the scores ([T, S]) is one fewer T×S pass.
    const p = attentionProbabilities(grouped(tf.mul(qc, scale)), kc, mask, groups);
    return [headMatMul(p, vc).reshape([qc.shape[0], h, t, hd]) as tf.Tensor4D]; // [B, H, T, hd]
  })[0];
}

/**
 * The attention's backward from q, k, v alone: the probabilities P are recomputed, so no
 * B·H·T·S tensor outlives the layer. With dO the output's gradient, dV = Pᵀ·dO,
 * dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = dS·K/√hd, dK = dSᵀ·Q/√hd.
 */
export function attentionBackward(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor4D, dOut: tf.Tensor4D) {
  const { h, t, hd, groups, scale, grouped } = attentionShape(q, k);
  const rows = attentionChunkRows(q.shape[0], h, t, k.shape[2]);
  const [dQ, dK, dV] = byBatchChunks([q, k, v, dOut], bias, rows, ([qc, kc, vc, dc], mask) => {
    const qScaled = grouped(tf.mul(qc, scale)); // [b, Hkv, G·T, hd]
    const p = attentionProbabilities(qScaled, kc, mask, groups); // [b, Hkv, G·T, S]
    const dO = grouped(dc); // [b, Hkv, G·T, hd]
    const dVc = headMatMul(p, dO, true, false); // [b, Hkv, S, hd]
    const dS = tf.tidy(() => {
      const dP = headMatMul(dO, vc, false, true); // [b, Hkv, G·T, S]
      return tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true))) as tf.Tensor4D;
    });
    p.dispose();
    const dQc = tf.mul(headMatMul(dS, kc), scale).reshape([qc.shape[0], h, t, hd]) as tf.Tensor4D; // [b, H, T, hd]
    const dKc = headMatMul(dS, qScaled, true, false); // [b, Hkv, S, hd]
    dS.dispose();
    return [dQc, dKc, dVc];
  });
  return { dQ, dK, dV };
}

/** Default positions: pastLength .. pastLength+T-1 for every row, [B, T] int32. */
export function defaultPositions(batch: number, t: number, pastLength: number): tf.Tensor2D {
  return tf.range(pastLength, pastLength + t, 1, 'int32').expandDims(0).tile([batch, 1]) as tf.Tensor2D;
}
