/**
 * Our int8 kernels, and the calls that run them on whichever backend is current. On WebGPU
 * they are WGSL programs (int8Matmul.ts, int8Embedding.ts); on wasm and cpu the weights stay
 * int8 just the same and are dequantized a tile at a time into tfjs's own matmul
 * (int8Rows.ts). Registered under our own names, so they never shadow a tfjs kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { Int8EmbeddingProgram } from './int8Embedding';
import { Int8MatMulProgram } from './int8Matmul';
import { CPU_BACKENDS, int8MatMulInputGradTiled, int8MatMulTiled, int8RowRange, int8RowsAt, registerInt8RowsKernel } from './int8Rows';

export const INT8_MATMUL = 'StudioInt8MatMul';
export const INT8_MATMUL_INPUT_GRAD = 'StudioInt8MatMulInputGrad';
export const INT8_EMBEDDING = 'StudioInt8Embedding';

const BACKEND = 'webgpu';

type Inputs = tf.NamedTensorMap;

function checkInputs(name: string, a: tf.TensorInfo, w: tf.TensorInfo, scales: tf.TensorInfo): void {
  if (w.dtype !== 'int32' || w.shape.length !== 2) throw new Error(`${name}: W must be int32 [rows, words], got ${w.dtype} [${w.shape}]`);
  if (scales.shape.length !== 1 || scales.shape[0] !== w.shape[0]) {
    throw new Error(`${name}: ${scales.shape[0]} scales for ${w.shape[0]} weight rows`);
  }
  if (a.dtype !== 'float32') throw new Error(`${name}: the float input must be float32, got ${a.dtype}`);
}

const matMulKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { A: x, W: w, scales, bias } = inputs as Record<string, tf.TensorInfo>;
  checkInputs(INT8_MATMUL, x, w, scales);
  const [n, k] = x.shape; // [N, K]
  const m = w.shape[0];
  if (Math.ceil(k / 4) !== w.shape[1]) throw new Error(`${INT8_MATMUL}: x has ${k} columns, W rows hold ${w.shape[1]} words`);
  const program = new Int8MatMulProgram('forward', n, m, bias != null);
  const operands = bias ? [x, w, scales, bias] : [x, w, scales];
  return (backend as WebGPUBackend).runWebGPUProgram(program, operands, 'float32'); // [N, M]
};

const inputGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { A: dy, W: w, scales } = inputs as Record<string, tf.TensorInfo>;
  checkInputs(INT8_MATMUL_INPUT_GRAD, dy, w, scales);
  const k = attrs!.inFeatures as number;
  const [n, m] = dy.shape; // [N, M]
  if (m !== w.shape[0] || Math.ceil(k / 4) !== w.shape[1]) {
    throw new Error(`${INT8_MATMUL_INPUT_GRAD}: dy [${dy.shape}] and ${k} input features do not fit W [${w.shape}]`);
  }
  const program = new Int8MatMulProgram('inputGrad', n, k, false);
  return (backend as WebGPUBackend).runWebGPUProgram(program, [dy, w, scales], 'float32'); // [N, K]
};

const embeddingKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { ids, W: w, scales } = inputs as Record<string, tf.TensorInfo>;
  if (ids.dtype !== 'int32' || ids.shape.length !== 1) throw new Error(`${INT8_EMBEDDING}: ids must be int32 [R]`);
  const dim = attrs!.dim as number;
  if (Math.ceil(dim / 4) !== w.shape[1]) throw new Error(`${INT8_EMBEDDING}: rows of ${dim} do not fit W [${w.shape}]`);
  const program = new Int8EmbeddingProgram(ids.shape[0], dim);
  return (backend as WebGPUBackend).runWebGPUProgram(program, [ids, w, scales], 'float32'); // [R, d]
};

/** Registers the kernels with the webgpu backend, and the row kernel with wasm and cpu; safe to call again. */
export function registerInt8Kernels(): void {
  registerInt8RowsKernel();
  const kernels: [string, tf.KernelFunc][] = [
    [INT8_MATMUL, matMulKernel],
    [INT8_MATMUL_INPUT_GRAD, inputGradKernel],
    [INT8_EMBEDDING, embeddingKernel],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (!tf.getKernel(kernelName, BACKEND)) tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
  }
}

const onWebGPU = () => tf.getBackend() === BACKEND;

/** Whether int8 weights can stay int8 on the current backend: on every backend the studio runs on. */
export function int8KernelsAvailable(): boolean {
  return onWebGPU() || (CPU_BACKENDS as readonly string[]).includes(tf.getBackend());
}

/** x [N, K] · Wᵀ (+ bias) with W packed [M, ⌈K/4⌉] and scales [M] → [N, M]. No gradient: see QuantLinear. */
export function int8MatMul(x: tf.Tensor2D, packed: tf.Tensor2D, scales: tf.Tensor1D, bias?: tf.Tensor1D): tf.Tensor2D {
  if (!onWebGPU()) return int8MatMulTiled(x, packed, scales, bias);
  const inputs: Inputs = bias ? { A: x, W: packed, scales, bias } : { A: x, W: packed, scales };
  return tf.engine().runKernel(INT8_MATMUL, inputs) as tf.Tensor2D;
}

/** dy [N, M] · W with W packed [M, ⌈K/4⌉] → [N, K]: the gradient of int8MatMul with respect to x. */
export function int8MatMulInputGrad(dy: tf.Tensor2D, packed: tf.Tensor2D, scales: tf.Tensor1D, inFeatures: number): tf.Tensor2D {
  if (!onWebGPU()) return int8MatMulInputGradTiled(dy, packed, scales, inFeatures);
  return tf.engine().runKernel(INT8_MATMUL_INPUT_GRAD, { A: dy, W: packed, scales }, { inFeatures }) as tf.Tensor2D;
}

/** ids [R] int32 → [R, d] rows of the packed table [V, ⌈d/4⌉] dequantized. */
export function int8Embedding(ids: tf.Tensor1D, packed: tf.Tensor2D, scales: tf.Tensor1D, dim: number): tf.Tensor2D {
  if (!onWebGPU()) return int8RowsAt(packed, scales, dim, ids);
  return tf.engine().runKernel(INT8_EMBEDDING, { ids, W: packed, scales }, { dim }) as tf.Tensor2D;
}

/**
 * Rows start..start+count of a packed table as float32 [count, d], or [d, count] transposed:
 * a tile of the vocabulary, for what must see every row (the nearest-token projection).
 */
export function int8TableRows(packed: tf.Tensor2D, scales: tf.Tensor1D, dim: number, start: number, count: number, transpose = false): tf.Tensor2D {
  if (!onWebGPU()) return int8RowRange(packed, scales, dim, start, count, transpose);
  return tf.tidy(() => {
    const rows = int8Embedding(tf.range(start, start + count, 1, 'int32') as tf.Tensor1D, packed, scales, dim); // [count, d]
    return transpose ? rows.transpose() : rows;
  });
}

export { TILE_ELEMENTS } from './int8Rows';
export { Int8EmbeddingProgram } from './int8Embedding';
export { Int8MatMulProgram, SKINNY_TILES, SQUARE_TILES, tilesFor, tileShape, type TileConfig } from './int8Matmul';
