/**
 * Progress inside a step and an evaluation, where ops compute as they are issued (wasm,
 * cpu): the page and the CLI show how far a real-size model's minute-long step has got.
 * Each step is reported layer by layer through the forward and then the backward, and as a
 * whole as soon as it is computed (no step dispatched ahead of its report there), and an
 * evaluation batch by batch. Every prompt-tuning method goes through the same layer stack.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { RunControl } from '../../src/tuning/control';
import { mlpPreActivations } from '../../src/model/memory';
import { computesAtDispatch, forwardShare } from '../../src/tuning/stepProgress';
import { Trainer, type EvaluationProgress, type StepProgress } from '../../src/tuning/trainer';
import { hasSharedModel, openDefault } from '../helpers';
import { METHOD_CASES, smsTask } from './fixtures';

describe('which backends report progress', () => {
  it('wasm and cpu compute as ops are issued; webgpu and webgl queue them', () => {
    expect(['wasm', 'cpu', 'webgpu', 'webgl'].map((b) => computesAtDispatch(b))).toEqual([true, true, false, false]);
  });
});

describe.skipIf(!hasSharedModel)('progress inside a step', () => {
  for (const [method, extra] of METHOD_CASES) {
    it(`${method}: every layer of the forward, then of the backward, before the step's own report, on wasm`, async () => {
      const session = await openDefault('stories260K', 'wasm');
      const layers = session.model.config.numLayers;
      const { task, config } = smsTask(session, 6, { method, steps: 3, numVirtualTokens: 4, batchSize: 4, ...extra });
      const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
      expect(trainer.overlap).toBe(false); // nothing to overlap on wasm: each step is reported when computed
      const log: (StepProgress | { reported: number })[] = [];
      await trainer.run(new RunControl(), { onStepProgress: (p) => log.push(p), onStep: (s) => log.push({ reported: s.step }) });
      for (let step = 1; step <= 3; step++) {
        const at = log.findIndex((e) => 'reported' in e && e.reported === step);
        const before = log.slice(step === 1 ? 0 : log.findIndex((e) => 'reported' in e && e.reported === step - 1) + 1, at) as StepProgress[];
        // Between the previous step's report and this one's: this step's layers, all of them, in order.
        expect(before.map((p) => `${p.step} ${p.pass} ${p.layer}`)).toEqual([
          ...Array.from({ length: layers }, (_, i) => `${step} forward ${i + 1}`),
          ...Array.from({ length: layers }, (_, i) => `${step} backward ${i + 1}`),
        ]);
        const fractions = before.map((p) => p.fraction);
        expect(fractions.every((f, i) => i === 0 || f > fractions[i - 1])).toBe(true);
        expect(fractions[layers - 1]).toBeCloseTo(0.5, 12);
        expect(fractions.at(-1)).toBe(1);
        expect(before.every((p) => p.layers === layers && p.microBatches === 1 && p.elapsedMs >= 0)).toBe(true);
      }
      expect(session.model.layerObserver).toBeNull(); // nothing left listening after the run
      trainer.dispose();
      session.dispose();
    });
  }

  it('a backward that recomputes MLP pre-activations takes a larger share of the step', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const config = session.model.config;
    const all = mlpPreActivations(config);
    expect(forwardShare(config, 0)).toBe(0.5); // input gradients only: the forward's products once more
    expect(forwardShare(config, all)).toBeLessThan(forwardShare(config, all / 2));
    expect(forwardShare(config, all / 2)).toBeLessThan(0.5);
    session.model.mlpRecompute = all;
    const { task, config: train } = smsTask(session, 6, { steps: 1, numVirtualTokens: 2, batchSize: 2 });
    const trainer = await Trainer.create(session.model, session.tokenizer, task, train);
    const seen: StepProgress[] = [];
    await trainer.run(new RunControl(), { onStepProgress: (p) => seen.push(p) });
    const layers = config.numLayers;
    expect(seen[layers - 1].fraction).toBeCloseTo(forwardShare(config, all), 12);
    expect(seen.at(-1)!.fraction).toBe(1);
    expect(seen.every((p, i) => i === 0 || p.fraction > seen[i - 1].fraction)).toBe(true);
    session.model.mlpRecompute = 0;
    trainer.dispose();
    session.dispose();
  });

  for (const [pass, accumulation] of [['forward', 1], ['backward', 1], ['backward', 2]] as const) {
    it(`a pause requested in the ${pass} pass (accumulating ${accumulation}) abandons the step; resumed, the run equals an unbroken one`, async () => {
      const session = await openDefault('stories260K', 'cpu');
      const { task, config } = smsTask(session, 8, { steps: 6, numVirtualTokens: 2, batchSize: 2, gradientAccumulation: accumulation, seed: 5 });
      const unbroken: number[] = [];
      const first = await Trainer.create(session.model, session.tokenizer, task, config);
      await first.run(new RunControl(), { onStep: (e) => unbroken.push(e.loss) });
      first.dispose();

      const flag = new Int32Array(new SharedArrayBuffer(4));
      const control = new RunControl(flag);
      const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
      const losses: number[] = [];
      let tensorsAfterStep3 = -1;
      let requested = false;
      const paused = control.whenPaused();
      const running = trainer.run(control, {
        onStep: (e) => {
          losses.push(e.loss);
          if (e.step === 3) tensorsAfterStep3 = tf.memory().numTensors;
        },
        onStepProgress: (p) => {
          if (requested || p.step !== 4 || p.pass !== pass || p.layer !== 2 || p.microBatch !== accumulation - 1) return;
          requested = true;
          Atomics.store(flag, 0, 1); // as the page's request leaves
          setTimeout(() => control.pause(), 20); // the request itself, read once the step has let go
        },
      });
      await paused;
      expect(requested).toBe(true);
      expect(trainer.step).toBe(3); // step 4 abandoned between layers
      expect(losses).toHaveLength(3);
      expect(Atomics.load(flag, 0)).toBe(0);
      expect(tf.memory().numTensors).toBe(tensorsAfterStep3); // nothing of the abandoned step is left
      control.resume();
      await running;
      expect(losses).toEqual(unbroken);
      trainer.dispose();
      session.dispose();
    });
  }

  it('an interrupt whose request never comes lets the run go on', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { task, config } = smsTask(session, 8, { steps: 3, numVirtualTokens: 2, batchSize: 2, seed: 5 });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
    const steps: number[] = [];
    let set = false;
    await trainer.run(new RunControl(flag), {
      onStep: (e) => steps.push(e.step),
      onStepProgress: () => {
        if (!set) Atomics.store(flag, 0, 1);
        set = true;
      },
    });
    expect(steps).toEqual([1, 2, 3]);
    expect(Atomics.load(flag, 0)).toBe(0);
    trainer.dispose();
    session.dispose();
  });

  it('with gradient accumulation each micro-batch takes its share of the step', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const layers = session.model.config.numLayers;
    const { task, config } = smsTask(session, 6, { steps: 1, numVirtualTokens: 2, batchSize: 2, gradientAccumulation: 3 });
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
    const seen: StepProgress[] = [];
    await trainer.run(new RunControl(), { onStepProgress: (p) => seen.push(p) });
    expect(seen).toHaveLength(3 * 2 * layers);
    expect(seen.map((p) => p.microBatch)).toEqual([0, 1, 2].flatMap((m) => new Array(2 * layers).fill(m)));
    // Each micro-batch ends at its third of the step.
    for (const m of [0, 1, 2]) expect(seen[(m + 1) * 2 * layers - 1].fraction).toBeCloseTo((m + 1) / 3, 12);
    expect(seen.every((p) => p.microBatches === 3)).toBe(true);
    trainer.dispose();
    session.dispose();
  });

  it('an evaluation reports each batch scored, up to every example', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { task, config } = smsTask(session, 12, { steps: 2, evalEvery: 2, evalBatchSize: 4, numVirtualTokens: 2, batchSize: 4 });
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
    const total = trainer.evaluator.evaluationSet().length;
    expect(total).toBeGreaterThan(4);
    const seen: { step: number; p: EvaluationProgress }[] = [];
    let evaluated = 0;
    await trainer.run(new RunControl(), {
      onEvaluationProgress: (step, p) => seen.push({ step, p }),
      onEvaluation: (e) => (evaluated = e.examples),
    });
    const expected = Array.from({ length: Math.ceil(total / 4) }, (_, i) => Math.min(total, 4 * (i + 1)));
    expect(seen.map((s) => s.p.done)).toEqual(expected);
    expect(seen.every((s) => s.step === 2 && s.p.total === total)).toBe(true);
    expect(evaluated).toBe(total);
    trainer.dispose();
    session.dispose();
  });
});
