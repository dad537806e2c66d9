/**
 * Frozen int8 layers. The weights stay int8 on every backend — packed four to an int32
 * word, with float32 per-row scales — and our kernels (./kernels) dequantize inside the
 * multiply (WGSL on WebGPU; a tile at a time into tfjs's matmul on wasm and cpu), so a
 * model takes about a quarter of its float32 memory wherever it runs.
 */
import * as tf from '@tensorflow/tfjs';
import {
  int8Embedding,
  int8KernelsAvailable,
  int8MatMul,
  int8MatMulInputGrad,
  int8TableRows,
  registerInt8Kernels,
} from './kernels';
import { DenseEmbedding, DenseLinear, type Embedding, type Linear } from './layers';
import { dequantizeRows, packInt8Rows, type QuantizedMatrix } from './quantize';

/** An int8 matrix [rows, cols] on the backend: words [rows, ⌈cols/4⌉] int32, scales [rows]. */
export interface PackedTensors {
  words: tf.Tensor2D;
  scales: tf.Tensor1D;
  cols: number;
}

/** Uploads a quantized matrix packed, disposing what it made if the second upload fails. */
function upload(q: QuantizedMatrix): PackedTensors {
  const { words, wordsPerRow } = packInt8Rows(q.values, q.rows, q.cols);
  const packed = tf.tensor2d(words, [q.rows, wordsPerRow], 'int32');
  try {
    return { words: packed, scales: tf.tensor1d(q.scales), cols: q.cols };
  } catch (e) {
    packed.dispose();
    throw e;
  }
}

function dequantized(q: QuantizedMatrix): tf.Tensor2D {
  return tf.tensor2d(dequantizeRows(q), [q.rows, q.cols]);
}

type Apply = (x: tf.Tensor2D) => tf.Tensor2D;
type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/**
 * y = x·Wᵀ (+ b) and its input gradient dx = dy·W through the int8 kernels. Each is the
 * other's gradient (without the bias), so second derivatives flow as well. W needs no
 * gradient: it is frozen, and only x (soft prompts, through the layers) is trained.
 */
function kernelApply(w: PackedTensors, bias?: tf.Tensor1D): { apply: Apply; inputGrad: Apply } {
  let forward: Apply;
  const inputGrad = tf.customGrad(((dy: tf.Tensor2D) => ({
    value: int8MatMulInputGrad(dy, w.words, w.scales, w.cols), // [N, in]
    gradFunc: (ddx: tf.Tensor2D) => forward(ddx), // [N, out]
  })) as unknown as CustomGradFn) as unknown as Apply;
  forward = tf.customGrad(((x: tf.Tensor2D) => ({
    value: int8MatMul(x, w.words, w.scales), // [N, out]
    gradFunc: (dy: tf.Tensor2D) => inputGrad(dy), // [N, in]
  })) as unknown as CustomGradFn) as unknown as Apply;
  if (!bias) return { apply: forward, inputGrad };
  const withBias = tf.customGrad(((x: tf.Tensor2D) => ({
    value: int8MatMul(x, w.words, w.scales, bias), // [N, out], bias fused
    gradFunc: (dy: tf.Tensor2D) => inputGrad(dy),
  })) as unknown as CustomGradFn) as unknown as Apply;
  return { apply: withBias, inputGrad };
}

export class QuantLinear implements Linear {
  readonly outFeatures: number;
  readonly inFeatures: number;
  private readonly run: Apply;
  private readonly runInputGrad: Apply;
  private readonly owned: tf.Tensor[];

  /**
   * From weights already on the backend: packed (int8 kernels) or a dense float32 [out, in]
   * (any backend). Prefer `fromQuantized`, which picks for the current backend.
   */
  constructor(weight: PackedTensors | tf.Tensor2D, bias?: tf.Tensor1D) { // bias [out]
    if (weight instanceof tf.Tensor) {
      [this.outFeatures, this.inFeatures] = weight.shape;
      const dense = new DenseLinear(weight, bias);
      this.run = (x) => dense.apply(x);
      this.runInputGrad = (dy) => dense.inputGrad(dy);
      this.owned = dense.tensors();
      return;
    }
    registerInt8Kernels();
    this.outFeatures = weight.words.shape[0];
    this.inFeatures = weight.cols;
    ({ apply: this.run, inputGrad: this.runInputGrad } = kernelApply(weight, bias));
    this.owned = bias ? [weight.words, weight.scales, bias] : [weight.words, weight.scales];
  }

  /** Packed int8 where the int8 kernels run (WebGPU), dequantized float32 elsewhere. */
  static fromQuantized(q: QuantizedMatrix, bias?: tf.Tensor1D): QuantLinear {
    return new QuantLinear(int8KernelsAvailable() ? upload(q) : dequantized(q), bias);
  }

  /** [N, in] → [N, out] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (x.shape[1] !== this.inFeatures) {
      throw new Error(`QuantLinear: input has ${x.shape[1]} features, the layer takes ${this.inFeatures}`);
    }
    return this.run(x);
  }

  /** [N, out] → [N, in] */
  inputGrad(dy: tf.Tensor2D): tf.Tensor2D {
    return this.runInputGrad(dy);
  }

  tensors(): tf.Tensor[] {
    return [...this.owned];
  }
}

/**
 * A token embedding table kept int8, which a tied LM head shares: one packed copy serves
 * both the lookup and the logits. What needs rows as floats (prompt initialization, the
 * nearest-token projection) asks for them a tile at a time.
 */
export class QuantEmbedding implements Embedding {
  readonly vocabSize: number;
  readonly dim: number;
  private readonly packed: PackedTensors | null;
  private readonly dense: DenseEmbedding | null;
  private head?: Linear;

  constructor(weight: PackedTensors | tf.Tensor2D) {
    if (weight instanceof tf.Tensor) {
      this.packed = null;
      this.dense = new DenseEmbedding(weight);
      [this.vocabSize, this.dim] = weight.shape;
      return;
    }
    registerInt8Kernels();
    this.packed = weight;
    this.dense = null;
    this.vocabSize = weight.words.shape[0];
    this.dim = weight.cols;
  }

  static fromQuantized(q: QuantizedMatrix): QuantEmbedding {
    return new QuantEmbedding(int8KernelsAvailable() ? upload(q) : dequantized(q));
  }

  /** [B, T] int32 → [B, T, d] */
  lookup(ids: tf.Tensor2D): tf.Tensor3D {
    if (this.dense) return this.dense.lookup(ids);
    const p = this.packed!;
    const [b, t] = ids.shape;
    return tf.tidy(() => {
      const flat = (ids.dtype === 'int32' ? ids : ids.toInt()).reshape([b * t]) as tf.Tensor1D; // [B·T]
      return int8Embedding(flat, p.words, p.scales, this.dim).reshape([b, t, this.dim]); // [B, T, d]
    });
  }

  rowRange(start: number, count: number, transpose = false): tf.Tensor2D {
    if (this.dense) return this.dense.rowRange(start, count, transpose);
    const p = this.packed!;
    return int8TableRows(p.words, p.scales, this.dim, start, count, transpose);
  }

  asLinear(): Linear {
    if (this.dense) return this.dense.asLinear();
    this.head ??= new QuantLinear(this.packed!);
    return this.head;
  }

  /** The packed table and its scales. */
  tensors(): tf.Tensor[] {
    if (this.dense) return this.dense.tensors();
    const p = this.packed!;
    return [p.words, p.scales];
  }
}
