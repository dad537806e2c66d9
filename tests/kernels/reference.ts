/**
 * The int8 kernels' arithmetic in plain JavaScript, step for step as the WGSL does it:
 * the same tiles, the same zero fill past the edges, the same unpacking of little-endian
 * words and dequantization as a tile is loaded, float32 rounding at each fma (but for the
 * rare double rounding of a sum in a double). Tests hold it against a float32 matmul of the
 * dequantized weights, which checks the tiling and indexing where a debugger can reach them;
 * the browser tests check the WGSL itself.
 */
import { tilesFor, tileShape, type Int8MatMulMode } from '../../src/model/kernels/int8Matmul';

const f32 = Math.fround;

/** The four int8 values of a word, byte 0 first, sign-extended: `unpackInt8` in WGSL. */
export function unpackInt8Word(word: number): [number, number, number, number] {
  return [(word << 24) >> 24, (word << 16) >> 24, (word << 8) >> 24, word >> 24];
}

export interface PackedMatrix {
  /** [rows, wordsPerRow] packed int8, as `packInt8Rows` writes them. */
  words: Int32Array;
  wordsPerRow: number;
  /** [rows] */
  scales: Float32Array;
  rows: number;
}

/**
 * The tiled product C[n, j] = Σ_r A[n, r] · B[r, j] of `int8MatMulSource`: A is [rows, depth]
 * row-major; B comes from the packed weights, transposed for the forward.
 */
function tiledProduct(mode: Int8MatMulMode, a: Float32Array, rows: number, depth: number, w: PackedMatrix, cols: number, bias?: Float32Array): Float32Array {
  const t = tilesFor(rows);
  const { tn, tj } = tileShape(t);
  const tr = t.tileR;
  const out = new Float32Array(rows * cols);
  const tileA = Array.from({ length: tr }, () => new Float32Array(tn)); // [r][n]
  const tileB = Array.from({ length: tr }, () => new Float32Array(tj)); // [r][j]
  const weights = (m: number, word: number): number[] => {
    if (m >= w.rows || word >= w.wordsPerRow) return [0, 0, 0, 0];
    const s = w.scales[m];
    return unpackInt8Word(w.words[m * w.wordsPerRow + word]).map((q) => f32(q * s));
  };

  for (let n0 = 0; n0 < rows; n0 += tn) {
    for (let j0 = 0; j0 < cols; j0 += tj) {
      const acc = new Float32Array(tn * tj); // [n][j] within the tile: every thread's block at once
      for (let r0 = 0; r0 < depth; r0 += tr) {
        for (let i = 0; i < tn * tr; i++) {
          const n = n0 + Math.floor(i / tr);
          const r = r0 + (i % tr);
          tileA[i % tr][Math.floor(i / tr)] = n < rows && r < depth ? a[n * depth + r] : 0;
        }
        if (mode === 'forward') {
          const words = tr / 4;
          for (let i = 0; i < tj * words; i++) {
            const j = Math.floor(i / words);
            const wd = i % words;
            weights(j0 + j, r0 / 4 + wd).forEach((v, c) => (tileB[4 * wd + c][j] = v));
          }
        } else {
          const words = tj / 4;
          for (let i = 0; i < tr * words; i++) {
            const r = Math.floor(i / words);
            const wd = i % words;
            weights(r0 + r, j0 / 4 + wd).forEach((v, c) => (tileB[r][4 * wd + c] = v));
          }
        }
        for (let r = 0; r < tr; r++) {
          for (let y = 0; y < tn; y++) {
            const av = tileA[r][y];
            // The product of two float32 values is exact in a double, so this rounds once, as fma does.
            for (let x = 0; x < tj; x++) acc[y * tj + x] = f32(acc[y * tj + x] + av * tileB[r][x]);
          }
        }
      }
      for (let y = 0; y < tn && n0 + y < rows; y++) {
        for (let x = 0; x < tj && j0 + x < cols; x++) {
          out[(n0 + y) * cols + j0 + x] = bias ? f32(acc[y * tj + x] + bias[j0 + x]) : acc[y * tj + x];
        }
      }
    }
  }
  return out;
}

/** y = x · Wᵀ (+ b): x [N, K], W [M, K] packed → [N, M]. */
export function int8MatMulReference(x: Float32Array, n: number, k: number, w: PackedMatrix, bias?: Float32Array): Float32Array {
  if (Math.ceil(k / 4) !== w.wordsPerRow) throw new RangeError(`x has ${k} columns, W rows hold ${w.wordsPerRow} words`);
  return tiledProduct('forward', x, n, k, w, w.rows, bias);
}

/** dx = dy · W: dy [N, M], W [M, K] packed → [N, K]. */
export function int8MatMulInputGradReference(dy: Float32Array, n: number, w: PackedMatrix, k: number): Float32Array {
  if (Math.ceil(k / 4) !== w.wordsPerRow) throw new RangeError(`${k} input features, W rows hold ${w.wordsPerRow} words`);
  return tiledProduct('inputGrad', dy, n, w.rows, w, k);
}

/** ids [R] → [R, d] dequantized rows; ids outside the table give zero rows. */
export function int8EmbeddingReference(ids: ArrayLike<number>, w: PackedMatrix, dim: number): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let row = 0; row < ids.length; row++) {
    const id = ids[row];
    if (id < 0 || id >= w.rows) continue;
    for (let c = 0; c < dim; c++) {
      const q = unpackInt8Word(w.words[id * w.wordsPerRow + (c >> 2)])[c & 3];
      out[row * dim + c] = f32(q * w.scales[id]);
    }
  }
  return out;
}
