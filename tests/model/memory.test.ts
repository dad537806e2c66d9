/**
 * The memory model (src/model/memory.ts) against what a step and an evaluation batch really
 * hold on wasm (tfjs's count of live tensor bytes at its high-water mark, as the bench
 * measures it): the estimate must cover the measured peak, and not by so much that it
 * refuses what would fit. Then the engine's use of it at the edges (src/engine/memoryBudget.ts):
 * a setting that does not fit is refused naming what does, and that runs within the budget.
 */
import Papa from 'papaparse';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticTask, trackPeakBytes } from '../../bench/step';
import { folderSource } from '../../src/cli/nodeSource';
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { StudioEngine } from '../../src/engine/studio';
import { SETTINGS } from '../../src/tuning/config';
import { evaluationBatchBytes, mlpPreActivations, trainingStepBytes, weightBytes } from '../../src/model/memory';
import type { MlpRecompute } from '../../src/model/types';
import { PrefixTuning } from '../../src/tuning/methods/prefix';
import { PromptTuning } from '../../src/tuning/methods/prompt';
import { batchLoss, labelScores, methodPrompt, targetScores } from '../../src/tuning/objective';
import { isStudioError } from '../../src/errors';
import { packageDir } from '../helpers';
import { smsSample } from '../tuning/fixtures';
import { checkpointDir } from './checkpoints';

let session: ModelSession;
beforeAll(async () => {
  session = await ModelSession.open(folderSource(packageDir('stories260K')), await selectBackend('wasm'), undefined, { quantize: true });
});

/** Peak bytes above what was live before, while `f` runs. */
function peakOf(f: () => void): number {
  const base = tf.memory().numBytes;
  const peak = trackPeakBytes();
  try {
    f();
  } finally {
    peak.stop();
  }
  return peak.bytes() - base;
}

describe('the memory estimate against measured peaks (wasm)', () => {
  // MLP pre-activations recomputed: none, all of them, every layer's up projection, and three (a count between levels).
  const cases: { batch: number; sequence: number; p: number; method: 'prompt' | 'prefix'; recompute: MlpRecompute | 'all' | 'up' }[] = [
    { batch: 8, sequence: 64, p: 20, method: 'prompt', recompute: 0 },
    { batch: 32, sequence: 128, p: 20, method: 'prompt', recompute: 'all' },
    { batch: 32, sequence: 128, p: 20, method: 'prompt', recompute: 'up' },
    { batch: 32, sequence: 128, p: 20, method: 'prompt', recompute: 3 },
    { batch: 2, sequence: 256, p: 100, method: 'prompt', recompute: 0 },
    { batch: 16, sequence: 64, p: 20, method: 'prefix', recompute: 0 },
  ];
  for (const c of cases) {
    it(`${c.method}, batch ${c.batch} × ${c.sequence} + ${c.p}, MLP recomputed: ${c.recompute}: a step and an evaluation batch`, () => {
      const { model } = session;
      const cfg = model.config;
      const recompute = c.recompute === 'all' ? mlpPreActivations(cfg) : c.recompute === 'up' ? cfg.numLayers : c.recompute;
      const task = syntheticTask(cfg.vocabSize, c.sequence, c.batch);
      const initial = new Float32Array(c.p * cfg.hiddenSize).map((_, i) => Math.sin(i) * 0.1);
      const method = c.method === 'prefix'
        ? new PrefixTuning(initial, { numVirtualTokens: c.p, prefixProjection: false, encoderHiddenSize: cfg.hiddenSize, seed: 1 }, cfg)
        : new PromptTuning(initial, c.p, cfg.hiddenSize);
      const batch = task.train.slice(0, c.batch);
      model.mlpRecompute = recompute;
      const step = peakOf(() => {
        const { value, grads } = tf.variableGrads(() => batchLoss(model, methodPrompt(method), batch), method.variables);
        tf.dispose([value, ...Object.values(grads)]);
      });
      const labels = [[10, 12], [11, 13], [14, 15]];
      const evaluation = peakOf(() => tf.dispose(labelScores(model, methodPrompt(method), batch, labels)));
      const shape = {
        batch: c.batch, sequence: Math.ceil(c.sequence / 8) * 8,
        promptTokens: c.method === 'prefix' ? 0 : c.p, prefixTokens: c.method === 'prefix' ? c.p : 0,
      };
      const stepEstimate = trainingStepBytes(cfg, shape, 1, recompute);
      const evaluationEstimate = evaluationBatchBytes(cfg, shape, labels.length, 2);
      console.log(`${JSON.stringify(c)}: step ${(step / 1e6).toFixed(1)} MB, estimated ${(stepEstimate / 1e6).toFixed(1)}; evaluation ${(evaluation / 1e6).toFixed(1)} MB, estimated ${(evaluationEstimate / 1e6).toFixed(1)}`);
      expect(stepEstimate).toBeGreaterThanOrEqual(step);
      expect(stepEstimate).toBeLessThanOrEqual(2 * step);
      expect(evaluationEstimate).toBeGreaterThanOrEqual(evaluation);
      expect(evaluationEstimate).toBeLessThanOrEqual(2 * evaluation);
      // Target scoring (free-text targets): one forward over input and its own 3-token target, planned as one label's continuation.
      const ownTargets = batch.map((e) => ({ ...e, targetIds: [10, 12, 14] }));
      const target = peakOf(() => tf.dispose(targetScores(model, methodPrompt(method), ownTargets)));
      const targetEstimate = evaluationBatchBytes(cfg, shape, 1, 3);
      console.log(`  target scoring ${(target / 1e6).toFixed(1)} MB, estimated ${(targetEstimate / 1e6).toFixed(1)}`);
      expect(targetEstimate).toBeGreaterThanOrEqual(target);
      expect(targetEstimate).toBeLessThanOrEqual(2 * target);
      method.dispose();
      model.mlpRecompute = 0;
    });
  }

  it('the weights: what the backend holds for the int8 package (and the RoPE tables), to the byte', () => {
    const cfg = session.pkg.config;
    const held = session.model.weightTensors().reduce((a, t) => a + t.size * 4, 0);
    expect(weightBytes(cfg)).toBe(held + 2 * cfg.maxPositions * cfg.headDim * 4);
  });
});

function csvBytes(rows: string[][]): Uint8Array {
  return new TextEncoder().encode(Papa.unparse([['text', 'label'], ...rows]));
}

async function engineWithData(memoryBudgetBytes: number) {
  const errors: string[] = [];
  const losses: number[] = [];
  const engine = new StudioEngine((e) => {
    if (e.event === 'trainingError') errors.push(e.error.message);
    if (e.event === 'step') losses.push(e.step.loss);
  }, { memoryBudgetBytes });
  await engine.init('wasm');
  await engine.loadModel(folderSource(packageDir('stories260K')));
  const table = await engine.loadTable('sms.csv', csvBytes(smsSample(40).rows));
  const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 1, splitColumn: null });
  return { engine, dataset, errors, losses };
}

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isStudioError(e)) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('the engine checks a run against the backend before it starts (wasm)', () => {
  // Long texts (up to 128 tokens), so batch and length both matter.
  const long = { maxLength: 128, numVirtualTokens: 20, evalEvery: 1000, projectEvery: 1000, checkpointEvery: 1000, steps: 2 };

  it('refuses a step that does not fit, naming the largest batch that does; that batch trains within the budget', async () => {
    const budget = 60e6;
    const { engine, dataset, errors } = await engineWithData(budget);
    // The Method step's preview refuses it first, in the same words, and allocates nothing.
    const before = tf.memory().numBytes;
    const previewed = await refusal((async () => engine.previewRun({ config: { ...long, batchSize: 48 }, verbalizer: dataset.verbalizer }))());
    expect(tf.memory().numBytes).toBe(before);
    const error = await refusal(engine.startTraining({ config: { ...long, batchSize: 48 }, verbalizer: dataset.verbalizer }));
    expect([previewed.message, previewed.hint]).toEqual([error.message, error.hint]);
    expect(error.code).toBe('settings');
    expect(error.message).toMatch(/^A training step at batch 48 × \d+ tokens \(\+20 virtual tokens\) needs about \d+ MB, more than the wasm backend has left here \(about \d+ MB beside the model\)\.$/);
    const suggested = Number(/a batch size of at most (\d+)/.exec(error.hint ?? '')?.[1]);
    expect(suggested).toBeGreaterThanOrEqual(1);
    expect(suggested).toBeLessThan(48);
    expect(error.hint).toMatch(/or a max length of at most \d+ tokens\.$/);

    const peak = trackPeakBytes();
    const info = await engine.startTraining({ config: { ...long, batchSize: suggested }, verbalizer: dataset.verbalizer });
    expect(info.memory?.note).toMatch(/^Memory: about \d+ MB at peak, of the 60 MB the wasm backend may hold here\./);
    const summary = await engine.waitForRun();
    peak.stop();
    expect(errors).toEqual([]);
    expect(summary?.stoppedBy).toBe('completed');
    expect(peak.bytes()).toBeLessThanOrEqual(budget);
  });

  // Three (the up projections of the first three layers) and seven (every up projection and two gates) of stories260K's ten.
  for (const expected of [3, 7]) {
    it(`recomputes ${expected} MLP pre-activations when keeping one more would not fit, and trains within the budget`, async () => {
      const cfg = session.pkg.config;
      const all = mlpPreActivations(cfg);
      const shape = { batch: 8, sequence: 136, promptTokens: 20, prefixTokens: 0 };
      const kept = trainingStepBytes(cfg, shape, 2, expected - 1);
      const recomputed = trainingStepBytes(cfg, shape, 2, expected);
      expect(recomputed).toBeLessThan(kept);
      // Room for this step (and the evaluation beside it) beside the engine's own copy of the model, not for the one that keeps one more.
      const budget = tf.memory().numBytes + weightBytes(cfg) + (recomputed + kept) / 2;
      const { engine, dataset, errors } = await engineWithData(budget);
      const preview = engine.previewRun({ config: { ...long, batchSize: 8 }, verbalizer: dataset.verbalizer });
      const peak = trackPeakBytes();
      const info = await engine.startTraining({ config: { ...long, batchSize: 8 }, verbalizer: dataset.verbalizer });
      expect(preview).toEqual(info.memory);
      await engine.waitForRun();
      peak.stop();
      expect(errors).toEqual([]);
      expect(engine.session!.model.mlpRecompute).toBe(expected);
      // The plan the page and the CLI show says so, with the estimate it was made from.
      expect(info.memory).toMatchObject({ mlpRecompute: expected, mlpPreActivations: all, budgetBytes: budget });
      expect(info.memory!.peakBytes).toBeLessThanOrEqual(budget);
      expect(info.memory!.note).toMatch(new RegExp(`^Memory: about \\d+ MB at peak, of the \\d+ MB the wasm backend may hold here\\. To keep a step within what the wasm backend has left, `
        + `the backward recomputes ${expected} of the ${all} MLP projections' outputs instead of keeping them: ${expected} more matmuls each step\\.$`));
      expect(peak.bytes()).toBeLessThanOrEqual(budget);
    });
  }

  it('Step memory sets how much a step keeps: at its least the backward recomputes, at its default nothing; the same losses either way', async () => {
    const runs: number[][] = [];
    for (const stepMemoryMiB of [16, SETTINGS.stepMemoryMiB.default]) {
      const { engine, dataset, errors, losses } = await engineWithData(2 ** 32);
      const info = await engine.startTraining({ config: { ...long, batchSize: 8, stepMemoryMiB }, verbalizer: dataset.verbalizer });
      const summary = await engine.waitForRun();
      expect(errors).toEqual([]);
      expect(summary?.stoppedBy).toBe('completed');
      const all = mlpPreActivations(session.pkg.config);
      if (stepMemoryMiB === 16) {
        expect(info.memory!.mlpRecompute).toBeGreaterThan(0);
        expect(info.memory!.note).toMatch(new RegExp(`To keep a step within the step memory setting \\(16 MiB; more runs faster where there is room\\), `
          + `the backward recomputes (\\d+ of the|all) ${all} MLP projections' outputs instead of keeping them: ${info.memory!.mlpRecompute} more matmuls? each step\\.$`));
      } else {
        expect(info.memory).toMatchObject({ mlpRecompute: 0, mlpPreActivations: all });
        expect(info.memory!.note).toMatch(/The backward keeps every activation it needs\.$/);
      }
      runs.push(losses);
    }
    expect(runs[0]).toHaveLength(long.steps);
    expect(runs[0]).toEqual(runs[1]);
  });

  it('refuses a model whose weights alone would not fit, before reading them', async () => {
    const engine = new StudioEngine(() => {}, { memoryBudgetBytes: 2_000 });
    await engine.init('wasm');
    const read: string[] = [];
    const source = folderSource(checkpointDir('llama'));
    const watched = { ...source, read: (file: string, onProgress?: Parameters<typeof source.read>[1]) => (read.push(file), source.read(file, onProgress)) };
    const error = await refusal(engine.loadModel(watched));
    expect(error.code).toBe('model');
    expect(error.message).toMatch(/^LlamaForCausalLM needs about \d+ KB for its weights alone \(int8\), more than the wasm backend holds here \(about 2 KB\)\.$/);
    expect(read).toEqual(['config.json']);
  });
});

describe('settings suggested for a larger model', () => {
  it('SmolLM2-135M on wasm: batch 8 at max length 128; batch 2 where memory is short; none for the default model', async () => {
    const { syntheticDims } = await import('../../bench/backendBench');
    const { REAL_SIZE_SHAPES } = await import('../../bench/synthetic');
    const { memoryBudget, suggestSettings } = await import('../../src/engine/memoryBudget');
    const wasm = memoryBudget({ backend: 'wasm', reason: '', adapter: null });
    const smol = syntheticDims(REAL_SIZE_SHAPES[0]);
    const suggestion = suggestSettings(smol, 134.5e6, wasm, weightBytes(smol));
    expect(suggestion).toMatchObject({ batchSize: 8, maxLength: 128 });
    // And a first look: minutes, not hours (README, "what to choose").
    expect(suggestion!.firstLook).toEqual({ batchSize: 4, maxLength: 64, steps: 50, maxEvalExamples: 100 });
    const qwen = syntheticDims(REAL_SIZE_SHAPES[2]);
    expect(suggestSettings(qwen, 494e6, wasm, weightBytes(qwen))!.firstLook).toEqual({ batchSize: 2, maxLength: 64, steps: 20, maxEvalExamples: 50 });
    expect(suggestion!.reason).toMatch(/^A 135M-parameter model takes about \d+ MB a step at batch 8 and max length 128 on the wasm backend;/);
    // It recomputes some MLP pre-activations at the default Step memory; the wasm heap has room to keep them all, and it says from what setting.
    const keepAllMiB = Math.ceil((weightBytes(smol) + trainingStepBytes(smol, { batch: 8, sequence: 136, promptTokens: 20, prefixTokens: 0 }, 2, 0)) / 2 ** 20 / 64) * 64;
    expect(keepAllMiB).toBeGreaterThan(SETTINGS.stepMemoryMiB.default);
    expect(suggestion!.reason).toContain(` With Step memory (Advanced) at ${keepAllMiB.toLocaleString('en-US')} MiB or more nothing is recomputed:`);
    // With room for about a batch of 2 only, that is what is suggested.
    const shape = (batch: number) => ({ batch, sequence: 136, promptTokens: 20, prefixTokens: 0 });
    const tight = { ...wasm, bytes: weightBytes(smol) + trainingStepBytes(smol, shape(2), 2, 0) + 1 };
    expect(trainingStepBytes(smol, shape(4), 2, mlpPreActivations(smol))).toBeGreaterThan(tight.bytes - weightBytes(smol));
    const short = suggestSettings(smol, 134.5e6, tight, weightBytes(smol));
    expect(short).toMatchObject({ batchSize: 2 });
    expect(short!.firstLook.batchSize).toBe(2); // never a larger batch than fits
    expect(short!.reason).not.toContain('Step memory');
    expect(suggestSettings(session.pkg.config, 260_032, wasm, weightBytes(session.pkg.config))).toBeNull();
    // Unless told that every model is large (the e2e tests' hook does this in the worker).
    expect(suggestSettings(session.pkg.config, 260_032, wasm, weightBytes(session.pkg.config), { parameters: 0 })).toMatchObject({ batchSize: 8, maxLength: 128 });
  });
});
