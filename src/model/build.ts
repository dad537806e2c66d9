/**
 * Turns a loaded package's weights into backend tensors and the architecture's model.
 * Int8 weights are dequantized to float32 here; on WebGPU the runtime issue keeps them
 * int8 with our own kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import { DenseLinear, type Linear } from './layers';
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

function linear(weights: WeightStore, prefix: string, outFeatures: number, inFeatures: number, bias: boolean): Linear {
  const w = matrix(weights, `${prefix}.weight`, [outFeatures, inFeatures]);
  const b = bias ? vector(weights, `${prefix}.bias`, outFeatures) : undefined;
  return new DenseLinear(w, b);
}

function buildLlama(pkg: ModelPackage): LlamaModel {
  const cfg = pkg.config;
  const w = pkg.weights;
  const d = cfg.hiddenSize;
  const qDim = cfg.numHeads * cfg.headDim;
  const kvDim = cfg.numKeyValueHeads * cfg.headDim;
  const ffn = cfg.intermediateSize;
  const embedTokens = matrix(w, 'model.embed_tokens.weight', [cfg.vocabSize, d]);
  const layers: LlamaLayerWeights[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const n = llamaLayerNames(i);
    layers.push({
      inputNorm: vector(w, n.inputNorm, d),
      q: linear(w, n.q, qDim, d, cfg.attentionBias),
      k: linear(w, n.k, kvDim, d, cfg.attentionBias),
      v: linear(w, n.v, kvDim, d, cfg.attentionBias),
      o: linear(w, n.o, d, qDim, false),
      postAttentionNorm: vector(w, n.postAttentionNorm, d),
      gate: linear(w, n.gate, ffn, d, false),
      up: linear(w, n.up, ffn, d, false),
      down: linear(w, n.down, d, ffn, false),
    });
  }
  const tied = cfg.tieWordEmbeddings || !w.has('lm_head.weight');
  const lmHead = tied ? new DenseLinear(embedTokens) : linear(w, 'lm_head', cfg.vocabSize, d, false);
  return new LlamaModel(cfg, { embedTokens, layers, finalNorm: vector(w, 'model.norm.weight', d), lmHead });
}

export function buildModel(pkg: ModelPackage): CausalLM {
  made = [];
  try {
    switch (pkg.config.modelType) {
      case 'llama':
      case 'qwen2':
        return buildLlama(pkg);
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
