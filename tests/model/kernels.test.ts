/**
 * The int8 kernel cases (tests/kernels/cases.ts) in Node: the plain-JS reference of the WGSL
 * arithmetic, and the quantized layers on the cpu backend, where they keep int8 weights and
 * dequantize a tile at a time. e2e/kernels.spec.ts (Chromium) and tests/kernels/webgpu.test.ts
 * (Node) run the same backend cases on WebGPU.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend';
import { registerInt8Kernels, SKINNY_TILES, SQUARE_TILES, TILE_ELEMENTS, tilesFor, tileShape } from '../../src/model/kernels';
import { inputGradColumnTile, int8RowRange, int8RowsAt, weightsMajor } from '../../src/model/kernels/int8Rows';
import { simdDequantizer } from '../../src/model/kernels/wasmSimdDequantize';
import { dequantizeRows, packInt8Rows, quantizeRows } from '../../src/model/quantize';
import { QuantLinear } from '../../src/model/quantLinear';
import {
  EMBEDDING_CASES,
  embeddingCaseName,
  failures,
  MATMUL_CASES,
  matMulCaseName,
  PACKING_COLS,
  REFERENCE_EMBEDDING_SHAPES,
  REFERENCE_MATMUL_SHAPES,
  type CaseResult,
} from '../kernels/cases';
import {
  runEmbeddingCase,
  runMatMulCase,
  runPackingCase,
  runReferenceEmbeddingCase,
  runReferenceMatMulCase,
} from '../kernels/run';

function expectPass(result: CaseResult): void {
  expect(result.checks.length + result.facts.length).toBeGreaterThan(0);
  expect(failures(result)).toEqual([]);
}

describe('packed int8 words', () => {
  it('unpack to the values packInt8Rows stored, sign included, for any row width', () => {
    for (const cols of PACKING_COLS) expectPass(runPackingCase(cols));
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
  for (const shape of REFERENCE_MATMUL_SHAPES) {
    it(`y = x·Wᵀ + b and dx = dy·W match float32 on dequantized weights, N=${shape[0]} in=${shape[1]} out=${shape[2]}`, () => {
      expectPass(runReferenceMatMulCase(shape));
    });
  }

  it('embedding rows are the dequantized rows; ids outside the table give zeros', () => {
    REFERENCE_EMBEDDING_SHAPES.forEach((shape, i) => expectPass(runReferenceEmbeddingCase(shape, i)));
  });
});

describe('QuantLinear and QuantEmbedding on the cpu backend (int8 kept, dequantized a tile at a time)', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  for (const c of MATMUL_CASES) {
    it(`QuantLinear gives DenseLinear's outputs, gradients and second derivatives exactly, ${matMulCaseName(c)}`, async () => {
      expectPass(await runMatMulCase(c, 'cpu'));
    });
  }

  for (const c of EMBEDDING_CASES) {
    it(`QuantEmbedding looks up, projects (tied head) and lists its table as DenseEmbedding does, ${embeddingCaseName(c)}`, async () => {
      expectPass(await runEmbeddingCase(c, 'cpu'));
    });
  }

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`the int8 package keeps int8 weights on ${backend}: packed words, at most 30% of the float32 package's bytes`, async () => {
      const { buildModel } = await import('../../src/model/build');
      const { loadModelPackage } = await import('../../src/model/package');
      const { folderSource } = await import('../../src/cli/nodeSource');
      const { packageDir } = await import('../helpers');
      const { existsSync } = await import('node:fs');
      if (!existsSync(packageDir('stories260K')) || !existsSync(packageDir('stories260K-f32'))) return;
      await selectBackend(backend);
      const bytesOf = (model: { weightTensors(): { size: number; dtype: string }[] }) => model.weightTensors().reduce((a, t) => a + t.size * 4, 0);
      const int8 = buildModel(await loadModelPackage(folderSource(packageDir('stories260K'))));
      const float32 = buildModel(await loadModelPackage(folderSource(packageDir('stories260K-f32'))));
      expect(new Set(int8.weightTensors().map((t) => t.dtype))).toEqual(new Set(['int32', 'float32']));
      expect(bytesOf(int8) / bytesOf(float32)).toBeLessThanOrEqual(0.3);
      int8.dispose();
      float32.dispose();
    });
  }
});

describe('int8 products on the CPU backends over several tiles, in either operand order', () => {
  // 20,000 × 64 weights are two tiles of rows; one row (a decoded token, the LM head on a few
  // targets) goes weights-major, 40 rows the usual way, whose input gradient sums tiles of
  // W's rows (W too tall for column tiles). 2,400 × 600 weights with 300 rows take the input
  // gradient a tile of W's columns at a time (two, the second 168 wide). Each product must
  // equal the float product of the dequantized weights, forward and input gradient.
  const cases: [number, number, number[]][] = [[20_000, 64, [1, 3, 40]], [2_400, 600, [300]]];
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const [out, inFeatures, rowCounts] of cases) {
      for (const n of rowCounts) {
        const major = weightsMajor(n, inFeatures, out);
        const gradBy = major ? 'weights-major' : inputGradColumnTile(out, inFeatures) ? `columns of ${inputGradColumnTile(out, inFeatures)}` : 'rows';
        it(`${backend}, ${out} × ${inFeatures}, N=${n} (${major ? 'weights-major' : `activations-major, input gradient by ${gradBy}`})`, async () => {
          await selectBackend(backend);
          registerInt8Kernels();
          expect(out * inFeatures).toBeGreaterThan(TILE_ELEMENTS);
          if (gradBy.startsWith('columns')) expect(inputGradColumnTile(out, inFeatures)).toBeLessThan(inFeatures);
          const random = (size: number, seed: number) => Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 7919 + i * 12.9898) * 0.5);
          const q = quantizeRows(random(out * inFeatures, 1), out, inFeatures);
          const dense = tf.tensor2d(dequantizeRows({ ...q, rows: out, cols: inFeatures }), [out, inFeatures]);
          const bias = tf.tensor1d(random(out, 2));
          const layer = QuantLinear.fromQuantized({ ...q, rows: out, cols: inFeatures }, bias);
          const x = tf.tensor2d(random(n * inFeatures, 3), [n, inFeatures]);
          const dy = tf.tensor2d(random(n * out, 4), [n, out]);
          const close = (a: tf.Tensor, b: tf.Tensor) => {
            const [av, bv] = [a.dataSync(), b.dataSync()];
            expect(av.length).toBe(bv.length);
            let [worst, largest] = [0, 0];
            for (let i = 0; i < av.length; i++) {
              worst = Math.max(worst, Math.abs(av[i] - bv[i]));
              largest = Math.max(largest, Math.abs(bv[i]));
            }
            // float32 sums in another order: a few ulps of the largest value
            expect(worst).toBeLessThan(1e-5 * Math.max(largest, 1));
          };
          const y = layer.apply(x);
          const yRef = tf.add(tf.matMul(x, dense, false, true), bias);
          expect(y.shape).toEqual([n, out]);
          close(y, yRef);
          const dx = layer.inputGrad(dy);
          const dxRef = tf.matMul(dy, dense);
          expect(dx.shape).toEqual([n, inFeatures]);
          close(dx, dxRef);
          tf.dispose([dense, x, dy, y, yRef, dx, dxRef, ...layer.tensors()]);
        });
      }
    }
  }
});


describe('dequantizing rows on wasm with the SIMD module (in tfjs-wasm\'s memory), edges included', () => {
  // Widths around the vector steps (8 plain, 4 transposed), row counts around 4, ranges that
  // start inside the table, column windows that start inside a word: each output must equal
  // the scalar dequantization bit for bit.
  for (const cols of [3, 8, 13, 64, 69]) {
    it(`rows of ${cols} values: ranges as they are and transposed, and listed ids`, async () => {
      await selectBackend('wasm');
      registerInt8Kernels();
      expect(simdDequantizer(tf.backend() as never)).not.toBeNull();
      const rows = 23;
      const weights = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 12.9898 + cols) * (1 + (i % 7)));
      const q = quantizeRows(weights, rows, cols);
      const reference = dequantizeRows({ ...q, rows, cols });
      const { words, wordsPerRow } = packInt8Rows(q.values, rows, cols);
      const packed = tf.tensor2d(words, [rows, wordsPerRow], 'int32');
      const scales = tf.tensor1d(q.scales);
      const expectRows = (got: tf.Tensor, rowIds: number[], transposed: boolean, colStart = 0, width = cols) => {
        const want = new Float32Array(rowIds.length * width);
        rowIds.forEach((r, i) => {
          for (let c = 0; c < width; c++) want[transposed ? c * rowIds.length + i : i * width + c] = reference[r * cols + colStart + c];
        });
        expect(got.shape).toEqual(transposed ? [width, rowIds.length] : [rowIds.length, width]);
        expect(Array.from(got.dataSync())).toEqual(Array.from(want));
        got.dispose();
      };
      // Column windows: from the first column, from inside the first word, ending at the last.
      const windows = [[0, cols], [1, cols - 1], [Math.min(5, cols - 1), cols - Math.min(5, cols - 1)], [0, Math.ceil(cols / 2)]];
      for (const [start, count] of [[0, rows], [1, 1], [2, 3], [5, 4], [6, 17]]) {
        const range = Array.from({ length: count }, (_, i) => start + i);
        for (const transposed of [false, true]) {
          for (const [colStart, width] of windows) {
            expectRows(int8RowRange(packed, scales, cols, start, count, transposed, colStart, width), range, transposed, colStart, width);
          }
        }
      }
      expect(() => int8RowRange(packed, scales, cols, 0, 1, false, cols - 1, 2)).toThrow(/columns/);
      const ids = [22, 0, 7, 7, 3, 19, 1, 22, 11];
      const idTensor = tf.tensor1d(ids, 'int32');
      expectRows(int8RowsAt(packed, scales, cols, idTensor), ids, false);
      tf.dispose([packed, scales, idTensor]);
    });
  }
});
