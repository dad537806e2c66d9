import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random';
import { StudioError } from '../../src/errors';
import {
  namedMethodVariables, readCheckpoint, writeCheckpoint, type Checkpoint,
} from '../../src/tuning/checkpoint';
import { methodVariableNames } from '../../src/tuning/methods';
import { sha256Hex } from '../../src/formats/fingerprint';
import { modelFingerprint, type WeightsSummary } from '../../src/model/fingerprint';
import { parseSafetensors, writeSafetensors } from '../../src/formats/safetensors';
import { WeightStore } from '../../src/model/weights';
import { createOptimizer, DEFAULT_OPTIMIZER, type OptimizerState } from '../../src/tuning/optimizers';
import type { SoftPromptMethod } from '../../src/tuning/methods/types';
import { cpu, makeMethods, smallLlama, values } from '../formats/helpers';

const model = smallLlama();
let methods: Record<string, SoftPromptMethod>;

beforeAll(async () => {
  await cpu();
  methods = makeMethods(model);
});
afterAll(() => Object.values(methods).forEach((m) => m.dispose()));

function weightsOf(tensors: Record<string, { dtype: 'F32' | 'I8'; shape: number[]; data: Float32Array | Int8Array }>): WeightStore {
  return WeightStore.fromFiles([{ name: 'model.safetensors', bytes: writeSafetensors(tensors) }], null);
}

const baseWeights = () => ({
  'model.embed_tokens.weight': { dtype: 'F32' as const, shape: [512, 64], data: values(512 * 64, 11) },
  'model.norm.weight': { dtype: 'F32' as const, shape: [64], data: values(64, 12) },
});

/** One optimizer step on the method, so every slot holds something. */
async function steppedOptimizerState(method: SoftPromptMethod, kind: 'adamw' | 'adafactor'): Promise<OptimizerState> {
  const optimizer = createOptimizer(method.variables, DEFAULT_OPTIMIZER[kind]);
  const grads = method.variables.map((v, i) => tf.tensor(values(v.size, 100 + i), v.shape));
  const accept = tf.scalar(1);
  optimizer.apply(grads, 0.01, accept);
  const state = await optimizer.state();
  tf.dispose([...grads, accept]);
  optimizer.dispose();
  return state;
}

describe('fingerprint', () => {
  it('SHA-256 agrees with node:crypto across block boundaries', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
      expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('changes with the config, a tensor\'s name, dtype, shape or bytes, not with cosmetic config keys', () => {
    const base = modelFingerprint(model, weightsOf(baseWeights()), 'tiny');
    expect(base.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(base.label).toBe('tiny (llama, 5 layers, d=64, F32 weights)');
    expect(modelFingerprint(smallLlama({ _name_or_path: 'x', transformers_version: '4.0' }), weightsOf(baseWeights()), 'other name').sha256).toBe(base.sha256);

    const variants: WeightsSummary[] = [];
    const w1 = baseWeights();
    w1['model.embed_tokens.weight'].data = values(512 * 64, 11).map((x, i) => (i === 0 ? x + 1 : x));
    variants.push(weightsOf(w1));
    const w2 = baseWeights();
    w2['model.norm.weight'].data = values(64, 12).map((x, i) => (i === 63 ? x + 1e-3 : x));
    variants.push(weightsOf(w2));
    const { 'model.norm.weight': norm, ...rest } = baseWeights();
    variants.push(weightsOf({ ...rest, 'model.final_norm.weight': norm }));
    variants.push(weightsOf({ ...rest, 'model.norm.weight': { dtype: 'F32', shape: [1, 64], data: norm.data } }));
    variants.push(weightsOf({ ...rest, 'model.norm.weight': { dtype: 'I8', shape: [256], data: new Int8Array(norm.data.buffer) } }));
    const seen = new Set([base.sha256]);
    for (const w of variants) seen.add(modelFingerprint(model, w).sha256);
    seen.add(modelFingerprint(smallLlama({ rms_norm_eps: 1e-6 }), weightsOf(baseWeights())).sha256);
    expect(seen.size).toBe(variants.length + 2);
  });
});

describe('variable names', () => {
  it('are PyTorch\'s names for the same parameters, with PyTorch\'s shapes', async () => {
    const shapes = async (kind: string) => Object.fromEntries((await namedMethodVariables(methods[kind])).map((v) => [v.name, v.shape]));
    expect(await shapes('prompt')).toEqual({ 'embedding.weight': [4, 64] });
    expect(await shapes('ptuning-mlp')).toEqual({
      'embedding.weight': [4, 64],
      'mlp_head.0.weight': [16, 64], 'mlp_head.0.bias': [16],
      'mlp_head.2.weight': [16, 16], 'mlp_head.2.bias': [16],
      'mlp_head.4.weight': [64, 16], 'mlp_head.4.bias': [64],
    });
    expect(await shapes('ptuning-lstm')).toEqual({
      'embedding.weight': [4, 64],
      'lstm_head.weight_ih_l0': [32, 64], 'lstm_head.weight_hh_l0': [32, 8], 'lstm_head.bias_ih_l0': [32], 'lstm_head.bias_hh_l0': [32],
      'lstm_head.weight_ih_l0_reverse': [32, 64], 'lstm_head.weight_hh_l0_reverse': [32, 8], 'lstm_head.bias_ih_l0_reverse': [32], 'lstm_head.bias_hh_l0_reverse': [32],
      'lstm_head.weight_ih_l1': [32, 16], 'lstm_head.weight_hh_l1': [32, 8], 'lstm_head.bias_ih_l1': [32], 'lstm_head.bias_hh_l1': [32],
      'lstm_head.weight_ih_l1_reverse': [32, 16], 'lstm_head.weight_hh_l1_reverse': [32, 8], 'lstm_head.bias_ih_l1_reverse': [32], 'lstm_head.bias_hh_l1_reverse': [32],
      'mlp_head.0.weight': [16, 16], 'mlp_head.0.bias': [16],
      'mlp_head.2.weight': [64, 16], 'mlp_head.2.bias': [64],
    });
    expect(await shapes('prefix')).toEqual({
      'embedding.weight': [4, 64],
      'transform.0.weight': [12, 64], 'transform.0.bias': [12],
      'transform.2.weight': [320, 12], 'transform.2.bias': [320],
    });
    expect(await shapes('prefix-direct')).toEqual({ 'embedding.weight': [4, 320] });
    expect(await shapes('multitask')).toEqual({ 'embedding.weight': [4, 64], prefix_task_cols: [3, 4, 2], prefix_task_rows: [3, 2, 64] });
    expect(() => methodVariableNames('ptuning-mlp', 3)).toThrow('a ptuning-mlp method with 3 variables has no known layout');
  });
});

describe('checkpoint', () => {
  const fingerprint = () => modelFingerprint(model, weightsOf(baseWeights()), 'stories260K');

  async function checkpointOf(kind: string, optimizer: 'adamw' | 'adafactor'): Promise<Checkpoint> {
    const method = methods[kind];
    const rng = createRng(42);
    for (let i = 0; i < 17; i++) rng.next();
    return {
      method: method.kind,
      variables: await namedMethodVariables(method),
      optimizer: await steppedOptimizerState(method, optimizer),
      step: 37,
      rng: { sampler: rng.state(), samplerEpochStart: 0xffffffff },
      split: { train: [0, 2, 3, 5, 16_777_217], validation: [1, 4] },
      trainingConfig: { method: kind, learningRate: 0.3, steps: 300 },
      metrics: [{ step: 10, loss: 0.693, accuracy: 0.5 }, { step: 20, loss: 0.4, accuracy: null }],
      trainerState: { samplerCursor: 5, bestStep: 20 },
      fingerprint: fingerprint(),
      createdAt: '2025-03-04T05:06:07.000Z',
    };
  }

  it('round-trips every variable, optimizer slot, RNG state, split and setting', async () => {
    for (const [kind, opt] of [['ptuning-lstm', 'adafactor'], ['prefix', 'adamw'], ['multitask', 'adafactor'], ['prompt', 'adamw']] as const) {
      const c = await checkpointOf(kind, opt);
      const bytes = writeCheckpoint(c);
      // A whole ArrayBuffer of its own: transferable out of a worker as is.
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
      const back = readCheckpoint(bytes.buffer as ArrayBuffer, fingerprint());
      expect(back).toEqual(c);
      expect(back.optimizer.slots.length).toBeGreaterThan(0);
      expect(back.optimizer.slots.some((s) => s.data.some((x) => x !== 0))).toBe(true);
    }
  });

  it('restores the optimizer and the generator exactly', async () => {
    const c = readCheckpoint(writeCheckpoint(await checkpointOf('ptuning-mlp', 'adamw')));
    const optimizer = createOptimizer(methods['ptuning-mlp'].variables, DEFAULT_OPTIMIZER.adamw);
    optimizer.restore(c.optimizer);
    expect(await optimizer.state()).toEqual(c.optimizer);
    optimizer.dispose();
    const original = createRng(42);
    for (let i = 0; i < 17; i++) original.next();
    const resumed = createRng(0);
    resumed.setState(c.rng.sampler);
    expect(Array.from({ length: 5 }, () => resumed.nextUint32())).toEqual(Array.from({ length: 5 }, () => original.nextUint32()));
  });

  it('is a safetensors file any reader opens: named tensors and JSON metadata', async () => {
    const file = parseSafetensors(writeCheckpoint(await checkpointOf('prefix', 'adamw')));
    expect([...file.tensors.keys()].sort()).toEqual([
      'optimizer/m0', 'optimizer/m1', 'optimizer/m2', 'optimizer/m3', 'optimizer/m4',
      'optimizer/v0', 'optimizer/v1', 'optimizer/v2', 'optimizer/v3', 'optimizer/v4',
      'split/train', 'split/validation',
      'variable/embedding.weight', 'variable/transform.0.bias', 'variable/transform.0.weight', 'variable/transform.2.bias', 'variable/transform.2.weight',
    ]);
    expect(file.tensors.get('split/train')?.dtype).toBe('I32');
    expect(file.metadata.format).toBe('prompt-tuning-studio/checkpoint');
    expect(JSON.parse(file.metadata.training_config)).toEqual({ method: 'prefix', learningRate: 0.3, steps: 300 });
  });

  it('refuses a checkpoint of another model, naming both', async () => {
    const bytes = writeCheckpoint(await checkpointOf('prompt', 'adamw'));
    const other = { sha256: `0123456789ab${'0'.repeat(52)}`, label: 'stories15M (llama, 6 layers, d=288, F32 weights)' };
    let error: unknown;
    try {
      readCheckpoint(bytes, other);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('checkpoint');
    expect((error as StudioError).message).toBe(
      `This checkpoint was trained on the model stories260K (llama, 5 layers, d=64, F32 weights) [${fingerprint().sha256.slice(0, 12)}], `
      + 'but the loaded model is stories15M (llama, 6 layers, d=288, F32 weights) [0123456789ab].');
  });

  it('says so when the file is not a checkpoint or is damaged', async () => {
    const messageOf = (bytes: Uint8Array) => {
      try {
        readCheckpoint(bytes);
      } catch (e) {
        expect((e as StudioError).code).toBe('checkpoint');
        return (e as StudioError).message;
      }
      return 'no error';
    };
    expect(messageOf(writeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, { format: 'pt' })))
      .toBe('This file is not a Prompt Tuning Studio checkpoint.');
    const bytes = writeCheckpoint(await checkpointOf('prompt', 'adamw'));
    expect(messageOf(bytes.subarray(0, bytes.length - 10))).toMatch(/^The checkpoint: tensor ".*" has data_offsets \[\d+, \d+\] outside the \d+ data bytes; the file is truncated or corrupt\.$/);
    expect(messageOf(bytes.subarray(0, 4))).toBe('The checkpoint is truncated: it has 4 bytes, fewer than the 8-byte header length.');
  });
});
