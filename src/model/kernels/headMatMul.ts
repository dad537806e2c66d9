/**
 * The attention's per-head products, [batch, M, K] · [batch, K, N], fast on wasm.
 *
 * tfjs-wasm sends a matmul to XNNPACK only when it is one plain [M, K]·[K, N] product (no
 * batch, no transpose flag); anything batched or transposed goes to a scalar loop about 8×
 * slower (bench: 64-wide heads at 148 tokens, 0.9-1.1 against 7-9 GFLOP/s). Attention is
 * nothing but batched products, so on the default model they were 62% of a training step.
 *
 * StudioHeadMatMul calls tfjs-wasm's own BatchMatMul once per batch item on views into the
 * operands' heap memory (tensor ids registered at an offset inside each operand, never
 * freed from JS, so nothing is copied or stacked); XNNPACK then takes every product. A
 * transposed operand is transposed first (one memory-bound pass). Elsewhere it is tf.matMul.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const HEAD_MATMUL = 'StudioHeadMatMul';

/** What this kernel needs of tfjs-wasm beyond its public surface (4.22). */
interface WasmInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  dataIdNextNumber: number;
  wasm: {
    cwrap(name: string, returns: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
}

type BatchMatMulCall = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number) => void;

/** tfjs-wasm's BatchMatMul entry, per backend instance (a new instance has a new module). */
const batchMatMulOf = new WeakMap<object, BatchMatMulCall>();

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

const wasmKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { a, b } = inputs as Record<string, tf.TensorInfo>;
  const [batch, m, k] = a.shape;
  const n = b.shape[2];
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 3 || b.shape.length !== 3 || b.shape[0] !== batch || b.shape[1] !== k) {
    throw new Error(`${HEAD_MATMUL}: needs float32 [batch, M, K] and [batch, K, N], got [${a.shape}] and [${b.shape}]`);
  }
  const wasm = backend as BackendWasm;
  const internals = backend as unknown as WasmInternals;
  let call = batchMatMulOf.get(internals.wasm);
  if (!call) {
    call = internals.wasm.cwrap('BatchMatMul', null,
      ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as unknown as BatchMatMulCall;
    batchMatMulOf.set(internals.wasm, call);
  }
  const out = wasm.makeOutput([batch, m, n], 'float32');
  if (batch * m * n === 0) return out;
  if (k === 0) {
    (wasm.typedArrayFromHeap(out) as Float32Array).fill(0);
    return out;
  }
  const offset = (t: tf.TensorInfo) => internals.dataIdMap.get(t.dataId).memoryOffset;
  const [aAt, bAt, outAt] = [offset(a), offset(b), offset(out)];
  const { tfjs } = internals.wasm;
  const aShape = shapeBytes([1, m, k]);
  const bShape = shapeBytes([1, k, n]);
  for (let i = 0; i < batch; i++) {
    const ids = [internals.dataIdNextNumber++, internals.dataIdNextNumber++, internals.dataIdNextNumber++];
    tfjs.registerTensor(ids[0], m * k, aAt + 4 * i * m * k);
    tfjs.registerTensor(ids[1], k * n, bAt + 4 * i * k * n);
    tfjs.registerTensor(ids[2], m * n, outAt + 4 * i * m * n);
    try {
      call(ids[0], aShape, 3, ids[1], bShape, 3, false, false, ids[2]);
    } finally {
      // Forgets the views (and the XNNPACK operator made for this b) without freeing any memory.
      for (const id of ids) tfjs.disposeData(id);
    }
  }
  return out;
};

tf.registerGradient({
  kernelName: HEAD_MATMUL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as tf.Tensor3D[];
    return {
      a: () => headMatMul(dy as tf.Tensor3D, b, false, true),
      b: () => headMatMul(a, dy as tf.Tensor3D, true, false),
    };
  },
});

/** Registers the kernel with the wasm backend; safe to call again. */
export function registerHeadMatMulKernel(): void {
  if (!tf.getKernel(HEAD_MATMUL, 'wasm')) tf.registerKernel({ kernelName: HEAD_MATMUL, backendName: 'wasm', kernelFunc: wasmKernel });
}

/** The last two axes swapped. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return tf.transpose(x, perm);
}

/**
 * tf.matMul(a, b, transposeA, transposeB) for operands with the same leading (batch) axes, of
 * rank 3 or more; on wasm through StudioHeadMatMul.
 */
export function headMatMul<T extends tf.Tensor>(a: T, b: T, transposeA = false, transposeB = false): T {
  const lead = a.shape.slice(0, -2);
  const sameBatch = a.rank >= 3 && b.rank === a.rank && lead.every((d, i) => d === b.shape[i]);
  const inner = (x: tf.Tensor, transposed: boolean, left: boolean) => x.shape[x.rank - (transposed === left ? 2 : 1)];
  // Anything else (and a mismatch, which tf.matMul words) is tf.matMul's.
  if (tf.getBackend() !== 'wasm' || !sameBatch || inner(a, transposeA, true) !== inner(b, transposeB, false) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return tf.matMul(a, b, transposeA, transposeB) as T;
  }
  registerHeadMatMulKernel();
  return tf.tidy(() => {
    const left = transposeA ? swapLast(a) : a;
    const right = transposeB ? swapLast(b) : b;
    const [m, k] = left.shape.slice(-2);
    const n = right.shape[right.rank - 1];
    const batch = lead.reduce((p, d) => p * d, 1);
    const product = tf.engine().runKernel(HEAD_MATMUL, { a: left.reshape([batch, m, k]), b: right.reshape([batch, k, n]) }) as tf.Tensor3D;
    return product.reshape([...lead, m, n]) as T;
  });
}
