import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ModelSession } from '../../src/engine/session';
import { RunControl } from '../../src/tuning/control';
import { Trainer, type StepEvent } from '../../src/tuning/trainer';
import type { TrainConfig } from '../../src/tuning/config';
import { hasSharedModel, openDefault } from '../helpers';
import { METHOD_CASES, smsTask } from './fixtures';

async function train(session: ModelSession, overrides: Partial<TrainConfig>, perClass = 24) {
  const { task, config } = smsTask(session, perClass, overrides);
  const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
  const steps: StepEvent[] = [];
  const summary = await trainer.run(new RunControl(), { onStep: (e) => steps.push(e) });
  return { trainer, steps, summary, losses: steps.map((s) => s.loss) };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.skipIf(!hasSharedModel)('training', () => {
  for (const [method, extra] of METHOD_CASES) {
    it(`${method}: the loss falls on a small real task`, async () => {
      const session = await openDefault('stories260K', 'wasm');
      const { losses, summary, trainer } = await train(session, { method, steps: 30, numVirtualTokens: 4, seed: 3, ...extra });
      expect(summary.stoppedBy).toBe('completed');
      expect(losses).toHaveLength(30);
      expect(mean(losses.slice(-5))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
      trainer.dispose();
      session.dispose();
    });
  }

  it('the same seed gives the same losses on the cpu backend, another seed different ones', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const config = { steps: 4, numVirtualTokens: 3, batchSize: 4 };
    const a = await train(session, { ...config, seed: 11 });
    const b = await train(session, { ...config, seed: 11 });
    const c = await train(session, { ...config, seed: 12 });
    expect(b.losses).toEqual(a.losses);
    expect(c.losses).not.toEqual(a.losses);
    [a, b, c].forEach((r) => r.trainer.dispose());
  });

  it('N steps, a snapshot restored into a new trainer, then M steps equals N+M steps uninterrupted', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const config = { numVirtualTokens: 3, batchSize: 4, seed: 5, optimizer: 'adafactor' as const, learningRate: 0.3 };
    const whole = await train(session, { ...config, steps: 6 });
    const first = await train(session, { ...config, steps: 6 }); // same run, stopped after 3 below
    first.trainer.dispose();
    const { task, config: cfg } = smsTask(session, 24, { ...config, steps: 6 });
    const part = await Trainer.create(session.model, session.tokenizer, task, cfg);
    const control = new RunControl();
    const losses: number[] = [];
    await part.run(control, { onStep: (e) => { losses.push(e.loss); if (e.step === 3) control.stop(); } });
    const snapshot = await part.snapshot();
    part.dispose();
    const resumed = await Trainer.create(session.model, session.tokenizer, task, cfg);
    resumed.restore(snapshot);
    await resumed.run(new RunControl(), { onStep: (e) => losses.push(e.loss) });
    expect(losses).toEqual(whole.losses);
    resumed.dispose();
    whole.trainer.dispose();
  });

  it.each([true, false])('keeps the tensor count constant over 200 steps (overlap %s)', async (overlap) => {
    const session = await openDefault('stories260K', 'cpu');
    const counts: number[] = [];
    const { task, config } = smsTask(session, 8, { steps: 200, numVirtualTokens: 2, batchSize: 2, maxLength: 12, evalEvery: 100, projectEvery: 50, maxEvalExamples: 4 });
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
    trainer.overlap = overlap;
    const before = tf.memory().numTensors;
    const midway: number[] = [];
    await trainer.run(new RunControl(), {
      onStep: (e) => {
        counts.push(tf.memory().numTensors - trainer.inFlight.tensors);
        // Midway between boundaries only the next step is in flight, if any: its loss and gradient norm.
        if (e.step % 50 === 25) midway.push(tf.memory().numTensors);
      },
    });
    expect(counts).toHaveLength(200);
    expect(new Set(counts).size).toBe(1);
    expect(midway).toEqual(new Array(4).fill(counts[0] + (overlap ? 2 : 0)));
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('a non-finite loss stops the run with a message and leaves the prompt as it was', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { task, config } = smsTask(session, 8, { steps: 5, numVirtualTokens: 2, batchSize: 2 });
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
    const variable = trainer.method.variables[0];
    tf.tidy(() => variable.assign(tf.fill(variable.shape, 3e38)));
    const before = Array.from(await variable.data());
    const summary = await trainer.run(new RunControl());
    expect(summary.stoppedBy).toBe('non-finite-loss');
    expect(summary.message).toMatch(/^The loss became (NaN|infinite|not finite) at step 1, so training stopped; the prompt from step 0 is kept\./);
    expect(Array.from(await variable.data())).toEqual(before);
    trainer.dispose();
  });

  it('the exported prompt, fed back as an input prefix, reproduces the validation predictions exactly', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { trainer } = await train(session, { steps: 8, numVirtualTokens: 4, batchSize: 4 }, 16);
    const own = await trainer.evaluate();
    const exported = await trainer.method.exportPeft();
    const { shape, data } = exported.tensors.prompt_embeddings;
    const replay = await trainer.evaluate((batch) => ({
      inputEmbeds: tf.tensor2d(data, shape as [number, number]).expandDims(0).tile([batch, 1, 1]) as tf.Tensor3D,
      length: shape[0],
    }));
    expect(replay.predictions).toEqual(own.predictions);
    expect(replay.probabilities).toEqual(own.probabilities);
    trainer.dispose();
  });
});
