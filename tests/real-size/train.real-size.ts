/**
 * A short prompt-tuning run on a real-size checkpoint, on wasm in Node, at a tiny shape:
 * batch 1 × 8 tokens (+ the target), 2 virtual tokens, 2 steps, AdamW. Its prompt is set to
 * the numpy reference's two vectors before the first step, so the first loss is
 * -log p(target | prompt, ids) under the int8 model, which scripts/real-size-reference.py
 * computes independently (float64 over the same int8 weights).
 *
 * Tolerance 1e-4 on a loss of about 9-12 nats: the loss is a log-sum-exp over the whole
 * vocabulary (49-152k float32 terms) after the same forward pass whose logits agree with
 * numpy's to 2e-5 (logits.real-size.ts). Measured on SmolLM2-135M: 8.758627 against numpy's
 * 8.758629 (1.7e-6); the float model's loss, 8.649, is 0.11 away.
 */
import { describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { validateTrainConfig } from '../../src/tuning/config';
import { RunControl } from '../../src/tuning/control';
import type { EncodedExample } from '../../src/tuning/objective';
import type { PreparedTask } from '../../src/tuning/task';
import { Trainer, type StepEvent } from '../../src/tuning/trainer';
import { tf } from '../helpers';
import { MODELS, hasCheckpoint, missingNote, modelDir, reference, referenceNote, rssMiB, timed, type RealSizeName } from './realSize';

const TOLERANCE = 1e-4;

/** One example, used for training and validation alike: the reference's ids and target. */
function oneExampleTask(inputIds: number[], target: number): PreparedTask {
  const example: EncodedExample = { inputIds, label: 0, targetIds: [target], task: 0 };
  return {
    labels: ['a'], scoring: 'rank', verbalizer: { a: ' a' }, labelIds: [[target]], tasks: [], taskLabels: [[0]],
    train: [example], validation: [example], trainIds: [0], validationIds: [0],
    truncated: 0, tokenCounts: new Map(), template: '{text}', maxLength: inputIds.length,
  };
}

for (const name of MODELS as RealSizeName[]) {
  const present = hasCheckpoint(name);
  const ref = present ? reference(name) : null;
  if (!present) process.stderr.write(`[real-size] skipping ${name}: ${missingNote(name)}\n`);
  else if (!ref) process.stderr.write(`[real-size] skipping ${name} training: ${referenceNote(name)}\n`);

  describe.skipIf(!ref)(`${name} at real size, training on wasm`, () => {
    it('2 steps of prompt tuning at batch 1 × 8 tokens, 2 virtual tokens: the first loss equals the numpy int8 loss', async () => {
      const backend = await selectBackend('wasm');
      const session = await timed(`${name}: open int8 on wasm`, () => ModelSession.open(folderSource(modelDir(name)), backend, undefined, { quantize: true }));
      const train = ref!.train;
      const config = validateTrainConfig({
        method: 'prompt', init: 'random', numVirtualTokens: train.prompt.length, batchSize: 1, steps: 2, warmupSteps: 0,
        optimizer: 'adamw', learningRate: 0.1, maxLength: train.input_ids.length,
        evalEvery: 1_000_000, projectEvery: 1_000_000, checkpointEvery: 1_000_000, maxEvalExamples: 1, seed: 1,
      });
      const trainer = await Trainer.create(session.model, session.tokenizer, oneExampleTask(train.input_ids, train.target), config);
      try {
        const prompt = trainer.method.variables[0];
        expect(prompt.shape).toEqual([train.prompt.length, session.model.config.hiddenSize]);
        tf.tidy(() => prompt.assign(tf.tensor2d(train.prompt, prompt.shape as [number, number])));
        const steps: StepEvent[] = [];
        const summary = await timed(`${name}: 2 training steps`, () => trainer.run(new RunControl(), { onStep: (e) => steps.push(e) }));
        expect(summary.stoppedBy).toBe('completed');
        expect(steps.map((s) => s.step)).toEqual([1, 2]);
        const [first, second] = steps.map((s) => s.loss);
        process.stderr.write(`[real-size] ${name}: losses ${first} then ${second}; numpy int8 ${train.int8_loss} (float ${train.loss}); `
          + `first loss off by ${Math.abs(first - train.int8_loss).toExponential(2)}; steps ${steps.map((s) => `${(s.stepMs / 1000).toFixed(1)} s`).join(', ')}; ${rssMiB()}\n`);
        expect(Number.isFinite(first) && Number.isFinite(second)).toBe(true);
        expect(Math.abs(first - train.int8_loss)).toBeLessThan(TOLERANCE);
        // The int8 loss, not the float one (quantization moves it by far more than the tolerance).
        expect(Math.abs(first - train.loss)).toBeGreaterThan(10 * TOLERANCE);
        // The step trained the prompt: the second loss is that of an updated prompt, lower on this one example.
        expect(second).toBeLessThan(first);
      } finally {
        trainer.dispose();
        session.dispose();
      }
    });
  });
}
