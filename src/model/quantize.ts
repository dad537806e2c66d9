/**
 * Symmetric absmax int8 quantization with one scale per output channel (a row of a
 * [out, in] weight matrix): w ≈ q * scale, q in [-127, 127]. One scale per row keeps the
 * error of every output feature proportional to that feature's own range, which is what
 * lets a tiny model like stories260K keep its exact greedy path.
 */

export interface QuantizedMatrix {
  /** [rows, cols] row-major int8 values. */
  values: Int8Array;
  /** [rows] float32 scales. */
  scales: Float32Array;
  rows: number;
  cols: number;
}

export function quantizeRows(weights: Float32Array, rows: number, cols: number): QuantizedMatrix {
  if (weights.length !== rows * cols) {
    throw new RangeError(`quantizeRows: ${weights.length} values for a ${rows}x${cols} matrix`);
  }
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let absMax = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) absMax = Math.max(absMax, Math.abs(weights[base + c]));
    // An all-zero row quantizes to zeros with any scale; 1 avoids a division by zero.
    const scale = absMax > 0 ? absMax / 127 : 1;
    scales[r] = scale;
    const inverse = 1 / scales[r];
    for (let c = 0; c < cols; c++) {
      values[base + c] = Math.max(-127, Math.min(127, Math.round(weights[base + c] * inverse)));
    }
  }
  return { values, scales, rows, cols };
}

export function dequantizeRows(q: QuantizedMatrix): Float32Array {
  const out = new Float32Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) {
    const s = q.scales[r];
    const base = r * q.cols;
    for (let c = 0; c < q.cols; c++) out[base + c] = q.values[base + c] * s;
  }
  return out;
}

/**
 * Packs int8 values four to a 32-bit word, little-endian within the word (value k of a
 * group in bits 8k..8k+7), each row padded with zeros to a multiple of 4 so a row starts
 * on a word boundary. This is how int8 weights live in an int32 tfjs tensor on WebGPU.
 */
export function packInt8Rows(values: Int8Array, rows: number, cols: number): { words: Int32Array; wordsPerRow: number } {
  const wordsPerRow = Math.ceil(cols / 4);
  const words = new Int32Array(rows * wordsPerRow);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const byte = values[r * cols + c] & 0xff;
      words[r * wordsPerRow + (c >> 2)] |= byte << ((c & 3) * 8);
    }
  }
  return { words, wordsPerRow };
}
