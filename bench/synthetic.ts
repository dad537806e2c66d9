/**
 * Synthetic checkpoints for benchmarks: real Llama, Qwen2 or GPT-2 layout and names, random
 * int8 weights with per-output-channel scales (as the studio's converter writes them: per row,
 * per column for GPT-2's [in, out] Conv1D), made in memory in seconds. Speed does not depend on the
 * weights' values, so these stand in for models too large to ship or to carry (the GPU kit
 * makes its real-size rows this way on the GPU machine).
 */
import { parseModelConfig } from '../src/model/config';
import { STUDIO_INT8, type ModelPackage } from '../src/model/package';
import { gpt2LayerNames } from '../src/model/gpt2';
import { llamaLayerNames } from '../src/model/llama';
import { WeightStore } from '../src/model/weights';
import type { SafetensorsFile, TensorEntry } from '../src/formats/safetensors';
import { createRng } from '../src/data/random';

export interface SyntheticShape {
  name: string;
  /**
   * llama (default), qwen2 (Qwen2's q/k/v projections carry biases) or gpt2 (learned
   * positions, LayerNorm, biases everywhere, a GELU MLP of two matrices; no grouped-query attention).
   */
  modelType?: 'llama' | 'qwen2' | 'gpt2';
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
}

export const SYNTHETIC_MODELS: SyntheticShape[] = [
  { name: 'llama-d512-L8-v32k', hiddenSize: 512, layers: 8, heads: 8, kvHeads: 8, intermediateSize: 1376, vocabSize: 32000, maxPositions: 1024 },
  { name: 'llama-gpt2small-dims', hiddenSize: 768, layers: 12, heads: 12, kvHeads: 12, intermediateSize: 3072, vocabSize: 50257, maxPositions: 1024 },
];

/**
 * The published configurations of real models (their config.json on the hub), with random
 * int8 weights: SmolLM2-135M and -360M (Llama layout, grouped-query attention),
 * Qwen2.5-0.5B (Qwen2 layout, q/k/v biases, a 152k vocabulary) and GPT-2 (124M: learned
 * positions, LayerNorm, GELU). All tie their embeddings.
 */
export const REAL_SIZE_SHAPES: SyntheticShape[] = [
  { name: 'SmolLM2-135M-size', hiddenSize: 576, layers: 30, heads: 9, kvHeads: 3, intermediateSize: 1536, vocabSize: 49152, maxPositions: 8192 },
  { name: 'SmolLM2-360M-size', hiddenSize: 960, layers: 32, heads: 15, kvHeads: 5, intermediateSize: 2560, vocabSize: 49152, maxPositions: 8192 },
  { name: 'Qwen2.5-0.5B-size', modelType: 'qwen2', hiddenSize: 896, layers: 24, heads: 14, kvHeads: 2, intermediateSize: 4864, vocabSize: 151936, maxPositions: 32768 },
  { name: 'GPT-2-124M-size', modelType: 'gpt2', hiddenSize: 768, layers: 12, heads: 12, kvHeads: 12, intermediateSize: 3072, vocabSize: 50257, maxPositions: 1024 },
];

/** A tiny model in GPT-2 layout, for tests of the GPT-2 path. */
export const TINY_GPT2: SyntheticShape = {
  name: 'gpt2-tiny', modelType: 'gpt2', hiddenSize: 64, layers: 2, heads: 4, kvHeads: 4, intermediateSize: 256, vocabSize: 1024, maxPositions: 256,
};

/** A tiny model in Qwen2 layout: the real-size path (biases, grouped-query attention) where a real size would take too long. */
export const TINY_QWEN2: SyntheticShape = {
  name: 'qwen2-tiny', modelType: 'qwen2', hiddenSize: 64, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 172, vocabSize: 1024, maxPositions: 512,
};

export function syntheticPackage(shape: SyntheticShape, seed = 0): ModelPackage {
  const rng = createRng(seed);
  const tensors = new Map<string, TensorEntry>();
  const d = shape.hiddenSize;
  const headDim = d / shape.heads;
  const kv = shape.kvHeads * headDim;
  /** Random int8 [rows, cols]; its output channels are rows, or columns for a Conv1D. */
  const int8 = (name: string, rows: number, cols: number, perColumn = false) => {
    const values = new Uint8Array(rows * cols);
    for (let i = 0; i < values.length; i += 4) {
      const r = rng.nextUint32();
      values[i] = r & 0xff; values[i + 1] = (r >>> 8) & 0xff; values[i + 2] = (r >>> 16) & 0xff; values[i + 3] = r >>> 24;
    }
    for (let i = 0; i < values.length; i++) if (values[i] === 0x80) values[i] = 0x81; // keep to [-127, 127]
    const inFeatures = perColumn ? rows : cols;
    // Scales that differ by channel (±25%), so that reading them along the wrong axis shows.
    const scales = Float32Array.from({ length: perColumn ? cols : rows }, (_, i) => 0.02 / 127 * Math.sqrt(512 / inFeatures) * (0.75 + 0.5 * ((i * 37) % 101) / 100));
    tensors.set(name, { name, dtype: 'I8', shape: [rows, cols], bytes: values });
    const scaleName = name + STUDIO_INT8.scale_suffix;
    tensors.set(scaleName, { name: scaleName, dtype: 'F32', shape: perColumn ? [1, cols] : [rows], bytes: new Uint8Array(scales.buffer) });
  };
  const filled = (name: string, n: number, value: number) => tensors.set(name, { name, dtype: 'F32', shape: [n], bytes: new Uint8Array(new Float32Array(n).fill(value).buffer) });
  const ones = (name: string) => filled(name, d, 1);
  const bias = (name: string, n: number) => filled(name, n, 0.01);
  const type = shape.modelType ?? 'llama';
  let raw: Record<string, unknown>;
  if (type === 'gpt2') {
    const prefix = 'transformer.';
    int8(`${prefix}wte.weight`, shape.vocabSize, d);
    int8(`${prefix}wpe.weight`, shape.maxPositions, d);
    const conv1d = (name: string, inFeatures: number, outFeatures: number) => {
      int8(`${name}.weight`, inFeatures, outFeatures, true);
      bias(`${name}.bias`, outFeatures);
    };
    const layerNorm = (name: string) => {
      ones(`${name}.weight`);
      filled(`${name}.bias`, d, 0);
    };
    for (let i = 0; i < shape.layers; i++) {
      const n = gpt2LayerNames(prefix, i);
      layerNorm(n.ln1);
      conv1d(n.attn, d, 3 * d);
      conv1d(n.attnProj, d, d);
      layerNorm(n.ln2);
      conv1d(n.fc, d, shape.intermediateSize);
      conv1d(n.mlpProj, shape.intermediateSize, d);
    }
    layerNorm(`${prefix}ln_f`);
    raw = {
      architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: d, n_layer: shape.layers, n_head: shape.heads,
      n_inner: shape.intermediateSize, vocab_size: shape.vocabSize, n_positions: shape.maxPositions, layer_norm_epsilon: 1e-5,
      activation_function: 'gelu_new', bos_token_id: 50256, eos_token_id: 50256,
    };
  } else {
    const qwen2 = type === 'qwen2';
    int8('model.embed_tokens.weight', shape.vocabSize, d);
    for (let i = 0; i < shape.layers; i++) {
      const n = llamaLayerNames(i);
      ones(n.inputNorm);
      ones(n.postAttentionNorm);
      int8(`${n.q}.weight`, d, d);
      int8(`${n.k}.weight`, kv, d);
      int8(`${n.v}.weight`, kv, d);
      if (qwen2) {
        bias(`${n.q}.bias`, d);
        bias(`${n.k}.bias`, kv);
        bias(`${n.v}.bias`, kv);
      }
      int8(`${n.o}.weight`, d, d);
      int8(`${n.gate}.weight`, shape.intermediateSize, d);
      int8(`${n.up}.weight`, shape.intermediateSize, d);
      int8(`${n.down}.weight`, d, shape.intermediateSize);
    }
    ones('model.norm.weight');
    raw = {
      architectures: [qwen2 ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'], model_type: type, hidden_size: d, intermediate_size: shape.intermediateSize,
      num_hidden_layers: shape.layers, num_attention_heads: shape.heads, num_key_value_heads: shape.kvHeads,
      vocab_size: shape.vocabSize, max_position_embeddings: shape.maxPositions, rms_norm_eps: qwen2 ? 1e-6 : 1e-5, rope_theta: qwen2 ? 1000000 : 10000,
      bos_token_id: 1, eos_token_id: 2,
    };
  }
  const config = parseModelConfig({ ...raw, tie_word_embeddings: true, quantization_config: STUDIO_INT8, _name_or_path: shape.name });
  const file: SafetensorsFile = { metadata: {}, tensors };
  return { source: `synthetic ${shape.name}`, config, tokenizerJson: {}, tokenizerConfig: undefined, weights: new WeightStore([file], config.quantization) };
}
