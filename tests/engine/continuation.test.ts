/**
 * What the model writes after a text with a prompt (the playground's continuation, and what
 * PEFT's `model.generate` gives with the adapter): greedy through the KV cache, with the
 * prompt's vectors ahead of the tokens or its keys/values as the cache's first entries. The
 * reference runs the whole sequence again for every token, with no cache at all.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random';
import { continueAfter } from '../../src/engine/predictions';
import { argmax } from '../../src/model/generate';
import type { CausalLM } from '../../src/model/types';
import { DEFAULT_TRAIN_CONFIG } from '../../src/tuning/config';
import type { MethodKind } from '../../src/tuning/methods/catalog';
import { createMethod } from '../../src/tuning/methods';
import type { SoftPromptMethod } from '../../src/tuning/methods/types';
import { methodPrompt } from '../../src/tuning/objective';
import { hasSharedModel, openDefault, tf } from '../helpers';

/** Greedy decoding with no cache: the prompt and every token so far through the whole model, each time. */
function uncachedGreedy(model: CausalLM, method: SoftPromptMethod | null, inputIds: number[], maxNewTokens: number): number[] {
  const ids = [...inputIds];
  const out: number[] = [];
  for (let i = 0; i < maxNewTokens; i++) {
    const logits = tf.tidy(() => {
      const c = method ? method.contribution(1, tf.tensor1d([0], 'int32')) : { length: 0 };
      let embeds = model.embed(tf.tensor2d(ids, [1, ids.length], 'int32'));
      if (c.inputEmbeds) embeds = tf.concat([c.inputEmbeds, embeds], 1);
      const { hidden } = model.forward({ inputsEmbeds: embeds, past: c.pastKV });
      const last = hidden.slice([0, hidden.shape[1] - 1, 0], [1, 1, model.config.hiddenSize]);
      return model.logits(last).dataSync() as Float32Array;
    });
    const next = argmax(logits);
    out.push(next);
    if (model.config.eosTokenIds.includes(next)) break;
    ids.push(next);
  }
  return out;
}

describe.skipIf(!hasSharedModel)('the continuation after a text, with a prompt', () => {
  const methods: MethodKind[] = ['prompt', 'ptuning-mlp', 'prefix', 'multitask'];
  for (const kind of methods) {
    it(`${kind}: the cached greedy tokens equal a full forward's, token for token`, async () => {
      const session = await openDefault('stories260K-f32', 'cpu');
      const { model, tokenizer } = session;
      const config = { ...DEFAULT_TRAIN_CONFIG, method: kind, numVirtualTokens: 4 };
      const rng = createRng(11);
      // Prompt vectors large enough to change what the model writes after the text.
      const initial = Float32Array.from({ length: 4 * model.config.hiddenSize }, () => 8 * (rng.next() - 0.5));
      const method = createMethod({ config, initial, model: model.config, numTasks: 2 });
      const inputIds = tokenizer.encode('The dog', { addBos: true });
      const before = tf.memory().numTensors;
      const continuation = await continueAfter(model, tokenizer, methodPrompt(method), inputIds, 8);
      expect(tf.memory().numTensors).toBe(before);
      expect(continuation.ids).toEqual(uncachedGreedy(model, method, inputIds, 8));
      const plain = await continueAfter(model, tokenizer, null, inputIds, 8);
      expect(plain.ids).toEqual(uncachedGreedy(model, null, inputIds, 8));
      expect(continuation.ids).not.toEqual(plain.ids);
      // The text keeps the space its first token carries: prompt text + continuation is the whole decoded sequence.
      const head = tokenizer.decode(inputIds, { skipSpecialTokens: true });
      expect(head + continuation.text).toBe(tokenizer.decode([...inputIds, ...continuation.ids], { skipSpecialTokens: true }));
      expect(continuation.text).toMatch(/^\s/);
      expect(continuation.ended).toBe(model.config.eosTokenIds.includes(continuation.ids.at(-1)!));
      method.dispose();
      session.dispose();
    });
  }

  it('without a prompt it is what the model generates from the same text', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const text = 'Lily wanted to play outside';
    const plain = await continueAfter(session.model, session.tokenizer, null, session.promptIds(text), 12);
    const generated = await session.generate(text, { maxNewTokens: 12 });
    expect(plain.ids).toEqual(generated.generatedIds);
    expect(text + plain.text).toBe(generated.text);
    session.dispose();
  });
});
