/**
 * Overlap (the next step dispatched before this one's loss is read; projections,
 * evaluations and checkpoints run on device-side copies while training goes on) must not
 * change a single number: every event and the final prompt equal a run that waits for each.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildDataset, defaultVerbalizer, guessMapping } from '../../src/data';
import type { ModelSession } from '../../src/engine/session';
import type { CausalLM } from '../../src/model/types';
import { validateTrainConfig, type TrainConfig } from '../../src/tuning/config';
import { freezePrompt, methodPrompt } from '../../src/tuning/objective';
import { prepareTask, type PreparedTask } from '../../src/tuning/task';
import { RunControl } from '../../src/tuning/control';
import { Trainer, type Evaluation, type ProjectionEvent, type RunSnapshot, type RunSummary, type StepEvent } from '../../src/tuning/trainer';
import { hasSharedModel, openDefault } from '../helpers';
import { METHOD_CASES, smsSample, smsTask } from './fixtures';

interface Recorded {
  steps: Omit<StepEvent, 'stepMs' | 'elapsedMs' | 'etaMs' | 'tokensPerSecond'>[];
  evaluations: Evaluation[];
  projections: ProjectionEvent[];
  checkpoints: RunSnapshot[];
  order: string[];
  summary: RunSummary;
  variables: number[][];
  snapshot: RunSnapshot;
}

async function record(trainer: Trainer, overlap: boolean, control = new RunControl(), stopAfter?: number): Promise<Recorded> {
  trainer.overlap = overlap;
  const r: Omit<Recorded, 'summary' | 'variables' | 'snapshot'> = { steps: [], evaluations: [], projections: [], checkpoints: [], order: [] };
  const summary = await trainer.run(control, {
    onStep: ({ step, totalSteps, loss, learningRate, gradNorm }) => {
      r.steps.push({ step, totalSteps, loss, learningRate, gradNorm });
      r.order.push(`step ${step}`);
      if (step === stopAfter) control.stop();
    },
    onEvaluation: (e) => { r.evaluations.push(e); r.order.push(`evaluation ${e.step}`); },
    onProjection: (p) => { r.projections.push(p); r.order.push(`projection ${p.step}`); },
    onCheckpoint: (s) => { r.checkpoints.push(s); r.order.push(`checkpoint ${s.step}`); },
  });
  const variables = await Promise.all(trainer.method.variables.map(async (v) => Array.from(await v.data())));
  return { ...r, summary, variables, snapshot: await trainer.snapshot() };
}

/** The SMS sample with every other row in a second task, for multitask prompt tuning. */
function twoTaskSms(session: ModelSession, overrides: Partial<TrainConfig>): { task: PreparedTask; config: TrainConfig } {
  const sample = smsSample(12);
  const table = { ...sample, columns: [...sample.columns, 'task'], rows: sample.rows.map((r, i) => [...r, i % 2 ? 'b' : 'a']) };
  const dataset = buildDataset(table, { ...guessMapping(sample), taskColumn: 'task' }, { validationFraction: 0.25, seed: 1 });
  const config = validateTrainConfig({ maxLength: 32, batchSize: 4, ...overrides });
  const task = prepareTask(session.tokenizer, dataset, {
    template: config.template, verbalizer: defaultVerbalizer(dataset.labels), maxLength: config.maxLength, truncateSide: config.truncateSide,
  }, session.pkg.config.maxPositions, config.numVirtualTokens);
  return { task, config };
}

/** A model whose `n`-th forward pass (counting from 1) yields NaN hidden states. */
function poisonedForward(model: CausalLM, n: number): CausalLM {
  let calls = 0;
  return new Proxy(model, {
    get(target, key, receiver) {
      if (key !== 'forward') return Reflect.get(target, key, receiver);
      return (...args: Parameters<CausalLM['forward']>) => {
        const out = target.forward(...args);
        return ++calls === n ? { ...out, hidden: tf.mul(out.hidden, NaN) } : out;
      };
    },
  });
}

describe.skipIf(!hasSharedModel)('overlapped training', () => {
  for (const [method, extra] of METHOD_CASES) {
    it(`${method}: every step, evaluation, projection and checkpoint equals the run that waits for each`, async () => {
      const session = await openDefault('stories260K', 'cpu');
      const { task, config } = twoTaskSms(session, {
        method, steps: 4, numVirtualTokens: 3, seed: 4, evalEvery: 2, projectEvery: 3, checkpointEvery: 2, maxEvalExamples: 4, evalBatchSize: 2, ...extra,
      });
      expect(task.tasks).toHaveLength(2);
      const waited = await record(await Trainer.create(session.model, session.tokenizer, task, config), false);
      const overlapped = await record(await Trainer.create(session.model, session.tokenizer, task, config), true);
      expect(waited.steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
      expect(waited.evaluations.map((e) => e.step)).toEqual([2, 4]);
      expect(waited.projections.map((p) => p.step)).toEqual([0, 3, 4]);
      expect(waited.checkpoints.map((c) => c.step)).toEqual([2, 4]);
      expect(overlapped.steps).toEqual(waited.steps);
      expect(overlapped.evaluations).toEqual(waited.evaluations);
      expect(overlapped.projections).toEqual(waited.projections);
      expect(overlapped.checkpoints).toEqual(waited.checkpoints);
      expect(overlapped.variables).toEqual(waited.variables);
      expect(overlapped.snapshot).toEqual(waited.snapshot);
      expect(overlapped.summary).toEqual(waited.summary);
      // Each step's work reports after that step, in the order projection, evaluation, checkpoint.
      for (const r of [waited, overlapped]) {
        for (const kind of ['projection', 'evaluation', 'checkpoint']) {
          for (const entry of r.order.filter((o) => o.startsWith(kind) && !o.endsWith(' 0'))) {
            const step = entry.split(' ')[1];
            expect(r.order.indexOf(entry)).toBeGreaterThan(r.order.indexOf(`step ${step}`));
          }
        }
      }
      expect(waited.order.join(', ')).toContain('projection 4, evaluation 4, checkpoint 4');
      session.dispose();
    });

    it(`${method}: a frozen prompt scores exactly as the live one, on rows from both tasks`, async () => {
      const session = await openDefault('stories260K', 'cpu');
      const { task, config } = twoTaskSms(session, { method, steps: 2, numVirtualTokens: 3, seed: 6, maxEvalExamples: 0, ...extra });
      const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
      await trainer.run(new RunControl());
      expect(new Set(trainer.evaluator.evaluationSet().map((e) => e.task)).size).toBe(2);
      const frozen = freezePrompt(trainer.method, task.tasks.length);
      const live = await trainer.evaluate(methodPrompt(trainer.method));
      const copy = await trainer.evaluate(frozen.source);
      frozen.dispose();
      expect(copy.probabilities).toEqual(live.probabilities);
      expect(copy.loss).toBe(live.loss);
      trainer.dispose();
      session.dispose();
    });
  }

  it('a NaN at step 3, with step 4 already dispatched, keeps step 2\'s prompt, sampler and optimizer exactly', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { task, config } = smsTask(session, 8, { steps: 6, numVirtualTokens: 2, batchSize: 2, seed: 9, optimizer: 'adamw', learningRate: 0.05 });
    const runs: Recorded[] = [];
    for (const overlap of [false, true]) {
      const trainer = await Trainer.create(poisonedForward(session.model, 3), session.tokenizer, task, config);
      const before = tf.memory().numTensors;
      runs.push(await record(trainer, overlap));
      expect(tf.memory().numTensors).toBe(before);
      trainer.dispose();
    }
    const [waited, overlapped] = runs;
    expect(overlapped.summary.stoppedBy).toBe('non-finite-loss');
    expect(overlapped.summary.message).toMatch(/^The loss became NaN at step 3, so training stopped; the prompt from step 2 is kept\./);
    expect(overlapped.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(overlapped.snapshot.step).toBe(2);
    expect(overlapped.snapshot.optimizer.step).toBe(3);
    expect(overlapped.variables).toEqual(waited.variables);
    expect(overlapped.snapshot).toEqual(waited.snapshot);
    expect(overlapped.summary).toEqual(waited.summary);

    // They are step 2's values: an unpoisoned run that waits and is stopped after step 2 holds the same.
    const clean = await Trainer.create(session.model, session.tokenizer, task, config);
    const control = new RunControl();
    const stopped = await record(clean, false, control, 2);
    expect(stopped.summary.message).toBe('Stopped at step 2.');
    expect(overlapped.variables).toEqual(stopped.variables);
    expect(overlapped.snapshot.optimizer.slots).toEqual(stopped.snapshot.optimizer.slots);
    clean.dispose();
    session.dispose();
  });

  it('a stop requested during step 3 finishes the step already dispatched, and resuming from there matches an unbroken run', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { task, config } = smsTask(session, 8, { steps: 6, numVirtualTokens: 2, batchSize: 2, seed: 2 });
    const whole = await record(await Trainer.create(session.model, session.tokenizer, task, config), true);
    const part = await Trainer.create(session.model, session.tokenizer, task, config);
    const first = await record(part, true, new RunControl(), 3);
    expect(first.summary.stoppedBy).toBe('user');
    const stoppedAt = first.summary.step;
    expect([3, 4]).toContain(stoppedAt);
    expect(first.snapshot.step).toBe(stoppedAt);
    const resumed = await Trainer.create(session.model, session.tokenizer, task, config);
    resumed.restore(first.snapshot);
    const rest = await record(resumed, true);
    expect([...first.steps, ...rest.steps]).toEqual(whole.steps);
    expect(rest.variables).toEqual(whole.variables);
    session.dispose();
  });

  it('an error thrown while step 4 is in flight still leaves prompt, step, sampler and optimizer agreeing', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { task, config } = smsTask(session, 8, { steps: 6, numVirtualTokens: 2, batchSize: 2, seed: 8 });
    const whole = await record(await Trainer.create(session.model, session.tokenizer, task, config), true);
    const part = await Trainer.create(session.model, session.tokenizer, task, config);
    part.overlap = true; // as on WebGPU (on cpu a step is reported before the next is dispatched)
    await expect(part.run(new RunControl(), { onStep: (e) => { if (e.step === 3) throw new Error('the page went away'); } }))
      .rejects.toThrow('the page went away');
    // Step 4 was dispatched before step 3's loss came back, and it was applied: it counts.
    expect(part.step).toBe(4);
    const snapshot = await part.snapshot();
    const resumed = await Trainer.create(session.model, session.tokenizer, task, config);
    resumed.restore(snapshot);
    const rest = await record(resumed, true);
    expect(rest.steps).toEqual(whole.steps.slice(4));
    expect(rest.variables).toEqual(whole.variables);
    session.dispose();
  });

  it('early stopping stops at the same step with the same best prompt either way', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { task, config } = smsTask(session, 12, {
      // A step size this large wrecks the prompt after its first evaluations.
      steps: 10, numVirtualTokens: 2, batchSize: 4, seed: 1, optimizer: 'adamw', learningRate: 30, maxGradNorm: 0,
      evalEvery: 1, earlyStoppingPatience: 2, maxEvalExamples: 6,
    });
    const waited = await record(await Trainer.create(session.model, session.tokenizer, task, config), false);
    const overlapped = await record(await Trainer.create(session.model, session.tokenizer, task, config), true);
    expect(waited.summary.stoppedBy).toBe('early-stopping');
    expect(waited.summary.step).toBeLessThan(10);
    expect(waited.summary.message).toMatch(/^Stopped early at step \d+: .* The prompt from step \d+ \(the best\) is kept\.$/);
    expect(overlapped.summary).toEqual(waited.summary);
    expect(overlapped.steps).toEqual(waited.steps);
    expect(overlapped.variables).toEqual(waited.variables);
    session.dispose();
  });

  it('a failing checkpoint write fails the run with its error and leaves no tensor behind', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const { task, config } = smsTask(session, 8, { steps: 8, numVirtualTokens: 2, batchSize: 2, checkpointEvery: 2, evalEvery: 2, maxEvalExamples: 4 });
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    await expect(trainer.run(new RunControl(), {
      onStep: (e) => steps.push(e.step),
      onCheckpoint: () => { throw new Error('the disk is full'); },
    })).rejects.toThrow('the disk is full');
    expect(tf.memory().numTensors).toBe(before);
    // The failure stops training within the step in flight and the queued work.
    expect(Math.max(...steps)).toBeLessThan(8);
    trainer.dispose();
    session.dispose();
  });
});
