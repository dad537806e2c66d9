import { unzipSync, zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../src/errors';
import { readAdapterBundle, writeAdapterZip, type AdapterBundleInput, type StudioInfo } from '../../src/formats/bundle';
import { buildAdapterConfig, checkAdapterFits, serializeAdapterConfig, writeAdapterSafetensors } from '../../src/formats/peft';
import { methodExportsFor, P, smallLlama } from './helpers';

const model = smallLlama();
const exports = methodExportsFor(model);

const studio: StudioInfo = {
  method: 'ptuning-lstm',
  template: '{text}\nLabel:',
  verbalizer: { ham: ' ham', spam: ' spam' },
  labels: ['ham', 'spam'],
  metrics: { accuracy: 0.875, history: [{ step: 10, loss: 1.25 }] },
  trainingConfig: { method: 'ptuning-lstm', steps: 30, learningRate: 0.1 },
  modelFingerprint: { sha256: 'ab'.repeat(32), label: 'stories260K (llama, 5 layers, d=64, F32 weights)' },
  createdAt: '2025-03-04T05:06:07.000Z',
};

const input = (kind: string): AdapterBundleInput => ({
  exported: exports[kind],
  common: { baseModel: 'stories260K', model, numVirtualTokens: P, init: { kind: 'labels' } },
  studio: { ...studio, method: kind === 'prefix' ? 'prefix' : studio.method },
});

function studioError(fn: () => unknown): StudioError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StudioError);
    return e as StudioError;
  }
  throw new Error('no error was raised');
}

describe('the adapter zip', () => {
  it('holds the PEFT files, studio.json and README.md, and reads back to the same tensors, config and studio.json', () => {
    for (const kind of ['ptuning-lstm', 'prefix', 'multitask']) {
      const zip = writeAdapterZip(input(kind));
      expect(Object.keys(unzipSync(zip)).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'studio.json']);
      const bundle = readAdapterBundle(zip);
      expect(bundle.adapter.config).toEqual(buildAdapterConfig(exports[kind], input(kind).common));
      const checked = checkAdapterFits(bundle.adapter, model);
      expect(checked.tensors).toEqual(exports[kind].tensors);
      expect(bundle.studio).toEqual({ format: 'prompt-tuning-studio/adapter', version: 1, baseModel: 'stories260K', ...input(kind).studio });
      expect(bundle.readme).toContain('PeftModel.from_pretrained(model, adapter)');
      expect(bundle.checkpoint).toBe(null);
    }
  });

  it('writes the same bytes for the same export', () => {
    expect(writeAdapterZip(input('prefix'))).toEqual(writeAdapterZip(input('prefix')));
  });

  it('carries a checkpoint when given one', () => {
    const checkpoint = new Uint8Array([1, 2, 3]);
    expect(readAdapterBundle(writeAdapterZip({ ...input('prefix'), checkpoint })).checkpoint).toEqual(checkpoint);
  });

  it('reads a plain PEFT folder (no studio.json), also nested in a zip', () => {
    const files = {
      'adapter_config.json': strToU8(serializeAdapterConfig(buildAdapterConfig(exports.prompt, input('prompt').common))),
      'adapter_model.safetensors': writeAdapterSafetensors(exports.prompt),
    };
    const folder = readAdapterBundle(new Map(Object.entries(files)));
    expect(folder.studio).toBe(null);
    expect(folder.readme).toBe(null);
    expect(folder.adapter.tensors.prompt_embeddings).toEqual(exports.prompt.tensors.prompt_embeddings);
    const nested = zipSync({ 'my-adapter': files, '__MACOSX/my-adapter/._adapter_config.json': new Uint8Array(3) });
    expect(readAdapterBundle(nested).adapter.config).toEqual(folder.adapter.config);
    const dropped = new Map(Object.entries(files).map(([k, v]) => [`my-adapter/${k}`, v]));
    expect(readAdapterBundle(dropped).adapter.tensors).toEqual(folder.adapter.tensors);
  });

  it('says plainly when the zip is damaged or is not a zip', () => {
    const zip = writeAdapterZip(input('prompt'));
    // A flipped bit inside the (stored, uncompressed) weights is caught by the CRC.
    const start = new TextDecoder('latin1').decode(zip).indexOf('adapter_model.safetensors') + 'adapter_model.safetensors'.length;
    const headerLength = zip[start] | (zip[start + 1] << 8);
    const flipped = zip.slice();
    flipped[start + 8 + headerLength + 5] ^= 0x10;
    expect(unzipSync(flipped)['adapter_model.safetensors']).not.toEqual(unzipSync(zip)['adapter_model.safetensors']);
    for (const bad of [zip.subarray(0, zip.length - 30), zip.subarray(0, 100), flipped]) {
      const e = studioError(() => readAdapterBundle(bad));
      expect(e.code).toBe('adapter');
      expect(e.message).toBe('The adapter file is not a readable zip archive: it is damaged or incomplete.');
    }
    const e = studioError(() => readAdapterBundle(strToU8('{"peft_type": "PROMPT_TUNING"}')));
    expect(e.code).toBe('adapter');
    expect(e.message).toBe('The adapter file is not a zip archive.');
  });

  it('refuses a studio.json that is not ours, and two adapters in one archive', () => {
    const files = unzipSync(writeAdapterZip(input('prompt')));
    const foreign = zipSync({ ...files, 'studio.json': strToU8('{"hello": 1}') });
    expect(studioError(() => readAdapterBundle(foreign)).message).toBe('studio.json is not a Prompt Tuning Studio file.');
    const two = zipSync({ a: files, b: files });
    expect(studioError(() => readAdapterBundle(two)).message).toBe('There are several adapters here (a/, b/).');
  });
});
