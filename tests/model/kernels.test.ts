import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend';
import { SKINNY_TILES, SQUARE_TILES, tilesFor, tileShape } from '../../src/model/kernels';
import {
  int8EmbeddingReference,
  int8MatMulInputGradReference,
  int8MatMulReference,
  unpackInt8Word,
  type PackedMatrix,
} from '../kernels/reference';
import { DenseEmbedding, DenseLinear } from '../../src/model/layers';
import { dequantizeRows, packInt8Rows, quantizeRows, type QuantizedMatrix } from '../../src/model/quantize';
import { QuantEmbedding, QuantLinear } from '../../src/model/quantLinear';

/** A small seeded generator (mulberry32), so failures reproduce. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(n: number, next: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
}

/** Random weights [rows, cols] quantized, scaled so outputs over `cols` inputs in [-1, 1] are ~5. */
function randomQuantized(rows: number, cols: number, next: () => number): QuantizedMatrix {
  const q = quantizeRows(uniform(rows * cols, next, 1), rows, cols);
  const base = 5 / (42.3 * Math.sqrt(cols));
  // Every scale distinct, so a row's scale applied to the wrong row shows.
  q.scales.forEach((_, i) => (q.scales[i] = Math.fround(base * (0.5 + next()))));
  return q;
}

function packed(q: QuantizedMatrix): PackedMatrix {
  const { words, wordsPerRow } = packInt8Rows(q.values, q.rows, q.cols);
  return { words, wordsPerRow, scales: q.scales, rows: q.rows };
}

/** Float64 C = A · Bᵀ for A [n, k], B [m, k] row-major. */
function matMulT(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let r = 0; r < k; r++) s += a[i * k + r] * b[j * k + r];
    out[i * m + j] = s;
  }
  return out;
}

/** Float64 C = A · B for A [n, m], B [m, k] row-major. */
function matMul(a: Float32Array, b: Float32Array, n: number, m: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let r = 0; r < m; r++) {
    const av = a[i * m + r];
    for (let j = 0; j < k; j++) out[i * k + j] += av * b[r * k + j];
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

// [N, in, out]: single decode rows, the model's own shapes, and edges that are not multiples
// of the tiles (32, 64) or of the 4 values in a word.
const SHAPES: [number, number, number][] = [
  [1, 172, 512],
  [1, 64, 172],
  [3, 7, 5],
  [8, 13, 70],
  [9, 64, 64],
  [37, 171, 45],
  [64, 32, 96],
  [33, 1, 33],
];

describe('packed int8 words', () => {
  it('unpack to the values packInt8Rows stored, sign included, for any row width', () => {
    const next = rng(1);
    for (const cols of [1, 3, 4, 5, 172]) {
      const values = Int8Array.from({ length: 3 * cols }, () => Math.round(next() * 254 - 127));
      values[0] = -127;
      values[values.length - 1] = 127;
      const { words, wordsPerRow } = packInt8Rows(values, 3, cols);
      expect(wordsPerRow).toBe(Math.ceil(cols / 4));
      for (let r = 0; r < 3; r++) for (let c = 0; c < wordsPerRow * 4; c++) {
        const v = unpackInt8Word(words[r * wordsPerRow + (c >> 2)])[c & 3];
        expect(v).toBe(c < cols ? values[r * cols + c] : 0); // the padding bytes are zero
      }
    }
  });

  it('tiles: decoding rows take the skinny tile, batches the square one; tiles step whole words', () => {
    expect(tilesFor(1)).toBe(SKINNY_TILES);
    expect(tilesFor(64)).toBe(SQUARE_TILES);
    for (const t of [SKINNY_TILES, SQUARE_TILES]) {
      const { tj, threads } = tileShape(t);
      expect(t.tileR % 4).toBe(0);
      expect(tj % 4).toBe(0);
      expect(threads).toBeLessThanOrEqual(256); // WebGPU's default maxComputeInvocationsPerWorkgroup
    }
  });
});

describe('the kernels\' arithmetic over packed words (plain-JS reference of the WGSL)', () => {
  for (const [n, k, m] of SHAPES) {
    it(`y = x·Wᵀ + b and dx = dy·W match float32 on dequantized weights, N=${n} in=${k} out=${m}`, () => {
      const next = rng(n * 1000 + k * 10 + m);
      const q = randomQuantized(m, k, next);
      const w = packed(q);
      const dense = dequantizeRows(q); // [out, in]
      const x = uniform(n * k, next);
      const bias = uniform(m, next);

      const y = int8MatMulReference(x, n, k, w, bias);
      const expected = matMulT(x, dense, n, k, m).map((v, i) => v + bias[i % m]);
      const tolerance = 1e-5 * Math.max(1, maxAbs(expected));
      expect(maxAbsDiff(y, expected)).toBeLessThan(tolerance);

      const dy = uniform(n * m, next);
      const dx = int8MatMulInputGradReference(dy, n, w, k);
      const expectedDx = matMul(dy, dense, n, m, k);
      expect(maxAbsDiff(dx, expectedDx)).toBeLessThan(1e-5 * Math.max(1, maxAbs(expectedDx)));
    });
  }

  it('embedding rows are the dequantized rows; ids outside the table give zeros', () => {
    const next = rng(7);
    for (const [v, d] of [[50, 13], [512, 64], [5, 1]]) {
      const q = randomQuantized(v, d, next);
      const dense = dequantizeRows(q);
      const ids = [0, v - 1, 3 % v, v, -1, Math.floor(v / 2)];
      const out = int8EmbeddingReference(ids, packed(q), d);
      ids.forEach((id, row) => {
        const want = id >= 0 && id < v ? dense.subarray(id * d, (id + 1) * d) : new Float32Array(d);
        expect(Array.from(out.subarray(row * d, (row + 1) * d))).toEqual(Array.from(want));
      });
    }
  });
});

describe('QuantLinear and QuantEmbedding on the cpu backend (dequantized at construction)', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('QuantLinear gives DenseLinear\'s outputs and input gradients, with and without bias', async () => {
    const next = rng(11);
    for (const [n, k, m] of [[1, 172, 64], [6, 13, 70]] as const) {
      const q = randomQuantized(m, k, next);
      const bias = tf.tensor1d(uniform(m, next));
      const x = tf.tensor2d(uniform(n * k, next), [n, k]);
      const c = tf.tensor2d(uniform(n * m, next), [n, m]);
      const weight = tf.tensor2d(dequantizeRows(q), [m, k]);
      for (const b of [undefined, bias]) {
        const quant = QuantLinear.fromQuantized(q, b);
        const dense = new DenseLinear(weight, b);
        expect([quant.inFeatures, quant.outFeatures]).toEqual([k, m]);
        expect(quant.tensors().map((t) => t.dtype)).toContain('float32');
        const loss = (layer: { apply(x: tf.Tensor2D): tf.Tensor2D }) => (v: tf.Tensor) => tf.sum(tf.mul(layer.apply(v as tf.Tensor2D), c));
        const [yq, yd] = [quant.apply(x), dense.apply(x)];
        expect(maxAbsDiff(await yq.data(), await yd.data())).toBe(0);
        const [gq, gd] = [tf.grad(loss(quant))(x), tf.grad(loss(dense))(x)];
        expect(gq.shape).toEqual([n, k]);
        expect(maxAbsDiff(await gq.data(), await gd.data())).toBe(0);
        tf.dispose([yq, yd, gq, gd]);
        tf.dispose(quant.tensors().filter((t) => t !== b));
      }
      tf.dispose([bias, x, c, weight]);
    }
  });

  it('QuantEmbedding looks up, projects (tied head) and lists its table as DenseEmbedding does', async () => {
    const next = rng(12);
    const [v, d] = [50, 13];
    const q = randomQuantized(v, d, next);
    const quant = QuantEmbedding.fromQuantized(q);
    const dense = new DenseEmbedding(tf.tensor2d(dequantizeRows(q), [v, d]));
    expect([quant.vocabSize, quant.dim]).toEqual([v, d]);
    const ids = tf.tensor2d([[0, 49, 7], [3, 3, 12]], [2, 3], 'int32');
    const [eq, ed] = [quant.lookup(ids), dense.lookup(ids)];
    expect(eq.shape).toEqual([2, 3, d]);
    expect(maxAbsDiff(await eq.data(), await ed.data())).toBe(0);
    expect(maxAbsDiff(await quant.table().data(), await dense.table().data())).toBe(0);
    expect(quant.table()).toBe(quant.table());
    const h = tf.tensor2d(uniform(4 * d, next), [4, d]);
    const [lq, ld] = [quant.asLinear().apply(h), dense.asLinear().apply(h)];
    expect(lq.shape).toEqual([4, v]);
    expect(maxAbsDiff(await lq.data(), await ld.data())).toBe(0);
    expect(quant.asLinear().tensors()).toEqual(quant.tensors());
    tf.dispose([ids, eq, ed, h, lq, ld, ...quant.tensors(), ...dense.tensors()]);
  });

  it('the int8 package still loads dequantized on cpu (float32 backend tensors only)', async () => {
    const { buildModel } = await import('../../src/model/build');
    const { loadModelPackage } = await import('../../src/model/package');
    const { folderSource } = await import('../../src/cli/nodeSource');
    const { packageDir } = await import('../helpers');
    const { existsSync } = await import('node:fs');
    if (!existsSync(packageDir('stories260K'))) return;
    const model = buildModel(await loadModelPackage(folderSource(packageDir('stories260K'))));
    expect(new Set(model.weightTensors().map((t) => t.dtype))).toEqual(new Set(['float32']));
    model.dispose();
  });
});
