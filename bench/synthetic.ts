/**
 * Synthetic checkpoints for benchmarks: real Llama layout and names, random int8 weights
 * with per-row scales. Speed does not depend on the weights' values, so these stand in for
 * models too large to ship.
 */
import { parseModelConfig } from '../src/model/config';
import { STUDIO_INT8, type ModelPackage } from '../src/model/package';
import { llamaLayerNames } from '../src/model/llama';
import { WeightStore } from '../src/model/weights';
import type { SafetensorsFile, TensorEntry } from '../src/formats/safetensors';
import { createRng } from '../src/data/random';

export interface SyntheticShape {
  name: string;
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
  int8('model.embed_tokens.weight', shape.vocabSize, d);
  for (let i = 0; i < shape.layers; i++) {
    const n = llamaLayerNames(i);
    ones(n.inputNorm);
    ones(n.postAttentionNorm);
    int8(`${n.q}.weight`, d, d);
    int8(`${n.k}.weight`, kv, d);
    int8(`${n.v}.weight`, kv, d);
    int8(`${n.o}.weight`, d, d);
    int8(`${n.gate}.weight`, shape.intermediateSize, d);
    int8(`${n.up}.weight`, shape.intermediateSize, d);
    int8(`${n.down}.weight`, d, shape.intermediateSize);
  }
  ones('model.norm.weight');
  const raw = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: d, intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.layers, num_attention_heads: shape.heads, num_key_value_heads: shape.kvHeads,
    vocab_size: shape.vocabSize, max_position_embeddings: shape.maxPositions, rms_norm_eps: 1e-5, rope_theta: 10000,
    tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, quantization_config: STUDIO_INT8, _name_or_path: shape.name,
  };
  const config = parseModelConfig(raw);
  const file: SafetensorsFile = { metadata: {}, tensors };
  return { source: `synthetic ${shape.name}`, config, tokenizerJson: {}, tokenizerConfig: undefined, weights: new WeightStore([file], config.quantization) };
}
