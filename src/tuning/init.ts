/**
 * Where a soft prompt starts (Lester et al. 2021, §3.2 and Figure 3(b)): random uniform,
 * embeddings of sampled vocabulary, of a phrase, or of the class labels. The paper found
 * class labels best and random worst, most of all for small models.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import { createRng, randomInt, type Rng } from '../data/random';
import type { CausalLM } from '../model/types';
import type { TextTokenizer } from '../tokenizer/tokenizer';

export type InitKind = 'random' | 'vocab' | 'text' | 'labels';

export interface InitOptions {
  kind: InitKind;
  /** The phrase for 'text' init. */
  text?: string;
  /** Verbalized labels for 'labels' init, e.g. [" ham", " spam"]. */
  labels?: string[];
  /** Token frequencies in the training data, to sample the most frequent tokens ('vocab'). */
  tokenCounts?: Map<number, number>;
  seed: number;
}

/** The paper samples from the 5,000 most common tokens. */
const FREQUENT_TOKENS = 5000;

/** Ids worth sampling: every token but the special ones and raw byte pieces. */
export function ordinaryTokenIds(tokenizer: TextTokenizer, vocabSize: number): number[] {
  const ids: number[] = [];
  for (let id = 0; id < Math.min(vocabSize, tokenizer.vocabSize); id++) {
    if (tokenizer.isSpecial(id)) continue;
    if (/^<0x[0-9A-F]{2}>$/.test(tokenizer.idToToken(id) ?? '')) continue;
    ids.push(id);
  }
  return ids;
}

function sampleIds(rng: Rng, pool: number[], n: number): number[] {
  // Without replacement while the pool lasts, so short prompts do not repeat a token.
  const available = [...pool];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (available.length === 0) available.push(...pool);
    const j = randomInt(rng, available.length);
    out.push(available[j]);
    available.splice(j, 1);
  }
  return out;
}

/** The vocabulary pool for sampled init: the most frequent tokens when counts are known. */
function vocabularyPool(tokenizer: TextTokenizer, vocabSize: number, counts?: Map<number, number>): number[] {
  const ordinary = ordinaryTokenIds(tokenizer, vocabSize);
  if (!counts || counts.size === 0) return ordinary.slice(0, FREQUENT_TOKENS);
  const allowed = new Set(ordinary);
  const byFrequency = [...counts.entries()].filter(([id]) => allowed.has(id)).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const frequent = byFrequency.slice(0, FREQUENT_TOKENS).map(([id]) => id);
  return frequent.length >= 8 ? frequent : ordinary.slice(0, FREQUENT_TOKENS);
}

/**
 * The initial prompt, [P, d] float32 values. Embedding-based inits copy rows of the
 * model's (frozen) input embedding table.
 */
export async function initialPrompt(
  numVirtualTokens: number,
  model: Pick<CausalLM, 'config' | 'embed'>,
  tokenizer: TextTokenizer,
  opts: InitOptions,
): Promise<Float32Array> {
  const { vocabSize, hiddenSize: d } = model.config;
  const rng = createRng(opts.seed);
  const out = new Float32Array(numVirtualTokens * d);
  // Asynchronous reads only: a synchronous GPU read stalls (or, in a worker, breaks) WebGPU.
  const rowsOf = async (ids: number[]): Promise<Float32Array> => {
    const rows = tf.tidy(() => model.embed(tf.tensor2d(ids, [1, ids.length], 'int32'))); // [1, n, d]
    const values = (await rows.data()) as Float32Array;
    rows.dispose();
    return values;
  };

  switch (opts.kind) {
    case 'random':
      for (let i = 0; i < out.length; i++) out[i] = rng.next() - 0.5;
      return out;
    case 'vocab':
      out.set(await rowsOf(sampleIds(rng, vocabularyPool(tokenizer, vocabSize, opts.tokenCounts), numVirtualTokens)));
      return out;
    case 'text': {
      const text = opts.text?.trim() ?? '';
      if (!text) throw new StudioError('settings', 'Text initialization needs an init text.', 'Type a phrase that describes the task, e.g. "Classify if the SMS is spam or not".');
      // Only the first P tokens are used: a phrase far longer (a pasted page) is cut before it is
      // tokenized, at 32 characters a token, more than any token spans.
      const ids = tokenizer.encode(text.length > numVirtualTokens * 32 ? text.slice(0, numVirtualTokens * 32) : text);
      // Repeat the phrase until the prompt is full, then cut (PEFT's TEXT init does the same).
      const filled = Array.from({ length: numVirtualTokens }, (_, i) => ids[i % ids.length]);
      out.set(await rowsOf(filled));
      return out;
    }
    case 'labels': {
      const labels = opts.labels ?? [];
      if (labels.length === 0) throw new StudioError('settings', 'Class-label initialization needs the labels.');
      // One virtual token per label (the mean of its token embeddings), then sampled vocabulary.
      const used = Math.min(labels.length, numVirtualTokens);
      for (let i = 0; i < used; i++) {
        const ids = tokenizer.encode(labels[i]);
        const rows = await rowsOf(ids);
        for (let r = 0; r < ids.length; r++) for (let c = 0; c < d; c++) out[i * d + c] += rows[r * d + c] / ids.length;
      }
      if (numVirtualTokens > used) {
        const rest = sampleIds(rng, vocabularyPool(tokenizer, vocabSize, opts.tokenCounts), numVirtualTokens - used);
        out.set(await rowsOf(rest), used * d);
      }
      return out;
    }
  }
}
