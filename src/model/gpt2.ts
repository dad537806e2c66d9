/**
 * GPT-2 decoder, in the order the paper draws it: token + learned position embeddings →
 * per layer LayerNorm → multi-head attention → residual → LayerNorm → GELU MLP →
 * residual, then a final LayerNorm and the LM head, which is the token embedding table.
 *
 * Weights arrive in Hugging Face names (`transformer.h.0.attn.c_attn.weight`, or without
 * the `transformer.` prefix in the original OpenAI-converted checkpoints). Their Conv1D
 * layout and the fused q/k/v projection are undone once at load (build.ts), so the blocks
 * here use the same [out, in] Linear as Llama.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import type { ModelConfig } from './config';
import {
  appendKV,
  attentionBias,
  defaultPositions,
  layerNorm,
  linear3,
  type Embedding,
  mergeHeads,
  scaledDotProductAttention,
  splitHeads,
  type Linear,
} from './layers';
import type { CausalLM, ForwardInput, ForwardOutput, LayerKV } from './types';

export interface Norm {
  weight: tf.Tensor1D; // [d]
  bias: tf.Tensor1D; // [d]
}

export interface Gpt2LayerWeights {
  ln1: Norm;
  q: Linear; // d → d (the first third of c_attn)
  k: Linear; // d → d
  v: Linear; // d → d
  attnProj: Linear; // d → d (attn.c_proj)
  ln2: Norm;
  fc: Linear; // d → ffn (mlp.c_fc)
  mlpProj: Linear; // ffn → d (mlp.c_proj)
}

export interface Gpt2Weights {
  wte: Embedding; // [V, d]
  wpe: Embedding; // [maxPositions, d], looked up by position id
  layers: Gpt2LayerWeights[];
  lnF: Norm;
  lmHead: Linear; // d → V (wte itself when tied)
}

/** The Conv1D weights of a GPT-2 checkpoint: stored [in, out], quantized per column. */
export const GPT2_CONV1D = /(^|\.)h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;

/**
 * Buffers some GPT-2 checkpoints carry that are not weights: the causal mask
 * (`attn.bias`, [1, 1, n_ctx, n_ctx]) and `attn.masked_bias`.
 */
export const GPT2_BUFFERS = /(^|\.)h\.\d+\.attn\.(bias|masked_bias)$/;

/** The weight names of one GPT-2 layer, as Hugging Face writes them. */
export function gpt2LayerNames(prefix: string, i: number) {
  const p = `${prefix}h.${i}`;
  return {
    ln1: `${p}.ln_1`,
    attn: `${p}.attn.c_attn`,
    attnProj: `${p}.attn.c_proj`,
    ln2: `${p}.ln_2`,
    fc: `${p}.mlp.c_fc`,
    mlpProj: `${p}.mlp.c_proj`,
  };
}

/** GELU activations GPT-2 configs name; the tanh form is what GPT-2 was trained with. */
export function gpt2Activation(name: string): (x: tf.Tensor3D) => tf.Tensor3D {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      return (x) => {
        const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
        return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
      };
    case 'gelu':
      // 0.5·x·(1 + erf(x/√2))
      return (x) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'relu':
      return (x) => tf.relu(x);
    default:
      throw new StudioError('model', `config.json: GPT-2 activation_function "${name}" is not supported.`,
        'Supported: gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, relu.');
  }
}

export class Gpt2Model implements CausalLM {
  private readonly act: (x: tf.Tensor3D) => tf.Tensor3D;

  constructor(
    readonly config: ModelConfig,
    private readonly w: Gpt2Weights,
  ) {
    this.act = gpt2Activation(config.hiddenAct);
  }

  embed(ids: tf.Tensor2D): tf.Tensor3D {
    return this.w.wte.lookup(ids); // [B, T, d]
  }

  embeddingTable(): tf.Tensor2D {
    return this.w.wte.table();
  }

  logits(hidden: tf.Tensor): tf.Tensor {
    const d = this.config.hiddenSize;
    const flat = hidden.reshape([-1, d]) as tf.Tensor2D;
    return this.w.lmHead.apply(flat).reshape([...hidden.shape.slice(0, -1), this.config.vocabSize]);
  }

  forward({ inputsEmbeds, keyMask, positionIds, past, returnKV }: ForwardInput): ForwardOutput {
    const cfg = this.config;
    const [batch, t] = inputsEmbeds.shape;
    const pastLength = past?.[0]?.k.shape[2] ?? 0;
    if (!positionIds && pastLength + t > cfg.maxPositions) {
      // wpe has one row per position: a gather past its end would read nothing useful.
      throw new StudioError('settings',
        `The input reaches position ${pastLength + t}, past the ${cfg.maxPositions} positions this GPT-2 model has.`,
        'Use shorter inputs or fewer virtual tokens.');
    }
    // As GPT2Model: positions of the new tokens start after the past (cache or prefix).
    const positions = positionIds ?? defaultPositions(batch, t, pastLength); // [B, T]
    const bias = attentionBias(t, pastLength, keyMask); // [B|1, 1, T, S]

    // Position embeddings are added here, not in embed(): soft prompts replace token
    // embeddings only, as in HF where inputs_embeds + wpe(position_ids) happens in forward.
    let x = tf.add<tf.Tensor3D>(inputsEmbeds, this.w.wpe.lookup(positions)); // [B, T, d]
    const kv: LayerKV[] = [];
    this.w.layers.forEach((layer, i) => {
      // Attention block
      const h = layerNorm(x, layer.ln1.weight, layer.ln1.bias, cfg.normEps);
      const q = splitHeads(linear3(layer.q, h), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
      const k = splitHeads(linear3(layer.k, h), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
      const v = splitHeads(linear3(layer.v, h), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
      const all = appendKV(past?.[i], k, v); // [B, H, S, hd]
      if (returnKV) kv.push(all);
      const attended = scaledDotProductAttention(q, all.k, all.v, bias); // [B, H, T, hd]
      x = tf.add<tf.Tensor3D>(x, linear3(layer.attnProj, mergeHeads(attended)));

      // MLP block: c_proj(gelu(c_fc(h)))
      const m = layerNorm(x, layer.ln2.weight, layer.ln2.bias, cfg.normEps);
      x = tf.add<tf.Tensor3D>(x, linear3(layer.mlpProj, this.act(linear3(layer.fc, m)))); // [B, T, d]
    });
    const hidden = layerNorm(x, this.w.lnF.weight, this.w.lnF.bias, cfg.normEps);
    return returnKV ? { hidden, kv } : { hidden };
  }

  weightTensors(): tf.Tensor[] {
    const out: tf.Tensor[] = [...this.w.wte.tensors(), ...this.w.wpe.tensors(), this.w.lnF.weight, this.w.lnF.bias];
    for (const l of this.w.layers) {
      out.push(l.ln1.weight, l.ln1.bias, l.ln2.weight, l.ln2.bias);
      for (const lin of [l.q, l.k, l.v, l.attnProj, l.fc, l.mlpProj]) out.push(...lin.tensors());
    }
    out.push(...this.w.lmHead.tensors());
    return [...new Set(out)];
  }

  dispose(): void {
    tf.dispose(this.weightTensors());
  }
}
