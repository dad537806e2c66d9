/**
 * Turns a loaded package's weights into backend tensors and the architecture's model.
 * Int8 weights stay int8 (packed words and per-row scales) on every backend our kernels
 * run on; float weights stay float32.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import { int8KernelsAvailable } from './kernels';
import { DenseEmbedding, DenseLinear, type Embedding, type Linear } from './layers';
import { QuantEmbedding, QuantLinear } from './quantLinear';
import { Gpt2Model, gpt2LayerNames, type Gpt2LayerWeights } from './gpt2';
import { LlamaModel, llamaLayerNames, type LlamaLayerWeights } from './llama';
import type { ModelPackage } from './package';
import type { CausalLM } from './types';
import type { WeightStore } from './weights';

/** Tensors made so far, so a checkpoint that fails half-way through leaks nothing. */
let made: tf.Tensor[] = [];

function vector(weights: WeightStore, name: string, length: number): tf.Tensor1D {
  weights.expectShape(name, [length]);
  const t = tf.tensor1d(weights.float(name).data);
  made.push(t);
  return t;
}

function matrix(weights: WeightStore, name: string, shape: [number, number]): tf.Tensor2D {
  weights.expectShape(name, shape);
  const t = tf.tensor2d(weights.float(name).data, shape);
  made.push(t);
  return t;
}

/** int8 weights stay int8 wherever our kernels run (webgpu, wasm, cpu); elsewhere they are dequantized here. */
function keepInt8(weights: WeightStore, name: string): boolean {
  return int8KernelsAvailable() && weights.isQuantized(name);
}

function linear(weights: WeightStore, prefix: string, outFeatures: number, inFeatures: number, bias: boolean): Linear {
  const name = `${prefix}.weight`;
  if (keepInt8(weights, name)) {
    weights.expectShape(name, [outFeatures, inFeatures]);
    const b = bias ? vector(weights, `${prefix}.bias`, outFeatures) : undefined;
    const layer = QuantLinear.fromQuantized(weights.quantized(name), b);
    made.push(...layer.tensors().filter((t) => t !== b));
    return layer;
  }
  const w = matrix(weights, name, [outFeatures, inFeatures]);
  const b = bias ? vector(weights, `${prefix}.bias`, outFeatures) : undefined;
  return new DenseLinear(w, b);
}

function embedding(weights: WeightStore, name: string, shape: [number, number]): Embedding {
  if (!keepInt8(weights, name)) return new DenseEmbedding(matrix(weights, name, shape));
  weights.expectShape(name, shape);
  const table = QuantEmbedding.fromQuantized(weights.quantized(name));
  made.push(...table.tensors());
  return table;
}

function buildLlama(pkg: ModelPackage): LlamaModel {
  const cfg = pkg.config;
  const w = pkg.weights;
  const d = cfg.hiddenSize;
  const qDim = cfg.numHeads * cfg.headDim;
  const kvDim = cfg.numKeyValueHeads * cfg.headDim;
  const ffn = cfg.intermediateSize;
  const embedTokens = embedding(w, 'model.embed_tokens.weight', [cfg.vocabSize, d]);
  const layers: LlamaLayerWeights[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const n = llamaLayerNames(i);
    layers.push({
      inputNorm: vector(w, n.inputNorm, d),
      q: linear(w, n.q, qDim, d, cfg.attentionBias),
      k: linear(w, n.k, kvDim, d, cfg.attentionBias),
      v: linear(w, n.v, kvDim, d, cfg.attentionBias),
      // Llama's attention_bias covers o_proj too; Qwen2's biases are on q/k/v only.
      o: linear(w, n.o, d, qDim, cfg.modelType === 'llama' && cfg.attentionBias),
      postAttentionNorm: vector(w, n.postAttentionNorm, d),
      gate: linear(w, n.gate, ffn, d, false),
      up: linear(w, n.up, ffn, d, false),
      down: linear(w, n.down, d, ffn, false),
    });
  }
  const tied = cfg.tieWordEmbeddings || !w.has('lm_head.weight');
  const lmHead = tied ? embedTokens.asLinear() : linear(w, 'lm_head', cfg.vocabSize, d, false);
  return new LlamaModel(cfg, { embedTokens, layers, finalNorm: vector(w, 'model.norm.weight', d), lmHead });
}

function buildGpt2(pkg: ModelPackage): Gpt2Model {
  const cfg = pkg.config;
  const w = pkg.weights;
  const d = cfg.hiddenSize;
  const ffn = cfg.intermediateSize;
  if (cfg.raw.scale_attn_by_inverse_layer_idx === true || cfg.raw.scale_attn_weights === false) {
    throw new StudioError('model', 'config.json: this GPT-2 variant scales attention differently (scale_attn_by_inverse_layer_idx or scale_attn_weights), which the studio does not run.');
  }
  // Checkpoints saved from GPT2LMHeadModel name weights "transformer.…"; OpenAI's converted
  // originals (gpt2, gpt2-medium, …) were saved from GPT2Model, without the prefix.
  const prefix = w.has('transformer.wte.weight') ? 'transformer.' : '';
  const norm = (name: string) => ({ weight: vector(w, `${name}.weight`, d), bias: vector(w, `${name}.bias`, d) });

  /**
   * GPT-2's Conv1D stores its weight [in, out] and computes x·W + b (the layout of the
   * original TensorFlow code). Our Linear is nn.Linear's [out, in]: transposing once here
   * costs one copy at load instead of a transpose in every forward, and makes each output
   * channel a row, as the int8 kernels and their per-row scales expect (an int8 checkpoint
   * keeps one scale per column for these, so the transpose moves int8 values only).
   * `parts` splits the output rows evenly: c_attn is q, k and v side by side.
   */
  const conv1d = (name: string, inFeatures: number, outFeatures: number, parts = 1): Linear[] => {
    w.expectShape(`${name}.weight`, [inFeatures, outFeatures]);
    w.expectShape(`${name}.bias`, [outFeatures]);
    const bias = w.float(`${name}.bias`).data;
    const q = keepInt8(w, `${name}.weight`) ? w.quantizedTransposed(`${name}.weight`) : null; // [out, in]
    let rows: Float32Array | null = null; // [out, in]
    if (!q) {
      const stored = w.float(`${name}.weight`).data; // [in, out]
      rows = new Float32Array(inFeatures * outFeatures);
      for (let i = 0; i < inFeatures; i++) for (let o = 0; o < outFeatures; o++) rows[o * inFeatures + i] = stored[i * outFeatures + o];
    }
    const out = outFeatures / parts;
    return Array.from({ length: parts }, (_, j) => {
      const b = tf.tensor1d(bias.subarray(j * out, (j + 1) * out));
      made.push(b);
      if (q) {
        const slice = { values: q.values.subarray(j * out * inFeatures, (j + 1) * out * inFeatures), scales: q.scales.subarray(j * out, (j + 1) * out), rows: out, cols: inFeatures };
        const layer = QuantLinear.fromQuantized(slice, b);
        made.push(...layer.tensors().filter((t) => t !== b));
        return layer;
      }
      const weight = tf.tensor2d(rows!.subarray(j * out * inFeatures, (j + 1) * out * inFeatures), [out, inFeatures]);
      made.push(weight);
      return new DenseLinear(weight, b);
    });
  };

  const wte = embedding(w, `${prefix}wte.weight`, [cfg.vocabSize, d]);
  const wpe = embedding(w, `${prefix}wpe.weight`, [cfg.maxPositions, d]);
  const layers: Gpt2LayerWeights[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const n = gpt2LayerNames(prefix, i);
    const [q, k, v] = conv1d(n.attn, d, 3 * d, 3);
    layers.push({
      ln1: norm(n.ln1),
      q,
      k,
      v,
      attnProj: conv1d(n.attnProj, d, d)[0],
      ln2: norm(n.ln2),
      fc: conv1d(n.fc, d, ffn)[0],
      mlpProj: conv1d(n.mlpProj, ffn, d)[0],
    });
  }
  // GPT2LMHeadModel ties lm_head to wte; safetensors checkpoints then omit lm_head.weight.
  const tied = cfg.tieWordEmbeddings || !w.has('lm_head.weight');
  const lmHead = tied ? wte.asLinear() : linear(w, 'lm_head', cfg.vocabSize, d, false);
  return new Gpt2Model(cfg, { wte, wpe, layers, lnF: norm(`${prefix}ln_f`), lmHead });
}

export function buildModel(pkg: ModelPackage): CausalLM {
  made = [];
  try {
    switch (pkg.config.modelType) {
      case 'llama':
      case 'qwen2':
        return buildLlama(pkg);
      case 'gpt2':
        return buildGpt2(pkg);
      default:
        throw new StudioError('model', `The ${pkg.config.modelType} architecture is not wired up yet.`, 'Use a Llama-family model.');
    }
  } catch (e) {
    tf.dispose(made);
    throw e;
  } finally {
    made = [];
  }
}
