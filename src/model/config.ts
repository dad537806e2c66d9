/**
 * The model's shape, read from a Hugging Face `config.json`. One typed record for every
 * architecture we run; fields an architecture does not have take the value that makes
 * the shared code do the right thing (e.g. numKeyValueHeads = numHeads without GQA).
 */
import { StudioError } from '../errors';

export const SUPPORTED_MODEL_TYPES = ['llama', 'qwen2', 'gpt2'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** The int8 form the studio writes: per weight matrix an I8 tensor plus an F32 scale per output row. */
export interface StudioQuantization {
  quant_method: 'studio_int8';
  bits: 8;
  symmetric: true;
  granularity: 'per_output_channel';
  /** Suffix appended to a weight's name for its scales: `x.weight` → `x.weight_scale`. */
  scale_suffix: string;
}

export interface RopeScaling {
  ropeType: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface ModelConfig {
  modelType: ModelType;
  architecture: string;
  /** d: width of the residual stream and of every token embedding. */
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: heads share key/value heads in groups of numHeads / numKeyValueHeads. */
  numKeyValueHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  normEps: number;
  /** RoPE base (llama, qwen2); unused by gpt2's learned positions. */
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (qwen2). */
  attentionBias: boolean;
  hiddenAct: string;
  bosTokenId: number | null;
  eosTokenIds: number[];
  quantization: StudioQuantization | null;
  /** The config.json as read, for writing back and for fingerprints. */
  raw: Record<string, unknown>;
}

function bad(message: string): never {
  throw new StudioError('config', `config.json: ${message}`);
}

function intField(raw: Record<string, unknown>, names: string[], fallback?: number): number {
  for (const name of names) {
    const v = raw[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(`"${name}" must be a positive integer, got ${JSON.stringify(v)}.`);
    return v;
  }
  if (fallback !== undefined) return fallback;
  return bad(`the field "${names[0]}" is missing.`);
}

function numberField(raw: Record<string, unknown>, name: string, fallback: number): number {
  const v = raw[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`"${name}" must be a number, got ${JSON.stringify(v)}.`);
  return v;
}

function tokenIds(v: unknown): number[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  return bad(`eos_token_id must be a number or a list of numbers, got ${JSON.stringify(v)}.`);
}

export function parseModelConfig(raw: unknown): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('it is not a JSON object.');
  const c = raw as Record<string, unknown>;
  const modelType = c.model_type;
  if (typeof modelType !== 'string') bad('the field "model_type" is missing.');
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new StudioError('model',
      `This model's architecture ("${modelType}") is not supported.`,
      `The studio runs these model_type values: ${SUPPORTED_MODEL_TYPES.join(', ')}.`);
  }
  const type = modelType as ModelType;
  const architectures = Array.isArray(c.architectures) ? (c.architectures as string[]) : [];
  const gpt2 = type === 'gpt2';
  const hiddenSize = intField(c, gpt2 ? ['n_embd', 'hidden_size'] : ['hidden_size']);
  const numHeads = intField(c, gpt2 ? ['n_head', 'num_attention_heads'] : ['num_attention_heads']);
  const numKeyValueHeads = gpt2 ? numHeads : intField(c, ['num_key_value_heads'], numHeads);
  if (hiddenSize % numHeads !== 0 && c.head_dim === undefined) bad(`hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}.`);
  if (numHeads % numKeyValueHeads !== 0) bad(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}.`);
  const headDim = intField(c, ['head_dim'], hiddenSize / numHeads);
  if (headDim % 2 !== 0 && !gpt2) bad(`head_dim ${headDim} must be even for rotary embeddings.`);

  let ropeScaling: RopeScaling | null = null;
  const rs = c.rope_scaling as Record<string, unknown> | null | undefined;
  if (rs && typeof rs === 'object') {
    const kind = rs.rope_type ?? rs.type;
    if (kind === 'llama3') {
      ropeScaling = {
        ropeType: 'llama3',
        factor: numberField(rs, 'factor', 8),
        lowFreqFactor: numberField(rs, 'low_freq_factor', 1),
        highFreqFactor: numberField(rs, 'high_freq_factor', 4),
        originalMaxPositionEmbeddings: intField(rs, ['original_max_position_embeddings'], 8192),
      };
    } else if (kind !== 'default') {
      throw new StudioError('model', `config.json: rope_scaling type ${JSON.stringify(kind)} is not supported.`,
        'Supported: none, "default" or "llama3".');
    }
  }

  const hiddenAct = String(c.hidden_act ?? c.activation_function ?? (gpt2 ? 'gelu_new' : 'silu'));
  if (!gpt2 && hiddenAct !== 'silu') {
    throw new StudioError('model', `config.json: hidden_act "${hiddenAct}" is not supported for ${type}.`, 'Llama-family models run with silu.');
  }
  if (!gpt2 && c.mlp_bias === true) {
    throw new StudioError('model', 'config.json: mlp_bias is true; the studio runs Llama-family MLPs without biases.');
  }

  const q = (c.quantization_config ?? null) as Record<string, unknown> | null;
  let quantization: StudioQuantization | null = null;
  if (q) {
    if (q.quant_method !== 'studio_int8') {
      throw new StudioError('model', `config.json: quantization "${String(q.quant_method)}" is not supported.`,
        'Load the unquantized float checkpoint; the studio quantizes it to int8 itself.');
    }
    quantization = {
      quant_method: 'studio_int8', bits: 8, symmetric: true, granularity: 'per_output_channel',
      scale_suffix: typeof q.scale_suffix === 'string' ? q.scale_suffix : '_scale',
    };
  }

  return {
    modelType: type,
    architecture: architectures[0] ?? type,
    hiddenSize,
    numLayers: intField(c, gpt2 ? ['n_layer', 'num_hidden_layers'] : ['num_hidden_layers']),
    numHeads,
    numKeyValueHeads,
    headDim,
    intermediateSize: gpt2 ? intField(c, ['n_inner'], 4 * hiddenSize) : intField(c, ['intermediate_size']),
    vocabSize: intField(c, ['vocab_size']),
    maxPositions: intField(c, gpt2 ? ['n_positions', 'max_position_embeddings'] : ['max_position_embeddings'], 2048),
    normEps: numberField(c, gpt2 ? 'layer_norm_epsilon' : 'rms_norm_eps', gpt2 ? 1e-5 : 1e-6),
    ropeTheta: numberField(c, 'rope_theta', 10000),
    ropeScaling,
    // Absent, it takes the class default: LlamaConfig and Qwen2Config say false, GPT2Config
    // inherits PretrainedConfig's true. (A checkpoint without lm_head.weight is tied anyway.)
    tieWordEmbeddings: c.tie_word_embeddings === undefined || c.tie_word_embeddings === null ? gpt2 : c.tie_word_embeddings === true,
    attentionBias: type === 'qwen2' ? true : c.attention_bias === true,
    hiddenAct,
    bosTokenId: typeof c.bos_token_id === 'number' ? c.bos_token_id : null,
    eosTokenIds: tokenIds(c.eos_token_id),
    quantization,
    raw: c,
  };
}

/** Parameter count from the shapes (embeddings counted once when tied). */
export function countParameters(cfg: ModelConfig): number {
  const d = cfg.hiddenSize;
  const kv = cfg.numKeyValueHeads * cfg.headDim;
  const q = cfg.numHeads * cfg.headDim;
  const embed = cfg.vocabSize * d;
  const head = cfg.tieWordEmbeddings ? 0 : cfg.vocabSize * d;
  if (cfg.modelType === 'gpt2') {
    const perLayer = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * cfg.intermediateSize + cfg.intermediateSize) + (cfg.intermediateSize * d + d);
    return embed + cfg.maxPositions * d + cfg.numLayers * perLayer + 2 * d + head;
  }
  const bias = cfg.attentionBias ? q + 2 * kv : 0;
  const perLayer = 2 * d + d * q + 2 * d * kv + q * d + bias + 3 * d * cfg.intermediateSize;
  return embed + cfg.numLayers * perLayer + d + head;
}
