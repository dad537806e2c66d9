/**
 * The bench's measuring pieces that are not timings: the peak-bytes tracker that replaced
 * tf.profile in the timed steps, the kernel profile (its own section), the list of larger
 * models with its skip rule, the synthetic real-size layouts, and the report's sections.
 */
import { describe, expect, it } from 'vitest';
import { benchModelsFor, measureModels, modelStepBytes, syntheticBenchModel, syntheticParameters } from '../../bench/backendBench';
import type { BackendReport } from '../../bench/grid';
import { profileTrainingStep } from '../../bench/kernelProfile';
import { markdownReport } from '../../bench/report';
import { measureTrainingStep, syntheticTask, trackPeakBytes } from '../../bench/step';
import { REAL_SIZE_SHAPES, SYNTHETIC_MODELS, syntheticPackage, TINY_GPT2, TINY_QWEN2 } from '../../bench/synthetic';
import type { TensorEntry } from '../../src/formats/safetensors';
import { buildModel } from '../../src/model/build';
import { parseModelConfig } from '../../src/model/config';
import { WeightStore } from '../../src/model/weights';
import { validateTrainConfig } from '../../src/tuning/config';
import { RunControl } from '../../src/tuning/control';
import { Trainer } from '../../src/tuning/trainer';
import { hasSharedModel, openDefault, tf } from '../helpers';

const shape = { batch: 2, sequence: 16, virtualTokens: 4, targets: 1 };

describe.skipIf(!hasSharedModel)('bench pieces on the cpu backend (behaviour, not speed)', () => {
  it('trackPeakBytes sees the same peak as tf.profile over the same run, and leaves the engine as it was', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const engine = tf.engine();
    const run = async () => {
      const task = syntheticTask(session.model.config.vocabSize, shape.sequence, 8);
      const config = validateTrainConfig({
        method: 'prompt', init: 'random', numVirtualTokens: shape.virtualTokens, batchSize: shape.batch, steps: 3,
        evalEvery: 1e6, projectEvery: 1e6, checkpointEvery: 1e6, maxLength: shape.sequence, warmupSteps: 0,
      });
      const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
      try {
        await trainer.run(new RunControl());
      } finally {
        trainer.dispose();
      }
    };
    const peak = trackPeakBytes();
    await run();
    peak.stop();
    expect(Object.prototype.hasOwnProperty.call(engine, 'trackTensor')).toBe(false);
    const profiled = await tf.profile(run);
    expect(peak.bytes()).toBe(profiled.peakBytes);
    expect(peak.bytes()).toBeGreaterThan(tf.memory().numBytes); // activations, freed by now
    const m = await measureTrainingStep(session.model, session.tokenizer, shape, 3);
    expect(m.peakBytes).toBe(profiled.peakBytes);
    expect(m.tensorsAfter).toBe(m.tensorsBefore);
    session.dispose();
  });

  it('a yardstick between the steps: measured before the first and after each, its time in no step', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const plain = await measureTrainingStep(session.model, session.tokenizer, shape, 4);
    expect(plain.matmulFlopsPerSecond).toBeUndefined();
    // A yardstick that takes far longer than a step (and counts its calls as its rate): were its
    // time in the steps', every step would take over a second.
    let calls = 0;
    const slow = () => {
      const until = performance.now() + 1000;
      while (performance.now() < until);
      return ++calls;
    };
    const m = await measureTrainingStep(session.model, session.tokenizer, shape, 4, slow);
    expect(calls).toBe(5);
    expect(m.stepMs).toBeLessThan(Math.max(500, 5 * plain.stepMs));
    expect(m.firstStepMs).toBeLessThan(1000 + plain.firstStepMs);
    // Rates 1..5 on either side of steps 1..4: the steady ones are steps 2 and 3.
    expect(m.matmulFlopsPerSecond).toBe(((2 + 3) / 2 + (3 + 4) / 2) / 2);
    expect(m.tensorsAfter).toBe(m.tensorsBefore);
    session.dispose();
  });

  it('the kernel profile adds up, counts whole steps and leaves no tensors', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const before = tf.memory().numTensors;
    const p = await profileTrainingStep(session.model, session.tokenizer, shape, 2);
    expect(tf.memory().numTensors).toBe(before);
    expect(p.timed).toBe(true);
    expect(p.kernels.reduce((a, k) => a + k.msPerStep, 0)).toBeCloseTo(p.kernelMsPerStep, 6);
    expect(p.kernels.map((k) => k.msPerStep)).toEqual([...p.kernels.map((k) => k.msPerStep)].sort((a, b) => b - a));
    // Two identical steps: every kernel runs the same number of times in each.
    for (const k of p.kernels) expect(Number.isInteger(k.callsPerStep), k.name).toBe(true);
    expect(p.kernels.map((k) => k.name)).toContain('BatchMatMul');
    session.dispose();
  });

  it('the larger models: a row per shape, skipped with the reason where the backend cannot hold them', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const tiny = syntheticBenchModel(TINY_QWEN2, [shape, { ...shape, batch: 1 }]);
    const rows = await measureModels([tiny], session.tokenizer, 'cpu', false, () => {}, Infinity);
    expect(rows.map((r) => [r.model, r.shape.batch, r.measurement !== null])).toEqual([['qwen2-tiny', 2, true], ['qwen2-tiny', 1, true]]);
    expect(rows[0].kind).toBe('synthetic, Qwen2 layout, random int8 weights');
    // Each measured row says what the backward recomputed, and the matmul rate measured beside it.
    expect(rows.map((r) => [r.mlpRecompute, r.mlpPreActivations, r.recomputedFlops])).toEqual([[0, 2 * TINY_QWEN2.layers, 0], [0, 2 * TINY_QWEN2.layers, 0]]);
    for (const r of rows) {
      expect(r.matmulFlopsPerSecond).toBeGreaterThan(1e6);
      expect(r.matmulFlopsPerSecond).toBe(r.measurement!.matmulFlopsPerSecond); // measured between its steps (cpu)
    }
    // At a Step memory below the weights (--step-memory), every MLP pre-activation is made again, and its products are counted beside the step's.
    const one = syntheticBenchModel(TINY_QWEN2, [{ ...shape, batch: 1 }]);
    const [tight] = await measureModels([one], session.tokenizer, 'cpu', false, () => {}, Infinity, undefined, 1);
    const positions = shape.sequence + shape.virtualTokens;
    expect([tight.mlpRecompute, tight.mlpPreActivations]).toEqual([2 * TINY_QWEN2.layers, 2 * TINY_QWEN2.layers]);
    expect(tight.recomputedFlops).toBe(2 * TINY_QWEN2.layers * 2 * positions * TINY_QWEN2.hiddenSize * TINY_QWEN2.intermediateSize);
    const skipped = await measureModels([tiny], session.tokenizer, 'cpu', false, () => {});
    expect(skipped.map((r) => r.error)).toEqual(['skipped: a step would take tens of minutes on this backend', 'skipped: a step would take tens of minutes on this backend']);
    // Over a budget (half a GiB here): skipped with what the memory model says a step needs, never attempted.
    const big = syntheticBenchModel(REAL_SIZE_SHAPES[2]);
    const tooBig = await measureModels([big], session.tokenizer, 'wasm', false, () => {}, 2 ** 29);
    expect(modelStepBytes(big.dims, big.shapes[0])).toBeGreaterThan(2 ** 29);
    expect(tooBig[0].error).toBe(`skipped: a step needs about ${(modelStepBytes(big.dims, big.shapes[0]) / 2 ** 30).toFixed(1)} GiB, more than this backend holds`);
    session.dispose();
  });
});

describe('synthetic layouts', () => {
  it('--models picks the larger models by a part of their names, and refuses a name that matches none', () => {
    expect(benchModelsFor({ realSize: true }).map((m) => m.name)).toEqual(['SmolLM2-135M-size', 'SmolLM2-360M-size', 'Qwen2.5-0.5B-size', 'GPT-2-124M-size']);
    expect(benchModelsFor({ realSize: true, modelNames: ['gpt-2', 'QWEN'] }).map((m) => m.name)).toEqual(['Qwen2.5-0.5B-size', 'GPT-2-124M-size']);
    expect(benchModelsFor({ realSize: false }).map((m) => m.name)).toEqual(SYNTHETIC_MODELS.map((s) => s.name));
    expect(() => benchModelsFor({ realSize: true, modelNames: ['gpt-2', 'llama-3'] })).toThrow('no model named like "llama-3"');
    const gpt2 = benchModelsFor({ realSize: true, modelNames: ['gpt-2'] })[0];
    expect([gpt2.kind, gpt2.dims.modelType]).toEqual(['GPT-2 layout at real size, random int8 weights', 'gpt2']);
  });

  it('parameters counted from the dimensions equal the package\'s, for Llama, Qwen2 and GPT-2 layouts', () => {
    for (const s of [TINY_QWEN2, { ...TINY_QWEN2, name: 'llama-tiny', modelType: 'llama' as const }, TINY_GPT2]) {
      expect(syntheticParameters(s), s.name).toBe(syntheticPackage(s).weights.parameterCount());
    }
    // The published sizes: SmolLM2-135M has 134.5 M parameters, Qwen2.5-0.5B 494.0 M (tied embeddings).
    expect((syntheticParameters(REAL_SIZE_SHAPES[0]) / 1e6).toFixed(1)).toBe('134.5');
    expect((syntheticParameters(REAL_SIZE_SHAPES[2]) / 1e6).toFixed(1)).toBe('494.0');
    // GPT-2 (small): 124,439,808 with its tied head, as transformers counts it.
    expect(syntheticParameters(REAL_SIZE_SHAPES.find((s) => s.modelType === 'gpt2')!)).toBe(124_439_808);
    expect(syntheticParameters(SYNTHETIC_MODELS[0])).toBe(syntheticPackage(SYNTHETIC_MODELS[0]).weights.parameterCount());
  });

  it('a Qwen2-layout package builds, with q/k/v biases, and its forward runs', async () => {
    await tf.setBackend('cpu');
    const pkg = syntheticPackage(TINY_QWEN2);
    expect(pkg.config.modelType).toBe('qwen2');
    expect(pkg.weights.has('model.layers.0.self_attn.k_proj.bias')).toBe(true);
    const model = buildModel(pkg);
    const out = tf.tidy(() => model.logits(model.forward({ inputsEmbeds: model.embed(tf.tensor2d([[1, 5, 9]], [1, 3], 'int32')) }).hidden));
    expect(out.shape).toEqual([1, 3, TINY_QWEN2.vocabSize]);
    expect(Array.from(await out.data()).every(Number.isFinite)).toBe(true);
    out.dispose();
    model.dispose();
  });

  it('a GPT-2-layout package reads as GPT-2 reads its Conv1D (per-column scales): int8 logits equal those of its dequantized float copy', async () => {
    await tf.setBackend('cpu');
    const pkg = syntheticPackage(TINY_GPT2);
    expect(pkg.config.modelType).toBe('gpt2');
    expect(pkg.weights.has('transformer.h.0.attn.c_attn.weight_scale')).toBe(true);
    // The same weights in float32, as a float checkpoint would hold them: the builder then
    // transposes Conv1D itself instead of reading int8 values and per-column scales.
    const floats = new Map<string, TensorEntry>();
    for (const name of pkg.weights.names) {
      if (name.endsWith('_scale')) continue;
      const t = pkg.weights.float(name);
      floats.set(name, { name, dtype: 'F32', shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
    }
    const floatConfig = parseModelConfig({ ...pkg.config.raw, quantization_config: undefined });
    const floatPkg = { ...pkg, config: floatConfig, weights: new WeightStore([{ metadata: {}, tensors: floats }], floatConfig.quantization) };
    const ids = tf.tensor2d([[1, 5, 9, 700]], [1, 4], 'int32');
    const logitsOf = async (p: typeof pkg) => {
      const model = buildModel(p);
      const out = tf.tidy(() => model.logits(model.forward({ inputsEmbeds: model.embed(ids) }).hidden));
      const values = await out.data();
      out.dispose();
      model.dispose();
      return values;
    };
    const int8 = await logitsOf(pkg);
    const float = await logitsOf(floatPkg);
    expect(int8.length).toBe(4 * TINY_GPT2.vocabSize);
    expect(Math.max(...Array.from(int8, Math.abs))).toBeGreaterThan(1e-3); // not all zeros
    let worst = 0;
    for (let i = 0; i < int8.length; i++) worst = Math.max(worst, Math.abs(int8[i] - float[i]));
    expect(worst).toBeLessThan(1e-4);
    ids.dispose();
  });
});

describe('the report', () => {
  it('has a larger-models section with every row, and the profile as a section of its own', () => {
    const step = { shape, firstStepMs: 10, stepMs: 5, tokensPerSecond: 8000, flops: 1e6, flopsPerSecond: 2e8, peakBytes: 4096, tensorsBefore: 1, tensorsAfter: 1 };
    const report: BackendReport = {
      environment: 'node', backend: 'webgpu', adapter: 'Some GPU', matmulFlopsPerSecond: 1e9, weightBytes: { int8Package: 1024, float32Package: 4096 },
      grid: [step], exponents: null,
      models: [
        { model: 'SmolLM2-135M-size', kind: 'synthetic', parameters: 134.5e6, shape: { ...shape, batch: 8 }, measurement: step, mlpRecompute: 27, mlpPreActivations: 60, recomputedFlops: 1e6, matmulFlopsPerSecond: 4e8 },
        { model: 'GPT-2-124M-size', kind: 'synthetic', parameters: 124.4e6, shape, measurement: step },
        { model: 'Qwen2.5-0.5B-size', kind: 'synthetic', parameters: 494e6, shape, measurement: null, error: 'skipped: too big' },
      ],
      profile: { shape, steps: 2, wallMsPerStep: 9, kernelMsPerStep: 6, timed: true, kernels: [{ name: 'BatchMatMul', msPerStep: 4, callsPerStep: 10 }, { name: 'Add', msPerStep: 2, callsPerStep: 3 }] },
    };
    const md = markdownReport([report], 'a machine');
    // The ratio against the row's own matmul rate where it was measured beside it, else the run's;
    // then with the recomputed matmuls counted as work done (1 MFLOP beside the step's 1 MFLOP in 5 ms).
    expect(md).toContain('| node | webgpu (Some GPU) | SmolLM2-135M-size | 134.5 M | 8 × 16 + 4 | 27 of 60 | 5 | 8000 | 0.20 | 0.40 | 0.500 | 1.000 | 4 KiB |');
    expect(md).toContain('| node | webgpu (Some GPU) | GPT-2-124M-size | 124.4 M | 2 × 16 + 4 | – | 5 | 8000 | 0.20 | 1.00 | 0.200 | – | 4 KiB |');
    expect(md).toContain('| node | webgpu (Some GPU) | Qwen2.5-0.5B-size | 494.0 M | 2 × 16 + 4 | – | skipped: too big |');
    // wasm rows say on how many threads they ran.
    const wasm = markdownReport([{ ...report, environment: 'chromium', backend: 'wasm', adapter: undefined, threads: 2 }, { ...report, backend: 'wasm', adapter: undefined, threads: 1 }], 'a machine');
    expect(wasm).toContain('| chromium | wasm, 2 threads | SmolLM2-135M-size |');
    expect(wasm).toContain('| node | wasm, 1 thread | SmolLM2-135M-size |');
    expect(md).toContain('node, webgpu (Some GPU): batch 2, sequence 16, 4 virtual tokens; per step, over 2 profiled steps: kernel time 6.0 ms of 9.0 ms wall.');
    expect(md).toContain('| BatchMatMul | 4.00 | 66.7% | 10 |');
    expect(md.indexOf('Where a step\'s time goes')).toBeGreaterThan(md.indexOf('Training step'));
  });
});
