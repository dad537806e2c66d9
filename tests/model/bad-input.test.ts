/**
 * Bad model input: each case fails the load with one clear StudioError (exact text below)
 * and leaves the model loaded before it in place and working.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { selectBackend, type BackendChoice } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { StudioEngine } from '../../src/engine/studio';
import { describeError, isStudioError } from '../../src/errors';
import { parseSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from '../../src/formats/safetensors';
import { checkpointDir, checkpointFiles, memorySource, type CheckpointName } from './checkpoints';

const text = (s: string) => new TextEncoder().encode(s);

/** A safetensors file from a raw header and data bytes, exactly as given. */
function rawSafetensors(header: object, dataBytes: number, headerLength?: number): Uint8Array {
  const json = text(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.byteLength), true);
  out.set(json, 8);
  return out;
}

/** The checkpoint's tensors as float32, changed by `edit`, written back as one model.safetensors. */
function editedWeights(name: CheckpointName, edit: (tensors: Record<string, TensorToWrite>) => void): Map<string, Uint8Array> {
  const files = checkpointFiles(name);
  const tensors: Record<string, TensorToWrite> = {};
  for (const f of [...files.keys()].filter((f) => f.endsWith('.safetensors'))) {
    for (const [n, e] of parseSafetensors(files.get(f)!).tensors) tensors[n] = { dtype: 'F32', shape: e.shape, data: toFloat32(e) };
    files.delete(f);
  }
  files.delete('model.safetensors.index.json');
  edit(tensors);
  files.set('model.safetensors', writeSafetensors(tensors, { format: 'pt' }));
  return files;
}

function withFile(name: CheckpointName, file: string, bytes: Uint8Array | null): Map<string, Uint8Array> {
  const files = checkpointFiles(name);
  if (bytes) files.set(file, bytes);
  else files.delete(file);
  return files;
}

function withConfig(name: CheckpointName, change: Record<string, unknown>): Map<string, Uint8Array> {
  const files = checkpointFiles(name);
  const config = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
  files.set('config.json', text(JSON.stringify({ ...config, ...change })));
  return files;
}

const HINT_AGAIN = 'Download or copy the file again.';
const HINT_MISMATCH = 'The weights and config.json come from different models.';

const CASES: { id: string; files: () => Map<string, Uint8Array>; error: string }[] = [
  {
    id: 'safetensors shorter than its 8-byte length field',
    files: () => withFile('llama', 'model.safetensors', new Uint8Array(5)),
    error: `model.safetensors is truncated: it has 5 bytes, fewer than the 8-byte header length. ${HINT_AGAIN}`,
  },
  {
    id: 'safetensors cut off inside its header',
    files: () => withFile('llama', 'model.safetensors', checkpointFiles('llama').get('model.safetensors')!.subarray(0, 200)),
    error: `model.safetensors is truncated or corrupt: its header claims 2008 bytes but only 192 follow. ${HINT_AGAIN}`,
  },
  {
    id: 'safetensors header length over the 100 MB limit',
    files: () => withFile('llama', 'model.safetensors', rawSafetensors({}, 100_000_100, 100_000_001)),
    error: 'model.safetensors has a 100000001-byte header, over the 100 MB limit.',
  },
  {
    id: 'safetensors cut off inside its tensor data',
    files: () => {
      const full = checkpointFiles('llama').get('model.safetensors')!;
      return withFile('llama', 'model.safetensors', full.subarray(0, full.byteLength - 1000));
    },
    error: 'model.safetensors: tensor "model.layers.1.self_attn.v_proj.weight" has data_offsets [55808, 57856] outside the 56984 data bytes; the file is truncated or corrupt. '
      + HINT_AGAIN,
  },
  {
    id: 'a tensor whose bytes do not match its shape',
    files: () => withFile('llama', 'model.safetensors',
      rawSafetensors({ 'model.embed_tokens.weight': { dtype: 'F32', shape: [64, 32], data_offsets: [0, 8000] } }, 8000)),
    error: 'model.safetensors: tensor "model.embed_tokens.weight" holds 8000 bytes but its shape [64, 32] of F32 needs 8192.',
  },
  {
    id: 'a missing tensor',
    files: () => editedWeights('llama', (t) => delete t['model.layers.1.mlp.down_proj.weight']),
    error: 'The checkpoint has no tensor "model.layers.1.mlp.down_proj.weight", which this architecture needs. '
      + 'The weights are incomplete or belong to another architecture.',
  },
  {
    id: 'a shard listed in the index that is not there',
    files: () => withFile('llama3-untied', 'model-00002-of-00002.safetensors', null),
    error: 'model-00002-of-00002.safetensors is not among the test files.',
  },
  {
    id: 'weights shaped unlike config.json (Llama MLP width)',
    files: () => withConfig('llama', { intermediate_size: 40 }),
    error: `The checkpoint's "model.layers.0.mlp.gate_proj.weight" has shape [32, 32], but config.json implies [40, 32]. ${HINT_MISMATCH}`,
  },
  {
    id: 'weights shaped unlike config.json (GPT-2 Conv1D, stored [in, out])',
    files: () => withConfig('gpt2', { n_inner: 64 }),
    error: `The checkpoint's "transformer.h.0.mlp.c_fc.weight" has shape [32, 32], but config.json implies [32, 64]. ${HINT_MISMATCH}`,
  },
  {
    id: 'a vocabulary larger in config.json than in the weights',
    files: () => withConfig('qwen2', { vocab_size: 100 }),
    error: `The checkpoint's "model.embed_tokens.weight" has shape [64, 32], but config.json implies [100, 32]. ${HINT_MISMATCH}`,
  },
  {
    id: 'no tokenizer.json',
    files: () => withFile('llama', 'tokenizer.json', null),
    error: 'No tokenizer.json in the test files. The studio needs the fast-tokenizer file tokenizer.json beside config.json.',
  },
  {
    id: 'tokenizer.json that is not JSON',
    files: () => withFile('llama', 'tokenizer.json', checkpointFiles('llama').get('tokenizer.json')!.subarray(0, 500)),
    error: 'tokenizer.json from the test files is not valid JSON. Check that the file is complete and is the right one.',
  },
  {
    id: 'tokenizer.json without a model section',
    files: () => withFile('llama', 'tokenizer.json', text('{"version": "1.0", "added_tokens": []}')),
    error: 'tokenizer.json from the test files has no "model" section; it is not a Hugging Face tokenizer file.',
  },
  {
    id: 'a tokenizer with more tokens than the model has rows',
    files: () => withFile('llama', 'tokenizer.json', checkpointFiles('gpt2').get('tokenizer.json')!),
    error: 'The tokenizer has 72 tokens but the model only 64. tokenizer.json and the weights come from different models.',
  },
  {
    id: 'an architecture the studio does not run',
    files: () => withConfig('llama', { model_type: 'mistral', architectures: ['MistralForCausalLM'] }),
    error: 'This model\'s architecture ("mistral") is not supported. The studio runs these model_type values: llama, qwen2, gpt2.',
  },
];

describe('bad model input: a clear error, and the model loaded before stays usable', () => {
  let engine: StudioEngine;
  let before: ModelSession;

  beforeAll(async () => {
    engine = new StudioEngine(() => {});
    await engine.init('cpu');
    await engine.loadModel(folderSource(checkpointDir('llama')));
    before = engine.session!;
  });

  for (const c of CASES) {
    it(c.id, async () => {
      let error: unknown = null;
      try {
        await engine.loadModel(memorySource(c.files()));
      } catch (e) {
        error = e;
      }
      expect(isStudioError(error)).toBe(true);
      expect(describeError(error)).toBe(c.error);
      expect(engine.session).toBe(before);
      const result = await engine.session!.generate('the dog', { maxNewTokens: 3, stopAtEos: false });
      expect(result.generatedIds).toHaveLength(3);
    });
  }
});

describe('a model too large for the WebGPU adapter', () => {
  let cpu: BackendChoice;
  beforeAll(async () => {
    cpu = await selectBackend('cpu');
  });

  const adapter = (maxStorageBufferBindingSize: number, maxBufferSize: number): BackendChoice => ({
    ...cpu,
    backend: 'webgpu',
    adapter: { vendor: 'test', architecture: '', description: 'a small test adapter', isFallbackAdapter: false, maxStorageBufferBindingSize, maxBufferSize },
  });

  it('names the tensor and the binding-size limit, before anything is uploaded', async () => {
    await expect(ModelSession.open(folderSource(checkpointDir('llama')), adapter(4096, 1 << 20))).rejects.toThrow(
      'The model is too large for this GPU: its tensor "model.embed_tokens.weight" ([64, 32], float32) needs 8.0 KiB, '
      + 'over the adapter\'s 4.0 KiB limit for one buffer (maxStorageBufferBindingSize); the whole model needs 56.6 KiB.');
  });

  it('names maxBufferSize when that is the smaller limit', async () => {
    await expect(ModelSession.open(folderSource(checkpointDir('gpt2')), adapter(1 << 20, 9216))).rejects.toThrow(
      'The model is too large for this GPU: its tensor "transformer.h.0.attn.c_attn.weight" ([32, 96], float32) needs 12.0 KiB, '
      + 'over the adapter\'s 9.0 KiB limit for one buffer (maxBufferSize); the whole model needs 62.8 KiB.');
  });

  it('counts int8 weights packed, as WebGPU keeps them: the same model quantized on load fits', async () => {
    const session = await ModelSession.open(folderSource(checkpointDir('gpt2')), adapter(1 << 20, 9216), undefined, { quantize: true });
    expect(session.pkg.config.quantization?.quant_method).toBe('studio_int8');
    session.dispose();
  });
});
