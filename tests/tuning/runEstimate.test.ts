/**
 * A run's time before its first step (tuning/runEstimate.ts): how many evaluations a run makes
 * (counted, not walked), which step shows the first accuracy, and how the scored examples and
 * the per-evaluation time follow the settings and the dataset.
 */
import { describe, expect, it } from 'vitest';
import { REAL_SIZE_SHAPES } from '../../bench/synthetic';
import { estimateCpuEvaluationMs, estimateCpuRunStepMs, trainingStepFlops, cpuStepShareOfMatmul, type FlopsDims } from '../../src/model/flops';
import { DEFAULT_TRAIN_CONFIG, evaluationStepCount, isEvaluationStep } from '../../src/tuning/config';
import { estimateCpuRun, firstEvaluationStep } from '../../src/tuning/runEstimate';

const smol = REAL_SIZE_SHAPES[0];
const dims: FlopsDims = {
  modelType: 'llama', hiddenSize: smol.hiddenSize, numHeads: smol.heads, numKeyValueHeads: smol.kvHeads, headDim: smol.hiddenSize / smol.heads,
  intermediateSize: smol.intermediateSize, numLayers: smol.layers, vocabSize: smol.vocabSize,
};

describe('a run estimated before its first step', () => {
  it('counts the evaluating steps as isEvaluationStep picks them, for every interval and length', () => {
    for (const evalEvery of [1, 2, 3, 7, 19, 20, 21, 37, 50, 64, 100, 999]) {
      for (const steps of [1, 2, 3, 4, 5, 9, 10, 11, 24, 25, 26, 49, 50, 51, 99, 100, 101, 300, 1234]) {
        let walked = 0;
        for (let s = 1; s <= steps; s++) if (isEvaluationStep(s, { evalEvery, steps })) walked++;
        expect(evaluationStepCount({ evalEvery, steps }), `every ${evalEvery}, ${steps} steps`).toBe(walked);
      }
    }
  });

  it('finds the step of the first accuracy: 10 for the defaults, the interval below 20, the last step of a short run', () => {
    expect(firstEvaluationStep({ evalEvery: 50, steps: 300 })).toBe(10);
    expect(firstEvaluationStep({ evalEvery: 20, steps: 300 })).toBe(4);
    expect(firstEvaluationStep({ evalEvery: 5, steps: 300 })).toBe(5);
    expect(firstEvaluationStep({ evalEvery: 50, steps: 3 })).toBe(3);
  });

  it('scores as many examples as the setting and the validation split allow, in one forward each, and adds the baselines and the projection', () => {
    const rate = 25e9;
    const cfg = { ...DEFAULT_TRAIN_CONFIG, maxEvalExamples: 300 };
    const run = estimateCpuRun(dims, rate, cfg, 1114);
    expect(run.examples).toBe(300);
    expect(run.evaluations).toBe(evaluationStepCount(cfg) + 3); // zero-shot and text baselines, the discrete projection
    expect(run.evaluations).toBe(11); // 10, 25, every 50 to 300: 8; and those 3
    expect(run.stepMs).toBe(estimateCpuRunStepMs(dims, cfg, rate));
    expect(run.evaluationMs).toBe(estimateCpuEvaluationMs(dims, cfg, 300, rate));
    expect(estimateCpuRun(dims, rate, cfg, 40).examples).toBe(40); // a small split: all of it
    expect(estimateCpuRun(dims, rate, { ...cfg, maxEvalExamples: 0 }, 1114).examples).toBe(1114); // 0: all of them
    expect(estimateCpuRun(dims, rate, cfg, null).examples).toBe(300); // no dataset yet: the setting
    expect(estimateCpuRun(dims, rate, { ...cfg, maxEvalExamples: 0 }, 0).evaluationMs).toBe(0);
    // Prefix tuning without its projection has no discrete projection to score; with it, it has.
    expect(estimateCpuRun(dims, rate, { ...cfg, method: 'prefix', prefixProjection: false }, 1114).evaluations).toBe(10);
    expect(estimateCpuRun(dims, rate, { ...cfg, method: 'prefix', prefixProjection: true }, 1114).evaluations).toBe(11);
  });

  it('times an evaluation as the forward pass of its examples at the share of the matmul rate its batches reach', () => {
    const rate = 25e9;
    const settings = { maxLength: 64, numVirtualTokens: 20, evalBatchSize: 32 };
    const forward = trainingStepFlops(dims, { batch: 100, sequence: 64, virtualTokens: 20, targets: 1 }).forward;
    expect(estimateCpuEvaluationMs(dims, settings, 100, rate)).toBeCloseTo(forward / (rate * cpuStepShareOfMatmul(32 * 84)) * 1000, 6);
    // Twice the examples, twice the time; a forward is cheaper than a training step of the same rows.
    expect(estimateCpuEvaluationMs(dims, settings, 200, rate)).toBeCloseTo(2 * estimateCpuEvaluationMs(dims, settings, 100, rate), 6);
    const step = estimateCpuRunStepMs(dims, { batchSize: 32, gradientAccumulation: 1, maxLength: 62, numVirtualTokens: 20 }, rate);
    expect(estimateCpuEvaluationMs(dims, settings, 32, rate)).toBeLessThan(step);
  });
});
