/**
 * Synthetic checkpoints for benchmarks: real Llama (or Qwen2) layout and names, random int8
 * weights with per-row scales, made in memory in seconds. Speed does not depend on the
 * weights' values, so these stand in for models too large to ship or to carry (the GPU kit
 * makes its real-size rows this way on the GPU machine).
 */
import { parseModelConfig } from '../src/model/config';
import { STUDIO_INT8, type ModelPackage } from '../src/model/package';
import { llamaLayerNames } from '../src/model/llama';
import { WeightStore } from '../src/model/weights';
import type { SafetensorsFile, TensorEntry } from '../src/formats/safetensors';
import { createRng } from '../src/data/random';

export interface SyntheticShape {
  name: string;
  /** llama (default) or qwen2: Qwen2's q/k/v projections carry biases. */
  modelType?: 'llama' | 'qwen2';
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
 * int8 weights: SmolLM2-135M and -360M (Llama layout, grouped-query attention) and
 * Qwen2.5-0.5B (Qwen2 layout, q/k/v biases, a 152k vocabulary). All tie their embeddings.
 */
export const REAL_SIZE_SHAPES: SyntheticShape[] = [
  { name: 'SmolLM2-135M-size', hiddenSize: 576, layers: 30, heads: 9, kvHeads: 3, intermediateSize: 1536, vocabSize: 49152, maxPositions: 8192 },
  { name: 'SmolLM2-360M-size', hiddenSize: 960, layers: 32, heads: 15, kvHeads: 5, intermediateSize: 2560, vocabSize: 49152, maxPositions: 8192 },
  { name: 'Qwen2.5-0.5B-size', modelType: 'qwen2', hiddenSize: 896, layers: 24, heads: 14, kvHeads: 2, intermediateSize: 4864, vocabSize: 151936, maxPositions: 32768 },
];

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
  const int8 = (name: string, rows: number, cols: number) => {
    const values = new Uint8Array(rows * cols);
    for (let i = 0; i < values.length; i += 4) {
      const r = rng.nextUint32();
      values[i] = r & 0xff; values[i + 1] = (r >>> 8) & 0xff; values[i + 2] = (r >>> 16) & 0xff; values[i + 3] = r >>> 24;
    }
    for (let i = 0; i < values.length; i++) if (values[i] === 0x80) values[i] = 0x81; // keep to [-127, 127]
    const scales = new Float32Array(rows).fill(0.02 / 127 * Math.sqrt(512 / cols));
    tensors.set(name, { name, dtype: 'I8', shape: [rows, cols], bytes: values });
    tensors.set(name + STUDIO_INT8.scale_suffix, { name: name + STUDIO_INT8.scale_suffix, dtype: 'F32', shape: [rows], bytes: new Uint8Array(scales.buffer) });
  };
  const ones = (name: string) => tensors.set(name, { name, dtype: 'F32', shape: [d], bytes: new Uint8Array(new Float32Array(d).fill(1).buffer) });
  const bias = (name: string, n: number) => tensors.set(name, { name, dtype: 'F32', shape: [n], bytes: new Uint8Array(new Float32Array(n).fill(0.01).buffer) });
  const qwen2 = shape.modelType === 'qwen2';
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
  const raw = {
    architectures: [qwen2 ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'], model_type: qwen2 ? 'qwen2' : 'llama', hidden_size: d, intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.layers, num_attention_heads: shape.heads, num_key_value_heads: shape.kvHeads,
    vocab_size: shape.vocabSize, max_position_embeddings: shape.maxPositions, rms_norm_eps: qwen2 ? 1e-6 : 1e-5, rope_theta: qwen2 ? 1000000 : 10000,
    tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, quantization_config: STUDIO_INT8, _name_or_path: shape.name,
  };
  const config = parseModelConfig(raw);
  const file: SafetensorsFile = { metadata: {}, tensors };
  return { source: `synthetic ${shape.name}`, config, tokenizerJson: {}, tokenizerConfig: undefined, weights: new WeightStore([file], config.quantization) };
}
