import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { continueAfter } from '../../src/engine/predictions';
import { batchLoss, methodPrompt, scoreLabels } from '../../src/tuning/objective';
import { PromptTuning } from '../../src/tuning/methods/prompt';
import { hasSharedModel, openDefault } from '../helpers';
import { smsTask } from './fixtures';
import { createRng } from '../../src/data/random';

/** The float model, four validation examples of the SMS sample, and a random 4-token prompt (seeded). */
async function fourExamplesAndARandomPrompt() {
  const session = await openDefault('stories260K-f32', 'cpu');
  const { task } = smsTask(session, 10);
  const d = session.pkg.config.hiddenSize;
  const rng = createRng(9);
  const method = new PromptTuning(Float32Array.from({ length: 4 * d }, () => rng.next() - 0.5), 4, d);
  return { session, task, examples: task.validation.slice(0, 4), method, prompt: methodPrompt(method) };
}

describe.skipIf(!hasSharedModel)('objective', () => {
  it('the prompt gradient matches central finite differences', async () => {
    const session = await openDefault('stories260K-f32', 'cpu');
    const { task } = smsTask(session, 10);
    const batch = task.train.slice(0, 3);
    const d = session.pkg.config.hiddenSize;
    const p = 3;
    const rng = createRng(5);
    const initial = Float32Array.from({ length: p * d }, () => rng.next() - 0.5);
    const method = new PromptTuning(initial, p, d);
    const prompt = methodPrompt(method);
    const { grads } = tf.variableGrads(() => batchLoss(session.model, prompt, batch), method.variables);
    const analytic = (await grads[method.variables[0].name].data()) as Float32Array;
    const lossAt = (values: Float32Array) => {
      const m = new PromptTuning(values, p, d);
      const v = tf.tidy(() => batchLoss(session.model, methodPrompt(m), batch).dataSync()[0]);
      m.dispose();
      return v;
    };
    const eps = 1e-2;
    for (const index of [0, 7, d + 3, 2 * d + 60, p * d - 1]) {
      const plus = initial.slice();
      plus[index] += eps;
      const minus = initial.slice();
      minus[index] -= eps;
      const numeric = (lossAt(plus) - lossAt(minus)) / (2 * eps);
      expect(Math.abs(analytic[index] - numeric)).toBeLessThan(2e-3 + 0.03 * Math.abs(numeric));
    }
    expect(Math.max(...Array.from(analytic, Math.abs))).toBeGreaterThan(1e-4);
    tf.dispose(Object.values(grads));
    method.dispose();
  });

  it('the prompt gradient on wasm (custom linear gradients) equals the one on cpu', async () => {
    const gradientOn = async (backend: 'cpu' | 'wasm') => {
      const session = await openDefault('stories260K-f32', backend);
      const { task } = smsTask(session, 10);
      const d = session.pkg.config.hiddenSize;
      const rng = createRng(21);
      const method = new PromptTuning(Float32Array.from({ length: 3 * d }, () => rng.next() - 0.5), 3, d);
      const { value, grads } = tf.variableGrads(() => batchLoss(session.model, methodPrompt(method), task.train.slice(0, 4)), method.variables);
      const out = { loss: (await value.data())[0], grad: Array.from(await grads[method.variables[0].name].data()) };
      tf.dispose([value, ...Object.values(grads)]);
      method.dispose();
      session.dispose();
      return out;
    };
    const cpu = await gradientOn('cpu');
    const wasm = await gradientOn('wasm');
    expect(wasm.loss).toBeCloseTo(cpu.loss, 4);
    const scale = Math.max(...cpu.grad.map(Math.abs));
    cpu.grad.forEach((g, i) => expect(Math.abs(wasm.grad[i] - g)).toBeLessThan(1e-4 * scale + 1e-6));
  });

  it('rank classification with cached input keys/values equals scoring each label as a full sequence', async () => {
    const { session, task, examples, method, prompt } = await fourExamplesAndARandomPrompt();
    const fast = await scoreLabels(session.model, prompt, examples, task.labelIds);
    for (let i = 0; i < examples.length; i++) {
      for (let c = 0; c < task.labelIds.length; c++) {
        const single = [{ ...examples[i], targetIds: task.labelIds[c], label: c }];
        const meanNll = tf.tidy(() => batchLoss(session.model, prompt, single).dataSync()[0]);
        expect(fast.logLikelihood[i][c]).toBeCloseTo(-meanNll * task.labelIds[c].length, 3);
      }
    }
    method.dispose();
  });

  it('says which labels greedy decoding writes after each input, as decoding token by token does', async () => {
    const { session, task, examples, method, prompt } = await fourExamplesAndARandomPrompt();
    const greedy = await Promise.all(examples.map((e) => continueAfter(session.model, session.tokenizer, prompt, e.inputIds, 3)));
    // Labels that greedy writes after some inputs and not others: whole continuations, their first tokens,
    // one with a wrong last token, one with a wrong first token.
    const [a, b] = [greedy[0].ids, greedy[1].ids];
    const other = (id: number) => (id + 1) % session.pkg.config.vocabSize;
    const labelIds = [a.slice(0, 3), [a[0], a[1], other(a[2])], [b[0]], b.slice(0, 2), [other(a[0]), a[1]]];
    const scored = await scoreLabels(session.model, prompt, examples, labelIds);
    const expected = greedy.map((g) => labelIds.map((l) => l.every((id, j) => g.ids[j] === id)));
    expect(scored.writes).toEqual(expected);
    expect(expected.flat().filter(Boolean).length).toBeGreaterThanOrEqual(2); // the test sees both answers
    method.dispose();
  });
});
