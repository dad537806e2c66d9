import { describe, expect, it } from 'vitest';
import { hasSharedModel, openDefault, publishedSample, tf } from '../helpers';

describe.skipIf(!hasSharedModel)('greedy generation reproduces the published stories260K sample', () => {
  for (const id of ['stories260K-f32', 'stories260K'] as const) {
    it(`${id} on the cpu backend`, async () => {
      const session = await openDefault(id, 'cpu');
      const sample = publishedSample();
      const prompt = 'Once upon a time';
      const newTokens = session.tokenizer.encode(sample).length - session.tokenizer.encode(prompt).length;
      const result = await session.generate(prompt, { maxNewTokens: newTokens });
      expect(result.promptIds[0]).toBe(session.tokenizer.bosId);
      expect(result.generatedIds).toHaveLength(newTokens);
      expect(result.text).toBe(sample);
      session.dispose();
    });
  }

  it('the KV-cached path gives the same logits as a full forward over the whole sequence', async () => {
    const session = await openDefault('stories260K-f32', 'cpu');
    const ids = session.promptIds('Once upon a time, there was');
    const { model } = session;
    const full = tf.tidy(() => {
      const { hidden } = model.forward({ inputsEmbeds: model.embed(tf.tensor2d(ids, [1, ids.length], 'int32')) });
      return model.logits(hidden).arraySync() as number[][][];
    });
    const cached = tf.tidy(() => {
      const head = ids.slice(0, 4);
      const first = model.forward({ inputsEmbeds: model.embed(tf.tensor2d(head, [1, 4], 'int32')), returnKV: true });
      const rest = ids.slice(4);
      const second = model.forward({ inputsEmbeds: model.embed(tf.tensor2d(rest, [1, rest.length], 'int32')), past: first.kv });
      return model.logits(second.hidden).arraySync() as number[][][];
    });
    for (let t = 4; t < ids.length; t++) {
      const a = full[0][t];
      const b = cached[0][t - 4];
      const maxDiff = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
      expect(maxDiff).toBeLessThan(1e-4);
    }
    session.dispose();
  });

  it('seeded sampling is reproducible and differs across seeds', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const run = (seed: number) => session.generate('The dog', { maxNewTokens: 20, temperature: 1, topP: 0.9, seed });
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a.generatedIds).toEqual(b.generatedIds);
    expect(c.generatedIds).not.toEqual(a.generatedIds);
    session.dispose();
  });

  it('does not leak tensors across generations', async () => {
    const session = await openDefault('stories260K', 'cpu');
    await session.generate('Tom', { maxNewTokens: 3 });
    const before = tf.memory().numTensors;
    await session.generate('Tom had a', { maxNewTokens: 8 });
    expect(tf.memory().numTensors).toBe(before);
    session.dispose();
  });
});
