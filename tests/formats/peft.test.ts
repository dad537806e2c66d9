import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../src/errors';
import {
  buildAdapterConfig, checkAdapterFits, pyFloatRepr, readPeftAdapter, serializeAdapterConfig, writeAdapterSafetensors,
  writeModelCard, type AdapterCommon, type PeftAdapter,
} from '../../src/formats/peft';
import { writeSafetensors } from '../../src/formats/safetensors';
import { methodFromPeft } from '../../src/tuning/methods';
import { methodExportsFor, P, smallLlama, values } from './helpers';

const model = smallLlama();
const exports = methodExportsFor(model);

const common = (init: AdapterCommon['init'] = { kind: 'labels' }): AdapterCommon => ({
  baseModel: 'stories260K', model, numVirtualTokens: P, init,
});

/** Reads a safetensors file from scratch, trusting nothing of src/formats. */
function independentRead(file: Uint8Array) {
  let n = 0;
  for (let i = 7; i >= 0; i--) n = n * 256 + file[i];
  const headerText = new TextDecoder().decode(file.subarray(8, 8 + n));
  const header = JSON.parse(headerText) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  const dataStart = 8 + n;
  const { __metadata__: metadata, ...entries } = header;
  const ordered = Object.entries(entries).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let expectedBegin = 0;
  const tensors: Record<string, { shape: number[]; values: number[] }> = {};
  for (const [name, info] of ordered) {
    expect(info.dtype).toBe('F32');
    expect(info.data_offsets[0]).toBe(expectedBegin);
    const count = info.shape.reduce((a, b) => a * b, 1);
    expect(info.data_offsets[1] - info.data_offsets[0]).toBe(count * 4);
    expectedBegin = info.data_offsets[1];
    const vals: number[] = [];
    for (let i = 0; i < count; i++) {
      // Little-endian float32, decoded by hand from its sign, exponent and fraction bits.
      const at = dataStart + info.data_offsets[0] + 4 * i;
      const bits = (file[at] | (file[at + 1] << 8) | (file[at + 2] << 16) | (file[at + 3] << 24)) >>> 0;
      const sign = bits >>> 31 ? -1 : 1;
      const exp = (bits >>> 23) & 0xff;
      const frac = bits & 0x7fffff;
      vals.push(exp === 0 ? sign * frac * 2 ** -149 : sign * (1 + frac / 2 ** 23) * 2 ** (exp - 127));
    }
    tensors[name] = { shape: info.shape, values: vals };
  }
  return { n, headerText, metadata, tensors, end: dataStart + expectedBegin, names: ordered.map(([name]) => name) };
}

describe('adapter_model.safetensors', () => {
  for (const kind of ['prompt', 'ptuning-mlp', 'ptuning-lstm', 'prefix', 'multitask']) {
    it(`${kind}: F32 little-endian, contiguous, {"format":"pt"}, 8-byte aligned header`, () => {
      const exported = exports[kind];
      const file = writeAdapterSafetensors(exported);
      const read = independentRead(file);
      expect(read.n % 8).toBe(0);
      expect(read.headerText).toMatch(/^\{.*\} *$/);
      expect(read.metadata).toEqual({ format: 'pt' });
      expect(read.end).toBe(file.byteLength);
      expect(read.names).toEqual(Object.keys(exported.tensors).sort());
      for (const [name, t] of Object.entries(exported.tensors)) {
        expect(read.tensors[name].shape).toEqual(t.shape);
        expect(read.tensors[name].values).toEqual(Array.from(t.data));
      }
    });
  }

  it('holds what PEFT saves for each method, in inference form', () => {
    const d = model.hiddenSize;
    const kv = model.numKeyValueHeads * model.headDim;
    expect(exports.prompt.tensors.prompt_embeddings.shape).toEqual([P, d]);
    expect(exports['ptuning-mlp'].tensors.prompt_embeddings.shape).toEqual([P, d]);
    expect(exports['ptuning-lstm'].tensors.prompt_embeddings.shape).toEqual([P, d]);
    expect(exports.prefix.tensors.prompt_embeddings.shape).toEqual([P, model.numLayers * 2 * kv]);
    expect(Object.keys(exports.multitask.tensors).sort()).toEqual(['prefix_task_cols', 'prefix_task_rows', 'prompt_embeddings']);
    expect(exports.multitask.tensors.prefix_task_cols.shape).toEqual([3, P, 2]);
    expect(exports.multitask.tensors.prefix_task_rows.shape).toEqual([3, 2, d]);
  });
});

describe('adapter_config.json', () => {
  // Field lists of PEFT 0.20's dataclasses, as dataclasses.asdict writes them:
  // PeftConfigMixin + PeftConfig + PromptLearningConfig, then each method's own class.
  const base = [
    'task_type', 'peft_type', 'auto_mapping', 'peft_version',
    'base_model_name_or_path', 'revision', 'inference_mode',
    'num_virtual_tokens', 'token_dim', 'num_transformer_submodules', 'num_attention_heads', 'num_layers', 'modules_to_save',
  ];
  const promptTuning = [...base, 'prompt_tuning_init', 'prompt_tuning_init_text', 'tokenizer_name_or_path', 'tokenizer_kwargs'];
  const expectedKeys: Record<string, string[]> = {
    prompt: promptTuning,
    'ptuning-mlp': [...base, 'encoder_reparameterization_type', 'encoder_hidden_size', 'encoder_num_layers', 'encoder_dropout'],
    'ptuning-lstm': [...base, 'encoder_reparameterization_type', 'encoder_hidden_size', 'encoder_num_layers', 'encoder_dropout'],
    prefix: [...base, 'init_weights', 'encoder_hidden_size', 'prefix_projection'],
    multitask: [...promptTuning, 'prompt_tuning_init_state_dict_path', 'prompt_tuning_init_task', 'num_ranks', 'num_tasks'],
  };

  for (const [kind, keys] of Object.entries(expectedKeys)) {
    it(`${kind}: exactly the fields of PEFT's config class, sorted, indent 2, no trailing newline`, () => {
      const text = serializeAdapterConfig(buildAdapterConfig(exports[kind], common()));
      const parsed = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(parsed).sort()).toEqual([...keys].sort());
      expect(Object.keys(parsed)).toEqual(Object.keys(parsed).sort());
      expect(text.startsWith('{\n  "auto_mapping": null,\n')).toBe(true);
      expect(text.endsWith('\n}')).toBe(true);
      expect(parsed).toMatchObject({ task_type: 'CAUSAL_LM', inference_mode: true, num_transformer_submodules: 1, auto_mapping: null, num_layers: 5 });
    });
  }

  it('prompt tuning, byte for byte', () => {
    const text = serializeAdapterConfig(buildAdapterConfig(exports.prompt, common({ kind: 'text', text: 'Is it spam?' })));
    expect(text).toBe([
      '{',
      '  "auto_mapping": null,',
      '  "base_model_name_or_path": "stories260K",',
      '  "inference_mode": true,',
      '  "modules_to_save": null,',
      '  "num_attention_heads": 8,',
      '  "num_layers": 5,',
      '  "num_transformer_submodules": 1,',
      '  "num_virtual_tokens": 4,',
      '  "peft_type": "PROMPT_TUNING",',
      '  "peft_version": null,',
      '  "prompt_tuning_init": "TEXT",',
      '  "prompt_tuning_init_text": "Is it spam?",',
      '  "revision": null,',
      '  "task_type": "CAUSAL_LM",',
      '  "token_dim": 64,',
      '  "tokenizer_kwargs": null,',
      '  "tokenizer_name_or_path": "stories260K"',
      '}',
    ].join('\n'));
  });

  it('P-tuning writes encoder_dropout as the float 0.0, as Python does', () => {
    const text = serializeAdapterConfig(buildAdapterConfig(exports['ptuning-lstm'], common()));
    expect(text).toContain('\n  "encoder_dropout": 0.0,\n');
    expect(text).toContain('\n  "encoder_reparameterization_type": "LSTM",\n');
    expect(text).toContain('\n  "encoder_num_layers": 2,\n');
    expect(text).toContain('\n  "encoder_hidden_size": 8,\n');
  });

  it('prefix tuning on a grouped-query model: token_dim = head_dim × key/value heads, num_attention_heads = key/value heads', () => {
    const config = buildAdapterConfig(exports.prefix, common());
    expect(config).toMatchObject({ token_dim: 32, num_attention_heads: 4, prefix_projection: true, encoder_hidden_size: 12, init_weights: null });
  });

  it('maps our inits onto PEFT\'s enums', () => {
    const init = (kind: 'random' | 'vocab' | 'text' | 'labels', exported = exports.prompt) =>
      buildAdapterConfig(exported, common(kind === 'text' ? { kind, text: 'x' } : { kind })).prompt_tuning_init;
    // What PEFT could reproduce: TEXT with the same text; our label and vocabulary inits have no PEFT counterpart.
    expect([init('text'), init('vocab'), init('labels'), init('random')]).toEqual(['TEXT', 'RANDOM', 'RANDOM', 'RANDOM']);
    // MultitaskPromptTuningInit has no SAMPLE_VOCAB.
    expect([init('text', exports.multitask), init('labels', exports.multitask)]).toEqual(['TEXT', 'RANDOM']);
    expect(buildAdapterConfig(exports.prompt, common()).prompt_tuning_init_text).toBe(null);
  });

  it('multitask: num_tasks, num_ranks, and peft_version null as PEFT itself leaves it', () => {
    const config = buildAdapterConfig(exports.multitask, { ...common(), peftVersion: '0.20.0' });
    expect(config).toMatchObject({ num_tasks: 3, num_ranks: 2, prompt_tuning_init_task: 0, prompt_tuning_init_state_dict_path: null, peft_version: null });
    expect(buildAdapterConfig(exports.prompt, { ...common(), peftVersion: '0.20.0' }).peft_version).toBe('0.20.0');
  });

  it('escapes like Python\'s json (ensure_ascii) and writes floats with repr', () => {
    const text = serializeAdapterConfig({ b: 'é "q" \\ \n\t\u007f 😀', a: [1, 0.5, 1e-5, 1e16], c: {}, d: [], e: { z: 1, y: null } });
    expect(text).toBe([
      '{',
      '  "a": [',
      '    1,',
      '    0.5,',
      '    1e-05,',
      '    10000000000000000',
      '  ],',
      '  "b": "\\u00e9 \\"q\\" \\\\ \\n\\t\\u007f \\ud83d\\ude00",',
      '  "c": {},',
      '  "d": [],',
      '  "e": {',
      '    "y": null,',
      '    "z": 1',
      '  }',
      '}',
    ].join('\n'));
    expect([0, 1e16, 1e15, 1e-4, 1.5e-7, -2.5, 0.1 + 0.2].map(pyFloatRepr))
      .toEqual(['0.0', '1e+16', '1000000000000000.0', '0.0001', '1.5e-07', '-2.5', '0.30000000000000004']);
  });

  const python = spawnSync('python3', ['-c', 'print(1)']).status === 0;
  it.skipIf(!python)('is exactly what Python\'s json.dumps(indent=2, sort_keys=True) writes for the same values', () => {
    const dump = 'import json,sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.read()), indent=2, sort_keys=True))';
    const configs = Object.keys(exports).filter((k) => k !== 'prefix-direct')
      .map((k) => buildAdapterConfig(exports[k], { ...common({ kind: 'text', text: 'Ünïcode ✓ 😀 "quoted"\n' }), revision: 'main' }));
    configs.push({ weird: [0.1, 1e-7, 1e22, 3.0], nested: { list: [{}, []], emptyText: '' }, encoder_dropout: 0.25 });
    for (const config of configs) {
      const ours = serializeAdapterConfig(config);
      const theirs = spawnSync('python3', ['-c', dump], { input: ours, encoding: 'utf8' });
      expect(theirs.status).toBe(0);
      expect(ours).toBe(theirs.stdout);
    }
  });
});

describe('reading an adapter', () => {
  const configText = (fields: Record<string, unknown>) => new TextEncoder().encode(JSON.stringify({
    peft_type: 'PROMPT_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: 2, token_dim: 64, num_layers: 5,
    num_attention_heads: 8, num_transformer_submodules: 1, ...fields,
  }));

  function f32ToF16(x: number): number {
    // Exact for the values used below (small dyadic rationals).
    const f = new Float32Array([x]);
    const u = new Uint32Array(f.buffer)[0];
    const sign = (u >>> 16) & 0x8000;
    const exp = ((u >>> 23) & 0xff) - 127 + 15;
    const frac = (u >>> 13) & 0x3ff;
    return x === 0 ? sign : sign | (exp << 10) | frac;
  }

  it('widens F16 and BF16 tensors (hand-made bytes) to float32', () => {
    const expected = [1, -2, 0.5, 0.375, 3.25, -0.125];
    const tensor = (n: number) => Array.from({ length: 128 }, (_, i) => expected[i % expected.length] * (n + 1));
    const f16 = Uint16Array.from(tensor(0), f32ToF16);
    const bf16 = Uint16Array.from(tensor(1), (x) => new Uint32Array(new Float32Array([x]).buffer)[0] >>> 16);
    for (const [dtype, data, want] of [['F16', f16, tensor(0)], ['BF16', bf16, tensor(1)]] as const) {
      const weights = writeSafetensors({ prompt_embeddings: { dtype, shape: [2, 64], data } });
      const adapter = readPeftAdapter(new Map([['adapter_config.json', configText({})], ['adapter_model.safetensors', weights]]));
      expect(adapter.peftType).toBe('PROMPT_TUNING');
      expect(adapter.tensors.prompt_embeddings.shape).toEqual([2, 64]);
      expect(Array.from(adapter.tensors.prompt_embeddings.data)).toEqual(want);
      const checked = checkAdapterFits(adapter, model);
      const method = methodFromPeft(checked, model);
      expect(method.numVirtualTokens).toBe(2);
      method.dispose();
    }
  });

  it('reads back what it writes for every method, and the imported method gives the same prompt', async () => {
    for (const kind of ['prompt', 'ptuning-mlp', 'ptuning-lstm', 'prefix', 'prefix-direct', 'multitask']) {
      const exported = exports[kind];
      const config = buildAdapterConfig(exported, common());
      const adapter = readPeftAdapter(new Map([
        ['adapter_config.json', new TextEncoder().encode(serializeAdapterConfig(config))],
        ['adapter_model.safetensors', writeAdapterSafetensors(exported)],
      ]));
      expect(adapter.config).toEqual(config);
      const checked = checkAdapterFits(adapter, model);
      expect(checked.peftType).toBe(exported.peftType);
      for (const [name, t] of Object.entries(exported.tensors)) expect(checked.tensors[name]).toEqual(t);
      const again = methodFromPeft(checked, model);
      expect((await again.exportPeft()).tensors).toEqual(exported.tensors);
      again.dispose();
    }
  });

  const errorOf = (fn: () => unknown): StudioError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(StudioError);
      return e as StudioError;
    }
    throw new Error('no error was raised');
  };
  const adapterWith = (config: Record<string, unknown>, tensors: PeftAdapter['tensors'] = { prompt_embeddings: { shape: [2, 64], data: values(128) } }): PeftAdapter => ({
    peftType: String(config.peft_type ?? 'PROMPT_TUNING'),
    config: { peft_type: 'PROMPT_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: 2, token_dim: 64, num_layers: 5, num_attention_heads: 8, ...config },
    tensors,
  });

  it('names both values when the adapter does not fit the model', () => {
    const cases: [PeftAdapter, string][] = [
      [adapterWith({ token_dim: 768 }, { prompt_embeddings: { shape: [2, 768], data: values(1536) } }),
        'The adapter\'s token_dim is 768, but this model\'s embeddings have 64 dimensions (hidden_size).'],
      [adapterWith({ num_layers: 12 }), 'The adapter was made for a model with 12 layers (num_layers), but this model has 5.'],
      [adapterWith({ peft_type: 'PREFIX_TUNING', token_dim: 32, num_attention_heads: 8 }, { prompt_embeddings: { shape: [2, 320], data: values(640) } }),
        'The prefix adapter has 8 attention heads (num_attention_heads), but this model has 4 key/value heads.'],
      [adapterWith({ peft_type: 'PREFIX_TUNING', token_dim: 64, num_attention_heads: 8 }, { prompt_embeddings: { shape: [2, 640], data: values(1280) } }),
        'The adapter\'s token_dim is 64, but this model\'s keys and values have 32 dimensions per layer (4 key/value heads × head_dim 8).'],
      [adapterWith({ peft_type: 'LORA' }),
        'This is a LORA adapter; the studio loads prompt-learning adapters only: PROMPT_TUNING, P_TUNING, PREFIX_TUNING, MULTITASK_PROMPT_TUNING.'],
      [adapterWith({ task_type: 'SEQ_CLS' }),
        'The adapter\'s task_type is "SEQ_CLS", but the studio runs causal language models only (task_type "CAUSAL_LM").'],
      [adapterWith({ task_type: null }),
        'The adapter\'s task_type is null, but the studio runs causal language models only (task_type "CAUSAL_LM").'],
      [adapterWith({}, { 'base_model.model.embed.weight': { shape: [2, 64], data: values(128) } }),
        'The PROMPT_TUNING adapter has no "prompt_embeddings" tensor.'],
      [adapterWith({ num_virtual_tokens: 3 }),
        'The adapter\'s "prompt_embeddings" has shape [2, 64], but its adapter_config.json implies [3, 64].'],
      [adapterWith({ peft_type: 'MULTITASK_PROMPT_TUNING', num_tasks: 2, num_ranks: 1 }, {
        prompt_embeddings: { shape: [2, 64], data: values(128) },
        prefix_task_cols: { shape: [2, 2, 1], data: values(4) },
        prefix_task_rows: { shape: [2, 2, 64], data: values(256) },
      }), 'The adapter\'s "prefix_task_rows" has shape [2, 2, 64], but its adapter_config.json implies [2, 1, 64].'],
    ];
    for (const [adapter, message] of cases) {
      const e = errorOf(() => checkAdapterFits(adapter, model));
      expect(e.code).toBe('adapter');
      expect(e.message).toBe(message);
    }
  });

  it('takes fields PEFT would fill from the model (null token_dim, num_layers) from the model', () => {
    const checked = checkAdapterFits(adapterWith({ token_dim: null, num_layers: null, num_virtual_tokens: null }), model);
    expect(checked.tensors.prompt_embeddings.shape).toEqual([2, 64]);
  });

  it('says what is missing from an adapter folder', () => {
    const cfg = configText({});
    const cases: [Map<string, Uint8Array>, string][] = [
      [new Map([['adapter_model.safetensors', new Uint8Array(16)]]), 'The adapter has no adapter_config.json.'],
      [new Map([['adapter_config.json', cfg]]), 'The adapter has no adapter_model.safetensors.'],
      [new Map([['adapter_config.json', cfg], ['adapter_model.bin', new Uint8Array(4)]]),
        'The adapter\'s weights are in adapter_model.bin (a PyTorch pickle), which the studio does not read.'],
      [new Map([['adapter_config.json', new TextEncoder().encode('{"peft_type": ')]]), 'adapter_config.json is not valid JSON.'],
      [new Map([['adapter_config.json', new TextEncoder().encode('{}')]]), 'adapter_config.json has no "peft_type".'],
      [new Map([['adapter_config.json', cfg], ['adapter_model.safetensors', new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0x7b])]]),
        'adapter_model.safetensors has an empty header.'],
      [new Map([['adapter_config.json', cfg], ['adapter_model.safetensors', new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0])]]),
        'adapter_model.safetensors is not a safetensors file: it does not start with a safetensors header.'],
      [new Map([['adapter_config.json', cfg], ['adapter_model.safetensors', writeSafetensors({ prompt_embeddings: { dtype: 'I32', shape: [2], data: new Int32Array(2) } })]]),
        'adapter_model.safetensors: tensor "prompt_embeddings" is I32; adapter tensors must be floating point (F32, F16 or BF16).'],
    ];
    for (const [files, message] of cases) {
      const e = errorOf(() => readPeftAdapter(files));
      expect(e.code).toBe('adapter');
      expect(e.message).toBe(message);
    }
  });
});

describe('README.md', () => {
  it('shows how to load and use the adapter in Python, with the template, verbalizer, metrics and settings', () => {
    const card = writeModelCard({
      adapterConfig: buildAdapterConfig(exports.prompt, common()),
      template: '{text}\nLabel:',
      verbalizer: { ham: ' ham', spam: ' spam' },
      labels: ['ham', 'spam'],
      metrics: { accuracy: 0.9375, macroF1: 0.93 },
      trainingConfig: { method: 'prompt', steps: 300 },
    });
    expect(card).toMatch(/^---\nbase_model: "stories260K"\nlibrary_name: peft\n/);
    for (const line of [
      'model = AutoModelForCausalLM.from_pretrained(base)',
      'model = PeftModel.from_pretrained(model, adapter)',
      'template = "{text}\\nLabel:"',
      'verbalizer = {"ham": " ham", "spam": " spam"}',
      'output = model.generate(**inputs, max_new_tokens=8)',
      '| accuracy | 0.9375 |',
      '  "steps": 300',
    ]) expect(card).toContain(line);
    const multitask = writeModelCard({
      adapterConfig: buildAdapterConfig(exports.multitask, common()), template: '{text}', verbalizer: { a: ' a' }, labels: ['a'],
      tasks: ['sms', 'news', 'x'], metrics: [], trainingConfig: {},
    });
    expect(multitask).toContain('task_ids=torch.tensor([task])');
    expect(multitask).toContain('0 = `sms`, 1 = `news`, 2 = `x`');
  });

  it('says where Python finds the base model: the folder the studio downloads, or the hub id', () => {
    const info = { template: '{text}\nLabel:', verbalizer: { ham: ' ham', spam: ' spam' }, labels: ['ham', 'spam'], metrics: {}, trainingConfig: {} };
    const folder = writeModelCard({ ...info, adapterConfig: buildAdapterConfig(exports.prompt, common()) });
    for (const line of [
      '`stories260K/config.json` sits beside this README. Then run this in this folder:',
      'base = "stories260K"  # the base model\'s folder (Export → "Download base model"), here',
      'adapter = "."  # this folder: adapter_config.json and adapter_model.safetensors',
      'tokenizer = AutoTokenizer.from_pretrained(base)',
      'model = AutoModelForCausalLM.from_pretrained(base)',
      'model = PeftModel.from_pretrained(model, adapter)',
    ]) expect(folder).toContain(line);
    const hub = writeModelCard({ ...info, adapterConfig: buildAdapterConfig(exports.prompt, { ...common(), baseModel: 'HuggingFaceTB/SmolLM2-135M' }) });
    expect(hub).toContain('base = "HuggingFaceTB/SmolLM2-135M"  # the base model, from the Hugging Face hub');
    expect(hub).toContain('The base model is `HuggingFaceTB/SmolLM2-135M` on the Hugging Face hub');
    expect(hub).not.toContain('Download base model');
  });

  it('names the step each score was measured at', () => {
    const card = writeModelCard({
      adapterConfig: buildAdapterConfig(exports.prompt, common()), template: '{text}', verbalizer: { ham: ' ham', spam: ' spam' }, labels: ['ham', 'spam'],
      metrics: {
        step: 77, examples: 60, validation_accuracy: 0.9, validation_macro_f1: 0.85, validation_loss: 0.25, validation_step: 50,
        majority_accuracy: 0.6, majority_macro_f1: 0.375, 'zero-shot_accuracy': 0.6, 'zero-shot_macro_f1': 0.375, 'zero-shot_loss': 6.2, 'zero-shot_step': 0,
        note: 'kept',
      },
      trainingConfig: {},
    });
    for (const line of [
      'Trained 77 steps. Each score is on the same 60 validation examples, measured at the step given.',
      '| prompt | accuracy | macro-F1 | loss | measured at step |',
      '| the soft prompt | 0.9000 | 0.8500 | 0.2500 | 50 |',
      '| majority class (always the most frequent label) | 0.6000 | 0.3750 | – | any (labels only) |',
      '| zero-shot (the model, no prompt) | 0.6000 | 0.3750 | 6.2000 | 0 |',
      '| note | kept |',
    ]) expect(card).toContain(line);
    // With greedy decoding's share (files from before it have none, and keep the table above).
    const withWrites = writeModelCard({
      adapterConfig: buildAdapterConfig(exports.prompt, common()), template: '{text}', verbalizer: { ham: ' ham', spam: ' spam' }, labels: ['ham', 'spam'],
      metrics: { step: 77, examples: 60, validation_accuracy: 0.9, validation_macro_f1: 0.85, validation_generation_accuracy: 0.8, validation_loss: 0.25, validation_step: 50, majority_accuracy: 0.6, majority_macro_f1: 0.375 },
      trainingConfig: {},
    });
    for (const line of [
      '| prompt | accuracy | macro-F1 | writes the label (greedy) | loss | measured at step |',
      '| the soft prompt | 0.9000 | 0.8500 | 0.8000 | 0.2500 | 50 |',
      '| majority class (always the most frequent label) | 0.6000 | 0.3750 | – | – | any (labels only) |',
    ]) expect(withWrites).toContain(line);
    expect(withWrites).not.toContain('generation_accuracy |');
  });
});
