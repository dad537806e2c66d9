/**
 * The step-time estimate a large model gets before its first step on a CPU backend: the
 * step's FLOPs over the measured matmul rate, at the share of it a step reaches (model/flops.ts),
 * checked against every real-size row the bench recorded, and the engine's measurement
 * behind it.
 */
import { describe, expect, it } from 'vitest';
import { REAL_SIZE_SHAPES, type SyntheticShape } from '../../bench/synthetic';
import { folderSource } from '../../src/cli/nodeSource';
import { measureStepSpeed } from '../../src/engine/machineSpeed';
import { StudioEngine } from '../../src/engine/studio';
import { cpuStepShareOfMatmul, estimateCpuRunStepMs, estimateCpuStepMs, trainingStepFlops, type FlopsDims } from '../../src/model/flops';
import { hasSharedModel, packageDir } from '../helpers';

function dims(s: SyntheticShape): FlopsDims {
  return {
    modelType: s.modelType ?? 'llama', hiddenSize: s.hiddenSize, numHeads: s.heads, numKeyValueHeads: s.kvHeads, headDim: s.hiddenSize / s.heads,
    intermediateSize: s.intermediateSize, numLayers: s.layers, vocabSize: s.vocabSize,
  };
}

/**
 * README "Measured at real size" (2026-12-07): s/step and the matmul GFLOP/s timed beside it,
 * wasm in Node (one thread) and Chromium (two), at the bench's two shapes, with the MLP
 * pre-activations the memory plan recomputed.
 */
const MEASURED: { model: string; where: string; batch: number; sequence: number; seconds: number; matmulGflops: number; recompute: number }[] = [
  { model: 'SmolLM2-135M-size', where: 'Node', batch: 1, sequence: 32, seconds: 2.4, matmulGflops: 25.3, recompute: 0 },
  { model: 'SmolLM2-135M-size', where: 'Node', batch: 8, sequence: 128, seconds: 28.6, matmulGflops: 24.4, recompute: 24 },
  { model: 'SmolLM2-135M-size', where: 'Chromium', batch: 1, sequence: 32, seconds: 1.2, matmulGflops: 43.7, recompute: 0 },
  { model: 'SmolLM2-135M-size', where: 'Chromium', batch: 8, sequence: 128, seconds: 16.9, matmulGflops: 41.3, recompute: 24 },
  { model: 'SmolLM2-360M-size', where: 'Node', batch: 1, sequence: 32, seconds: 4.4, matmulGflops: 24.4, recompute: 0 },
  { model: 'SmolLM2-360M-size', where: 'Node', batch: 8, sequence: 128, seconds: 87.8, matmulGflops: 24.2, recompute: 64 },
  { model: 'SmolLM2-360M-size', where: 'Chromium', batch: 1, sequence: 32, seconds: 3.1, matmulGflops: 29.6, recompute: 0 },
  { model: 'SmolLM2-360M-size', where: 'Chromium', batch: 8, sequence: 128, seconds: 47.7, matmulGflops: 46.3, recompute: 64 },
  { model: 'Qwen2.5-0.5B-size', where: 'Node', batch: 1, sequence: 32, seconds: 4.7, matmulGflops: 24.1, recompute: 0 },
  { model: 'Qwen2.5-0.5B-size', where: 'Node', batch: 8, sequence: 128, seconds: 106.2, matmulGflops: 24.0, recompute: 48 },
  { model: 'Qwen2.5-0.5B-size', where: 'Chromium', batch: 1, sequence: 32, seconds: 2.9, matmulGflops: 37.4, recompute: 0 },
  { model: 'Qwen2.5-0.5B-size', where: 'Chromium', batch: 8, sequence: 128, seconds: 59.8, matmulGflops: 40.2, recompute: 48 },
  { model: 'GPT-2-124M-size', where: 'Node', batch: 1, sequence: 32, seconds: 1.3, matmulGflops: 25.0, recompute: 0 },
  { model: 'GPT-2-124M-size', where: 'Node', batch: 8, sequence: 128, seconds: 20.6, matmulGflops: 24.0, recompute: 0 },
  { model: 'GPT-2-124M-size', where: 'Chromium', batch: 1, sequence: 32, seconds: 0.8, matmulGflops: 48.0, recompute: 0 },
  { model: 'GPT-2-124M-size', where: 'Chromium', batch: 8, sequence: 128, seconds: 11.9, matmulGflops: 47.3, recompute: 0 },
];

describe('the step-time estimate before a first step (CPU backends)', () => {
  it('is within 1.2× of every recorded 8 × 148 step and 1.6× of every 1 × 52 one', () => {
    for (const m of MEASURED) {
      const shape = REAL_SIZE_SHAPES.find((s) => s.name === m.model)!;
      const estimated = estimateCpuStepMs(dims(shape), { batch: m.batch, sequence: m.sequence, virtualTokens: 20, targets: 1 }, m.matmulGflops * 1e9, m.recompute);
      const off = Math.max(estimated / (m.seconds * 1000), (m.seconds * 1000) / estimated);
      expect(off, `${m.model} ${m.where} ${m.batch} × ${m.sequence}: estimated ${(estimated / 1000).toFixed(1)} s, measured ${m.seconds} s`)
        .toBeLessThanOrEqual(m.batch === 8 ? 1.2 : 1.6);
    }
  });

  it('counts a step as its FLOPs and its recomputed matmuls over the matmul rate at the share for its rows, which grows with the rows up to 0.85', () => {
    const smol = dims(REAL_SIZE_SHAPES[0]);
    const shape = { batch: 4, sequence: 64, virtualTokens: 20, targets: 2 };
    const rate = 30e9;
    expect(estimateCpuStepMs(smol, shape, rate)).toBeCloseTo(trainingStepFlops(smol, shape).total / (rate * cpuStepShareOfMatmul(4 * 84)) * 1000, 6);
    // Each recomputed pre-activation is one more d → ffn product over every position.
    const recomputed = 2 * 4 * 84 * 576 * 1536;
    expect(estimateCpuStepMs(smol, shape, rate, 10) - estimateCpuStepMs(smol, shape, rate)).toBeCloseTo(10 * recomputed / (rate * cpuStepShareOfMatmul(4 * 84)) * 1000, 6);
    const rows = [1, 8, 52, 100, 336, 1000, 1184, 4096, 1e6];
    const shares = rows.map(cpuStepShareOfMatmul);
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThanOrEqual(shares[i - 1]);
    expect(cpuStepShareOfMatmul(52)).toBeCloseTo(0.57, 9);
    expect(cpuStepShareOfMatmul(1184)).toBeCloseTo(0.85, 9);
    expect(cpuStepShareOfMatmul(1e6)).toBe(0.85);
    expect(cpuStepShareOfMatmul(1)).toBeGreaterThanOrEqual(0.3);
  });

  it('at a run\'s settings: batches as long as the max length plus a two-token label, each accumulated micro-batch a step of its own', () => {
    const qwen = dims(REAL_SIZE_SHAPES[2]);
    const settings = { batchSize: 8, gradientAccumulation: 1, maxLength: 128, numVirtualTokens: 20 };
    const rate = 24e9;
    expect(estimateCpuRunStepMs(qwen, settings, rate)).toBe(estimateCpuStepMs(qwen, { batch: 8, sequence: 130, virtualTokens: 20, targets: 2 }, rate));
    expect(estimateCpuRunStepMs(qwen, { ...settings, gradientAccumulation: 3 }, rate)).toBeCloseTo(3 * estimateCpuRunStepMs(qwen, settings, rate), 6);
    // A longer max length or more virtual tokens cost more; a faster machine less.
    expect(estimateCpuRunStepMs(qwen, { ...settings, maxLength: 256 }, rate)).toBeGreaterThan(estimateCpuRunStepMs(qwen, settings, rate));
    expect(estimateCpuRunStepMs(qwen, { ...settings, numVirtualTokens: 100 }, rate)).toBeGreaterThan(estimateCpuRunStepMs(qwen, settings, rate));
    expect(estimateCpuRunStepMs(qwen, settings, 2 * rate)).toBeCloseTo(estimateCpuRunStepMs(qwen, settings, rate) / 2, 6);
  });
});

describe.skipIf(!hasSharedModel)('the engine measures the matmul rate for it as a large model loads', () => {
  it('on cpu: a rate and the model\'s dimensions past the threshold; nothing below it', async () => {
    const engine = new StudioEngine(() => {}, { largeModelFrom: { parameters: 0 } });
    await engine.init('cpu');
    const facts = await engine.loadModel(folderSource(packageDir('stories260K')));
    const speed = facts.stepSpeed!;
    expect(speed.backend).toBe('cpu');
    expect(speed.matmulFlopsPerSecond).toBeGreaterThan(1e7);
    expect(Number.isFinite(speed.matmulFlopsPerSecond)).toBe(true);
    const cfg = engine.session!.pkg.config;
    expect(speed.dims).toEqual({
      modelType: cfg.modelType, hiddenSize: cfg.hiddenSize, numHeads: cfg.numHeads, numKeyValueHeads: cfg.numKeyValueHeads, headDim: cfg.headDim,
      intermediateSize: cfg.intermediateSize, numLayers: cfg.numLayers, vocabSize: cfg.vocabSize,
    });
    // The default threshold (20M parameters) leaves the 260K-parameter default model without one.
    expect(await measureStepSpeed(cfg, facts.parameters)).toBeNull();
    const plain = new StudioEngine(() => {});
    await plain.init('cpu');
    expect((await plain.loadModel(folderSource(packageDir('stories260K')))).stepSpeed).toBeNull();
    engine.session!.dispose();
    plain.session!.dispose();
  });
});
