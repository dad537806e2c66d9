/**
 * The int8 kernel cases (tests/kernels/cases.ts) in Node: the plain-JS reference of the WGSL
 * arithmetic, and the quantized layers on the cpu backend, where they keep int8 weights and
 * dequantize a tile at a time. e2e/kernels.spec.ts (Chromium) and tests/kernels/webgpu.test.ts
 * (Node) run the same backend cases on WebGPU.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend';
import { SKINNY_TILES, SQUARE_TILES, tilesFor, tileShape } from '../../src/model/kernels';
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
