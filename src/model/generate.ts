/**
 * Autoregressive generation with a KV cache: one forward over the prompt (prefill), then
 * one position at a time (decode), each step attending to the cached keys/values.
 * Greedy (temperature 0) or seeded temperature / nucleus sampling. A soft prompt enters
 * as embeddings before the tokens; prefix tuning's per-layer keys/values enter as the
 * first cache entries.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import { createRng } from '../data/random';
import type { CausalLM, LayerKV } from './types';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (default) is greedy decoding. */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP. */
  topP?: number;
  seed?: number;
  /** Stop when an end-of-sequence token is produced (default true). */
  stopAtEos?: boolean;
  /** [P, d] soft-prompt vectors placed before the prompt's token embeddings. */
  prefixEmbeds?: tf.Tensor2D;
  /** Per-layer prefix keys/values (prefix tuning), [1, Hkv, P, hd] each; not disposed here. */
  prefixKV?: LayerKV[];
  /** Called with each new token as soon as it is chosen; return false to stop. */
  onToken?: (id: number) => boolean | void;
}

/** Index of the largest value; the first one on ties, as llama2.c's argmax. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function sampleToken(logits: Float32Array, temperature: number, topP: number, random: () => number): number {
  if (temperature <= 0) return argmax(logits);
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += probs[i] = Math.exp((logits[i] - max) / temperature);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  // Nucleus: the shortest prefix of the sorted tokens whose mass reaches topP.
  let kept = 0;
  let mass = 0;
  while (kept < order.length && (kept === 0 || mass < topP * sum)) mass += probs[order[kept++]];
  let r = random() * mass;
  for (let i = 0; i < kept; i++) {
    r -= probs[order[i]];
    if (r <= 0) return order[i];
  }
  return order[kept - 1];
}

export async function generate(model: CausalLM, promptIds: number[], opts: GenerateOptions): Promise<number[]> {
  const cfg = model.config;
  const prefixLength = (opts.prefixEmbeds?.shape[0] ?? 0) + (opts.prefixKV?.[0]?.k.shape[2] ?? 0);
  if (promptIds.length + (opts.prefixEmbeds?.shape[0] ?? 0) === 0) {
    throw new StudioError('settings', 'Generation needs at least one prompt token.');
  }
  const room = cfg.maxPositions - prefixLength - promptIds.length;
  if (room <= 0) {
    throw new StudioError('settings', `The prompt (${promptIds.length} tokens with a ${prefixLength}-token prefix) fills the model's ${cfg.maxPositions} positions.`);
  }
  const maxNew = Math.min(opts.maxNewTokens, room);
  const temperature = opts.temperature ?? 0;
  const topP = opts.topP ?? 1;
  const rng = createRng(opts.seed ?? 0);
  const stopAtEos = opts.stopAtEos ?? true;
  const out: number[] = [];

  let cache: LayerKV[] | undefined = opts.prefixKV;
  const step = (ids: number[], withPrefixEmbeds: boolean): { logits: tf.Tensor1D; kv: LayerKV[] } =>
    tf.tidy(() => {
      let embeds = model.embed(tf.tensor2d(ids, [1, ids.length], 'int32')); // [1, T, d]
      if (withPrefixEmbeds && opts.prefixEmbeds) embeds = tf.concat([opts.prefixEmbeds.expandDims(0), embeds], 1);
      const { hidden, kv } = model.forward({ inputsEmbeds: embeds, past: cache, returnKV: true });
      const last = hidden.slice([0, hidden.shape[1] - 1, 0], [1, 1, cfg.hiddenSize]); // [1, 1, d]
      // tidy keeps what it returns; its types want plain containers, hence the casts.
      return { logits: model.logits(last).reshape([cfg.vocabSize]), kv: kv! } as unknown as tf.TensorContainer;
    }) as unknown as { logits: tf.Tensor1D; kv: LayerKV[] };

  try {
    let input = promptIds;
    for (let i = 0; i < maxNew; i++) {
      const result = step(input, i === 0);
      if (cache && cache !== opts.prefixKV) tf.dispose(cache.flatMap((c) => [c.k, c.v]));
      cache = result.kv;
      const logits = (await result.logits.data()) as Float32Array;
      result.logits.dispose();
      const next = sampleToken(logits, temperature, topP, () => rng.next());
      out.push(next);
      if (opts.onToken?.(next) === false) break;
      if (stopAtEos && cfg.eosTokenIds.includes(next)) break;
      input = [next];
    }
  } finally {
    if (cache && cache !== opts.prefixKV) tf.dispose(cache.flatMap((c) => [c.k, c.v]));
  }
  return out;
}
