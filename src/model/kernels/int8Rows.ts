/**
 * int8 weights on the CPU backends (wasm and cpu), in the same packed form as on WebGPU: a
 * matrix [rows, cols] as int32 words [rows, ⌈cols/4⌉], four int8 values to a word,
 * little-endian, with one float32 scale per row. Read as bytes, a word array is the int8
 * matrix itself (row r starts at byte 4·r·⌈cols/4⌉), so no copy is ever unpacked in full.
 *
 * One kernel, StudioInt8Rows, dequantizes some rows — a range, or listed ids — into a float32
 * tile, as it is or transposed. The products are built from it a tile at a time, each tile
 * freed before the next is made (int8MatMulTiled, int8MatMulInputGradTiled): the memory a
 * product needs beyond its output is one tile, whatever the size of the weight, and every
 * multiply is tfjs's own plain (untransposed) matmul, the fast path of wasm's XNNPACK.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdDequantizer } from './wasmSimdDequantize';

export const INT8_ROWS = 'StudioInt8Rows';

/** Float elements of one dequantized tile: 4 MiB, small next to any activation worth tiling for. */
export const TILE_ELEMENTS = 1 << 20;

export const CPU_BACKENDS = ['cpu', 'wasm'] as const;

interface RowsAttrs {
  /** Values per stored row (the words hold ⌈cols/4⌉·4 bytes). */
  cols: number;
  /** First row and row count when no ids are given. */
  start: number;
  count: number;
  /** The window of each row that is read: values colStart..colStart+colCount. */
  colStart: number;
  colCount: number;
  /** Write [cols, n] instead of [n, cols]. */
  transpose: boolean;
}

/**
 * out[i, c] = int8(W[row_i, colStart + c]) · scales[row_i], rows row_i = ids[i] or start + i,
 * c < colCount; with `transpose`, out[c, i]. Plain loops over typed arrays, over rows
 * from ≤ i < to and columns c ≥ fromCol: the whole tile on the cpu backend, on wasm the edges
 * the SIMD module leaves.
 */
function dequantizeRows(
  bytes: Int8Array, scales: Float32Array, ids: Int32Array | null, attrs: RowsAttrs, rowBytes: number, out: Float32Array,
  from = 0, to = ids ? ids.length : attrs.count, fromCol = 0,
): void {
  const { colCount: cols, start, transpose } = attrs;
  const n = ids ? ids.length : attrs.count;
  for (let i = from; i < to; i++) {
    const row = ids ? ids[i] : start + i;
    const s = scales[row];
    const base = row * rowBytes + attrs.colStart;
    if (transpose) {
      for (let c = fromCol, at = fromCol * n + i; c < cols; c++, at += n) out[at] = bytes[base + c] * s;
    } else {
      const rowAt = i * cols;
      for (let c = fromCol; c < cols; c++) out[rowAt + c] = bytes[base + c] * s;
    }
  }
}

function checkRows(w: tf.TensorInfo, scales: tf.TensorInfo, ids: tf.TensorInfo | undefined, attrs: RowsAttrs): number {
  if (w.dtype !== 'int32' || w.shape.length !== 2) throw new Error(`${INT8_ROWS}: W must be int32 [rows, words], got ${w.dtype} [${w.shape}]`);
  if (Math.ceil(attrs.cols / 4) !== w.shape[1]) throw new Error(`${INT8_ROWS}: rows of ${attrs.cols} values do not fit W [${w.shape}]`);
  if (scales.shape[0] !== w.shape[0]) throw new Error(`${INT8_ROWS}: ${scales.shape[0]} scales for ${w.shape[0]} rows`);
  if (attrs.colStart < 0 || attrs.colCount < 1 || attrs.colStart + attrs.colCount > attrs.cols) {
    throw new Error(`${INT8_ROWS}: columns ${attrs.colStart}..${attrs.colStart + attrs.colCount} of ${attrs.cols}`);
  }
  if (ids) {
    if (ids.dtype !== 'int32' || ids.shape.length !== 1) throw new Error(`${INT8_ROWS}: ids must be int32 [n]`);
    return ids.shape[0];
  }
  if (attrs.start < 0 || attrs.start + attrs.count > w.shape[0]) throw new Error(`${INT8_ROWS}: rows ${attrs.start}..${attrs.start + attrs.count} of ${w.shape[0]}`);
  return attrs.count;
}

/** Ids outside the table would read another row's bytes (or none): refused like tfjs's gather. */
function checkIds(ids: Int32Array | null, rows: number): void {
  if (!ids) return;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= rows) throw new Error(`${INT8_ROWS}: row id ${ids[i]} is not in [0, ${rows - 1}]`);
  }
}

const outShape = (n: number, attrs: RowsAttrs) => (attrs.transpose ? [attrs.colCount, n] : [n, attrs.colCount]);

const wasmKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { W: w, scales, ids } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as RowsAttrs;
  const n = checkRows(w, scales, ids, a);
  const wasm = backend as BackendWasm;
  // The output first: allocating can grow the heap, which detaches views taken before.
  const out = wasm.makeOutput(outShape(n, a), 'float32');
  const words = wasm.typedArrayFromHeap(w) as Int32Array;
  const idValues = ids ? (wasm.typedArrayFromHeap(ids) as Int32Array) : null;
  checkIds(idValues, w.shape[0]);
  const rowBytes = w.shape[1] * 4;
  const scalar = (from?: number, to?: number, fromCol?: number) => dequantizeRows(
    new Int8Array(words.buffer, words.byteOffset, words.byteLength), wasm.typedArrayFromHeap(scales) as Float32Array, idValues, a,
    rowBytes, wasm.typedArrayFromHeap(out) as Float32Array, from, to, fromCol,
  );
  const simd = simdDequantizer(wasm);
  const at = (t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!.memoryOffset;
  const window = at(w) + a.colStart; // the module addresses row r's window at window + r·rowBytes
  if (simd && !a.transpose) {
    const cols8 = a.colCount & ~7;
    simd.rows(window, rowBytes, at(scales), ids ? at(ids) : 0, a.start, n, cols8, a.colCount, at(out));
    if (cols8 < a.colCount) scalar(0, n, cols8);
  } else if (simd && !ids) {
    const [n4, cols4] = [n & ~3, a.colCount & ~3];
    simd.transposed(window, rowBytes, at(scales), a.start, n4, cols4, n, at(out));
    if (cols4 < a.colCount) scalar(0, n4, cols4);
    if (n4 < n) scalar(n4, n);
  } else {
    scalar();
  }
  return out;
};

const cpuKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { W: w, scales, ids } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as RowsAttrs;
  const n = checkRows(w, scales, ids, a);
  const cpu = backend as MathBackendCPU;
  const words = cpu.data.get(w.dataId).values as Int32Array;
  const idValues = ids ? (cpu.data.get(ids.dataId).values as Int32Array) : null;
  checkIds(idValues, w.shape[0]);
  const out = new Float32Array(n * a.cols);
  dequantizeRows(
    new Int8Array(words.buffer, words.byteOffset, words.byteLength), cpu.data.get(scales.dataId).values as Float32Array, idValues, a,
    w.shape[1] * 4, out,
  );
  return cpu.makeTensorInfo(outShape(n, a), 'float32', out);
};

/** Registers StudioInt8Rows with the cpu and wasm backends; safe to call again. */
export function registerInt8RowsKernel(): void {
  for (const [backendName, kernelFunc] of [['wasm', wasmKernel], ['cpu', cpuKernel]] as const) {
    if (!tf.getKernel(INT8_ROWS, backendName)) tf.registerKernel({ kernelName: INT8_ROWS, backendName, kernelFunc });
  }
}

/**
 * Rows start..start+count of the packed matrix [rows, cols] as float32: [count, cols], or
 * [cols, count] transposed; or only their columns colStart..colStart+colCount.
 */
export function int8RowRange(
  packed: tf.Tensor2D, scales: tf.Tensor1D, cols: number, start: number, count: number, transpose = false,
  colStart = 0, colCount = cols - colStart,
): tf.Tensor2D {
  const attrs: RowsAttrs = { cols, start, count, transpose, colStart, colCount };
  return tf.engine().runKernel(INT8_ROWS, { W: packed, scales }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/** The rows `ids` [n] of the packed matrix as float32 [n, cols]: an int8 embedding lookup. */
export function int8RowsAt(packed: tf.Tensor2D, scales: tf.Tensor1D, cols: number, ids: tf.Tensor1D): tf.Tensor2D {
  const attrs: RowsAttrs = { cols, start: 0, count: 0, transpose: false, colStart: 0, colCount: cols };
  return tf.engine().runKernel(INT8_ROWS, { W: packed, scales, ids }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/** Row ranges of at most TILE_ELEMENTS values. */
function* rowTiles(rows: number, cols: number): Generator<[number, number]> {
  const per = Math.max(1, Math.floor(TILE_ELEMENTS / Math.max(1, cols)));
  for (let start = 0; start < rows; start += per) yield [start, Math.min(per, rows - start)];
}

/**
 * Whether a product with an [N, K] activation and an [M, K] weight goes weights-major, with
 * the dequantized tile as the left operand. XNNPACK packs a matmul's right-hand operand on
 * every call: with the tile on the right that is a pass over the tile, which is the product's
 * whole cost when N is a few rows (the LM head on a batch's target tokens, a decoded token).
 * On the left only the small activation is packed, at the price of transposing it and the
 * result; that pays while those two are well under the weight.
 */
export function weightsMajor(n: number, k: number, m: number): boolean {
  return 2 * n * (k + m) < m * k;
}

/** a + b, freeing both (a may be null: the first term). */
function accumulate(sum: tf.Tensor2D | null, part: tf.Tensor2D): tf.Tensor2D {
  if (sum === null) return part;
  const next = tf.add(sum, part) as tf.Tensor2D;
  tf.dispose([sum, part]);
  return next;
}

/**
 * y = x · Wᵀ (+ b): x [N, K], W packed [M, ⌈K/4⌉] → [N, M], a tile of W's rows (output
 * columns) at a time: each tile dequantized transposed [K, m] and multiplied as it is, or
 * weights-major, yᵀ = W·xᵀ, with each tile [m, K] as it is stored.
 */
export function int8MatMulTiled(x: tf.Tensor2D, packed: tf.Tensor2D, scales: tf.Tensor1D, bias?: tf.Tensor1D): tf.Tensor2D {
  const [n, k] = x.shape;
  const xT = weightsMajor(n, k, packed.shape[0]) ? tf.transpose(x) : null; // [K, N]
  const parts: tf.Tensor2D[] = [];
  try {
    for (const [start, count] of rowTiles(packed.shape[0], k)) {
      const tile = int8RowRange(packed, scales, k, start, count, xT === null); // [m, K] weights-major, else [K, m]
      try {
        parts.push(xT ? tf.matMul(tile, xT) : tf.matMul(x, tile)); // [m, N] or [N, m]
      } finally {
        tile.dispose();
      }
    }
  } catch (e) {
    tf.dispose(parts);
    throw e;
  } finally {
    xT?.dispose();
  }
  // Each step below frees what it read: every intermediate is this function's own.
  let y = parts.length === 1 ? parts[0] : replaced(parts, () => tf.concat(parts, xT ? 0 : 1)); // [M, N] or [N, M]
  if (xT) y = replaced([y], () => tf.transpose(y)); // [N, M]
  if (bias) y = replaced([y], () => tf.add(y, bias));
  return y;
}

/** make(), then the inputs disposed. */
function replaced(inputs: tf.Tensor[], make: () => tf.Tensor): tf.Tensor2D {
  const out = make() as tf.Tensor2D;
  tf.dispose(inputs);
  return out;
}

/**
 * Columns per tile when dx = dy · W is built a tile of W's columns at a time ([M, k'] each,
 * a multiple of 8 for the SIMD module), or 0 where M is so tall that such a tile would be
 * too narrow to multiply well (an LM head's vocabulary) and W's rows are tiled instead.
 */
export function inputGradColumnTile(m: number, inFeatures: number): number {
  const columns = Math.floor(TILE_ELEMENTS / m) & ~7;
  return columns >= 64 ? Math.min(columns, inFeatures) : 0;
}

/**
 * dx = dy · W: dy [N, M], W packed [M, ⌈K/4⌉] → [N, K]. A tile of W's columns at a time,
 * each product a slice of dx over the whole reduction, joined once; where M is too tall for
 * that (inputGradColumnTile), summed over tiles of W's rows. Weights-major, dxᵀ = Σ tileᵀ ·
 * (rows of dyᵀ), each tile dequantized transposed [K, m'].
 */
export function int8MatMulInputGradTiled(dy: tf.Tensor2D, packed: tf.Tensor2D, scales: tf.Tensor1D, inFeatures: number): tf.Tensor2D {
  const [n, m] = dy.shape;
  const dyT = weightsMajor(n, inFeatures, m) ? tf.transpose(dy) : null; // [M, N]
  const columns = dyT ? 0 : inputGradColumnTile(m, inFeatures);
  if (columns > 0) return inputGradByColumns(dy, packed, scales, inFeatures, columns);
  // tf.slice on wasm copies its whole input first (readSync), so many slices of dyT would
  // each cost a pass over it: its rows are read out once and each tile's uploaded.
  const dyTRows = dyT?.dataSync() as Float32Array | undefined;
  let sum: tf.Tensor2D | null = null;
  try {
    for (const [start, count] of rowTiles(m, inFeatures)) {
      const tile = int8RowRange(packed, scales, inFeatures, start, count, dyT !== null); // [K, m'] weights-major, else [m', K]
      const whole = dyT ?? dy;
      const slice = count === m ? whole
        : dyTRows ? tf.tensor2d(dyTRows.subarray(start * n, (start + count) * n), [count, n]) // [m', N]
        : tf.slice(dy, [0, start], [n, count]); // [N, m']
      try {
        sum = accumulate(sum, (dyT ? tf.matMul(tile, slice) : tf.matMul(slice, tile)) as tf.Tensor2D); // [K, N] or [N, K]
      } finally {
        tile.dispose();
        if (slice !== whole) slice.dispose();
      }
    }
    if (!dyT) return sum!;
    const dx = tf.transpose(sum!); // [N, K]
    sum!.dispose();
    return dx;
  } finally {
    dyT?.dispose();
  }
}

/**
 * dx [N, K] as dy · W[:, k0..k0+k'] for column windows of W. Against tiling W's rows this
 * makes no column slices of dy (on wasm each copies all of dy first) and no partial sums,
 * and each product reduces over all of M. With Qwen2.5-0.5B's MLP (4864 × 896) a training
 * step took 0.94 of the time (4 layers, batch 8 × 148, the two ways alternated in one process).
 */
function inputGradByColumns(dy: tf.Tensor2D, packed: tf.Tensor2D, scales: tf.Tensor1D, inFeatures: number, columns: number): tf.Tensor2D {
  const m = dy.shape[1];
  const parts: tf.Tensor2D[] = [];
  try {
    for (let k0 = 0; k0 < inFeatures; k0 += columns) {
      const tile = int8RowRange(packed, scales, inFeatures, 0, m, false, k0, Math.min(columns, inFeatures - k0)); // [M, k']
      try {
        parts.push(tf.matMul(dy, tile)); // [N, k']
      } finally {
        tile.dispose();
      }
    }
  } catch (e) {
    tf.dispose(parts);
    throw e;
  }
  return parts.length === 1 ? parts[0] : replaced(parts, () => tf.concat(parts, 1)); // [N, K]
}
