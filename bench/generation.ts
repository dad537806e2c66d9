/**
 * Generation speed: greedy decoding with the KV cache (src/model/generate.ts, what the CLI
 * and the studio's "try it" run), split into prefill (one forward over the whole prompt)
 * and decode (one position at a time). Runs in Node and in the browser's worker alike (no
 * Node or DOM imports).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../src/model/config';
import { generate } from '../src/model/generate';
import type { CausalLM } from '../src/model/types';
import type { TextTokenizer } from '../src/tokenizer/tokenizer';
import type { GenerationOptions } from './grid';

export interface GenerationMeasurement {
  promptTokens: number;
  newTokens: number;
  repeats: number;
  /** Prefill of the warm-up run: on WebGPU it includes compiling the shaders of this shape. */
  firstPrefillMs: number;
  /** Median over the timed runs: prompt forward, logits of the last position, read-back, argmax. */
  prefillMs: number;
  prefillTokensPerSecond: number;
  /** Mean time per decoded token over every timed run (tokens 2..N; token 1 comes from prefill). */
  decodeMsPerToken: number;
  decodeTokensPerSecond: number;
  prefillFlopsPerSecond: number;
  decodeFlopsPerSecond: number;
  /** Live tensors before the warm-up run and after the last run: equal when nothing leaks. */
  tensorsBefore: number;
  tensorsAfter: number;
}

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog Max. '
  + 'One day, she saw a big red ball under a tree. She ran to the ball and kicked it high into the sky. Max barked and ran after it. ';

/** Exactly `length` token ids: [BOS] then a TinyStories-like text, repeated as needed. */
export function promptOfLength(tokenizer: TextTokenizer, length: number): number[] {
  let text = STORY;
  let ids = tokenizer.encode(text, { addBos: true });
  while (ids.length < length) {
    text += STORY;
    ids = tokenizer.encode(text, { addBos: true });
  }
  return ids.slice(0, length);
}

/** One forward position's products against a context of `context` keys (a multiply-add is 2 FLOPs). */
function perTokenFlops(cfg: ModelConfig, context: number): number {
  const d = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKeyValueHeads * cfg.headDim;
  const mlp = cfg.modelType === 'gpt2' ? 2 * d * cfg.intermediateSize : 3 * d * cfg.intermediateSize;
  const linear = 2 * (d * q + 2 * d * kv + q * d + mlp);
  const attention = 2 * 2 * cfg.numHeads * context * cfg.headDim; // q·kᵀ and p·v
  return cfg.numLayers * (linear + attention);
}

/**
 * FLOPs of a prefill over `prompt` tokens (full T×T attention, as the backend computes it
 * with a mask) and of decoding `newTokens` after it; the LM head runs on one position per step.
 */
export function generationFlops(cfg: ModelConfig, prompt: number, newTokens: number): { prefill: number; decode: number } {
  const head = 2 * cfg.hiddenSize * cfg.vocabSize;
  const prefill = prompt * perTokenFlops(cfg, prompt) + head;
  let decode = 0;
  for (let i = 1; i < newTokens; i++) decode += perTokenFlops(cfg, prompt + i) + head;
  return { prefill, decode };
}

async function timedRun(model: CausalLM, promptIds: number[], newTokens: number): Promise<{ prefillMs: number; decodeMs: number; tokens: number }> {
  const stamps: number[] = [];
  const started = performance.now();
  const out = await generate(model, promptIds, {
    maxNewTokens: newTokens, stopAtEos: false, onToken: () => void stamps.push(performance.now()),
  });
  return { prefillMs: stamps[0] - started, decodeMs: stamps[stamps.length - 1] - stamps[0], tokens: out.length };
}

export async function measureGeneration(
  model: CausalLM, tokenizer: TextTokenizer, options: GenerationOptions, log?: (s: string) => void,
): Promise<GenerationMeasurement[]> {
  const results: GenerationMeasurement[] = [];
  for (const promptTokens of options.promptTokens) {
    const newTokens = Math.min(options.newTokens, model.config.maxPositions - promptTokens);
    const promptIds = promptOfLength(tokenizer, promptTokens);
    const tensorsBefore = tf.memory().numTensors;
    // The warm-up run visits every shape the timed runs will (each decode step's context length).
    const warm = await timedRun(model, promptIds, newTokens);
    const prefills: number[] = [];
    let decodeMs = 0;
    let decoded = 0;
    for (let r = 0; r < options.repeats; r++) {
      const run = await timedRun(model, promptIds, newTokens);
      prefills.push(run.prefillMs);
      decodeMs += run.decodeMs;
      decoded += run.tokens - 1;
    }
    prefills.sort((a, b) => a - b);
    const prefillMs = prefills[Math.floor(prefills.length / 2)];
    const decodeMsPerToken = decodeMs / Math.max(1, decoded);
    const flops = generationFlops(model.config, promptTokens, newTokens);
    const m: GenerationMeasurement = {
      promptTokens, newTokens, repeats: options.repeats, firstPrefillMs: warm.prefillMs,
      prefillMs, prefillTokensPerSecond: promptTokens / (prefillMs / 1000),
      decodeMsPerToken, decodeTokensPerSecond: 1000 / decodeMsPerToken,
      prefillFlopsPerSecond: flops.prefill / (prefillMs / 1000),
      decodeFlopsPerSecond: flops.decode / (decodeMsPerToken * Math.max(1, newTokens - 1) / 1000),
      tensorsBefore, tensorsAfter: tf.memory().numTensors,
    };
    log?.(`generation prompt ${promptTokens}: prefill ${m.prefillTokensPerSecond.toFixed(0)} tokens/s (${prefillMs.toFixed(1)} ms), `
      + `decode ${m.decodeTokensPerSecond.toFixed(1)} tokens/s (${decodeMsPerToken.toFixed(2)} ms/token)`);
    results.push(m);
  }
  return results;
}
