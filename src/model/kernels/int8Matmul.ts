/**
 * WebGPU programs for frozen int8 weights packed four to an i32 word (see `packInt8Rows`):
 *
 *   forward     y  = x · Wᵀ (+ b)   x [N, K] f32, W [M, ⌈K/4⌉] i32 words, scales [M] → [N, M]
 *   input grad  dx = dy · W         dy [N, M] f32, same W and scales             → [N, K]
 *
 * Both are one tiled product C[n, j] = Σ_r A[n, r] · B[r, j] with A the float input (x or
 * dy) and B the weights, unpacked and dequantized (q · scale of q's row) as they enter
 * workgroup memory: only int8 ever lives in GPU memory, and each weight is expanded once per
 * workgroup instead of once per multiply. The two differ only in how B's tile is read from
 * the words: the forward needs Wᵀ (a tile of rows j, words along r), the gradient W as is.
 *
 * Dequantizing before the multiply (not scaling the sums afterwards) makes every weight the
 * same float32 value the dense path computes at load, so results differ from a float32
 * matmul only by summation order — which keeps greedy decoding on the same tokens.
 *
 * Sizes come from the uniforms tfjs fills in (aShape, wShape, outShape), not from the
 * shader text, so a program compiles once per tile configuration, whatever N, K or M.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/**
 * One workgroup computes a TN×TJ output tile, TN = wgY·perY rows by TJ = wgX·perX columns,
 * each thread a perY×perX block of outputs strided by the workgroup size (so neighbouring
 * threads write neighbouring columns), stepping through the reduction TR at a time.
 */
export interface TileConfig {
  wgX: number;
  wgY: number;
  perX: number;
  perY: number;
  /** Reduction depth of one step; a multiple of 4 so tiles start on word boundaries. */
  tileR: number;
}

/** 32×32 outputs per 64-thread workgroup, 4×4 per thread: batched rows (training, prefill). */
export const SQUARE_TILES: TileConfig = { wgX: 8, wgY: 8, perX: 4, perY: 4, tileR: 32 };
/**
 * 4 rows × 64 columns for a handful of rows (decoding, N = 1): a 32-row tile would leave 31
 * of its 32 rows idle, while the weights — the real cost there — are read the same.
 */
export const SKINNY_TILES: TileConfig = { wgX: 64, wgY: 1, perX: 1, perY: 4, tileR: 32 };

export function tilesFor(rows: number): TileConfig {
  return rows <= 8 ? SKINNY_TILES : SQUARE_TILES;
}

export function tileShape(t: TileConfig) {
  return { tn: t.wgY * t.perY, tj: t.wgX * t.perX, threads: t.wgX * t.wgY };
}

export type Int8MatMulMode = 'forward' | 'inputGrad';

/** Sign-extends the four bytes of a word, little-endian, as `packInt8Rows` stored them. */
export const UNPACK_INT8_WGSL = `
  fn unpackInt8(word : i32) -> vec4<f32> {
    return vec4<f32>(vec4<i32>(word << 24u, word << 16u, word << 8u, word) >> vec4<u32>(24u));
  }
`;

/**
 * The B tile for one reduction step starting at r0, dequantized into tileB[r][j]:
 * forward  B[r][j] = W[j0 + j][r0 + r]  (TJ rows of W, TR/4 words each)
 * gradient B[r][j] = W[r0 + r][j0 + j]  (TR rows of W, TJ/4 words each)
 * Words past a row's end and rows past M read as zero, as do the padding bytes of the last word.
 */
function loadWeightTile(mode: Int8MatMulMode, t: TileConfig): string {
  const { tj, threads } = tileShape(t);
  if (mode === 'forward') {
    const words = t.tileR / 4;
    return `
    for (var i = lid; i < ${tj * words}; i = i + ${threads}) {
      let j = i / ${words};
      let w = i % ${words};
      let m = j0 + j;
      let word = r0 / 4 + w;
      var v = vec4<f32>(0.0);
      if (m < wRows && word < wordsPerRow) {
        v = unpackInt8(W[m * wordsPerRow + word]) * scales[m];
      }
      tileB[4 * w][j] = v.x;
      tileB[4 * w + 1][j] = v.y;
      tileB[4 * w + 2][j] = v.z;
      tileB[4 * w + 3][j] = v.w;
    }`;
  }
  const words = tj / 4;
  return `
    for (var i = lid; i < ${t.tileR * words}; i = i + ${threads}) {
      let r = i / ${words};
      let w = i % ${words};
      let m = r0 + r;
      let word = j0 / 4 + w;
      var v = vec4<f32>(0.0);
      if (m < wRows && word < wordsPerRow) {
        v = unpackInt8(W[m * wordsPerRow + word]) * scales[m];
      }
      tileB[r][4 * w] = v.x;
      tileB[r][4 * w + 1] = v.y;
      tileB[r][4 * w + 2] = v.z;
      tileB[r][4 * w + 3] = v.w;
    }`;
}

export function int8MatMulSource(mode: Int8MatMulMode, t: TileConfig, hasBias: boolean): string {
  const { tn, tj, threads } = tileShape(t);
  const tr = t.tileR;
  // Both tiles are stored reduction-major, so in the inner loop a warp reads consecutive
  // words; the +1 column skews the transposed stores of A across memory banks.
  return `
  var<workgroup> tileA : array<array<f32, ${tn + 1}>, ${tr}>;
  var<workgroup> tileB : array<array<f32, ${tj + 1}>, ${tr}>;
  ${UNPACK_INT8_WGSL}

  fn main() {
    let rows = uniforms.outShape.x;
    let cols = uniforms.outShape.y;
    let depth = uniforms.aShape.y;
    let wRows = uniforms.wShape.x;
    let wordsPerRow = uniforms.wShape.y;
    let n0 = i32(workgroupId.y) * ${tn};
    let j0 = i32(workgroupId.x) * ${tj};
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let lid = i32(localIndex);

    var acc : array<array<f32, ${t.perX}>, ${t.perY}>;
    for (var r0 = 0; r0 < depth; r0 = r0 + ${tr}) {
      for (var i = lid; i < ${tn * tr}; i = i + ${threads}) {
        let n = n0 + i / ${tr};
        let r = r0 + i % ${tr};
        var v = 0.0;
        if (n < rows && r < depth) {
          v = A[n * depth + r];
        }
        tileA[i % ${tr}][i / ${tr}] = v;
      }
      ${loadWeightTile(mode, t)}
      workgroupBarrier();

      for (var r = 0; r < ${tr}; r = r + 1) {
        var a : array<f32, ${t.perY}>;
        var b : array<f32, ${t.perX}>;
        for (var y = 0; y < ${t.perY}; y = y + 1) {
          a[y] = tileA[r][ty + y * ${t.wgY}];
        }
        for (var x = 0; x < ${t.perX}; x = x + 1) {
          b[x] = tileB[r][tx + x * ${t.wgX}];
        }
        for (var y = 0; y < ${t.perY}; y = y + 1) {
          for (var x = 0; x < ${t.perX}; x = x + 1) {
            acc[y][x] = fma(a[y], b[x], acc[y][x]);
          }
        }
      }
      workgroupBarrier();
    }

    for (var y = 0; y < ${t.perY}; y = y + 1) {
      let n = n0 + ty + y * ${t.wgY};
      if (n < rows) {
        for (var x = 0; x < ${t.perX}; x = x + 1) {
          let j = j0 + tx + x * ${t.wgX};
          if (j < cols) {
            result[n * cols + j] = acc[y][x]${hasBias ? ' + bias[j]' : ''};
          }
        }
      }
    }
  }
`;
}

/**
 * A [N, R] float input times packed weights. Inputs, in order: A (x or dy), W (packed
 * [M, ⌈K/4⌉] i32), scales [M], and bias [M] for a forward with bias.
 */
export class Int8MatMulProgram implements WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  private readonly tiles: TileConfig;

  constructor(
    private readonly mode: Int8MatMulMode,
    rows: number,
    cols: number, // M for the forward, K for the input gradient
    private readonly hasBias: boolean,
  ) {
    this.tiles = tilesFor(rows);
    const { tn, tj } = tileShape(this.tiles);
    this.variableNames = hasBias ? ['A', 'W', 'scales', 'bias'] : ['A', 'W', 'scales'];
    this.outputShape = [rows, cols];
    this.workgroupSize = [this.tiles.wgX, this.tiles.wgY, 1];
    this.dispatch = [Math.ceil(cols / tj), Math.ceil(rows / tn), 1];
    const t = this.tiles;
    this.shaderKey = `studioInt8MatMul_${mode}_${t.wgX}_${t.wgY}_${t.perX}_${t.perY}_${t.tileR}_${hasBias}`;
  }

  getUserCode(): string {
    return int8MatMulSource(this.mode, this.tiles, this.hasBias);
  }
}
