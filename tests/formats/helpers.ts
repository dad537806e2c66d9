import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import { parseModelConfig, type ModelConfig } from '../../src/model/config';
import { MultitaskPromptTuning } from '../../src/tuning/methods/multitask';
import { PrefixTuning } from '../../src/tuning/methods/prefix';
import { PromptTuning } from '../../src/tuning/methods/prompt';
import { PTuning } from '../../src/tuning/methods/ptuning';
import type { PeftExport, SoftPromptMethod } from '../../src/tuning/methods/types';

/** stories260K's shape: grouped-query attention (8 heads sharing 4 key/value heads). */
export function smallLlama(overrides: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig({
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    hidden_size: 64,
    num_hidden_layers: 5,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    intermediate_size: 172,
    vocab_size: 512,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-5,
    ...overrides,
  });
}

export async function cpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export function values(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  return out;
}

export const P = 4;

/** One real method of each kind, on the given model. */
export function makeMethods(model: ModelConfig): Record<string, SoftPromptMethod> {
  const d = model.hiddenSize;
  return {
    prompt: new PromptTuning(values(P * d, 1), P, d),
    'ptuning-mlp': new PTuning(values(P * d, 2), { numVirtualTokens: P, encoder: 'MLP', encoderHiddenSize: 16, encoderNumLayers: 2, seed: 3 }, d),
    'ptuning-lstm': new PTuning(values(P * d, 4), { numVirtualTokens: P, encoder: 'LSTM', encoderHiddenSize: 8, encoderNumLayers: 2, seed: 5 }, d),
    prefix: new PrefixTuning(values(P * d, 6), { numVirtualTokens: P, prefixProjection: true, encoderHiddenSize: 12, seed: 7 }, model),
    'prefix-direct': new PrefixTuning(new Float32Array(0), { numVirtualTokens: P, prefixProjection: false, encoderHiddenSize: 12, seed: 8 }, model),
    multitask: new MultitaskPromptTuning(values(P * d, 9), { numVirtualTokens: P, numTasks: 3, numRanks: 2, seed: 10 }, d),
  };
}

/**
 * Every method on `model` (cpu backend) and its PEFT export, made before the file's tests and
 * disposed after them. The returned record fills in beforeAll.
 */
export function methodExportsFor(model: ModelConfig): Record<string, PeftExport> {
  const exports: Record<string, PeftExport> = {};
  let methods: Record<string, SoftPromptMethod> = {};
  beforeAll(async () => {
    await cpu();
    methods = makeMethods(model);
    for (const [k, m] of Object.entries(methods)) exports[k] = await m.exportPeft();
  });
  afterAll(() => Object.values(methods).forEach((m) => m.dispose()));
  return exports;
}
