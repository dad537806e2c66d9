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
import { DecoderLM, forwardContext, pastLengthOf } from './causalLM';
import type { ModelConfig } from './config';
import { causalSelfAttention, layerNorm, linear3, splitHeads, type Embedding, type Linear } from './layers';
import type { ForwardInput, ForwardOutput, LayerKV } from './types';

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

/**
 * LayerNorm → q, k, v → attention over the past and this call → c_proj:
 * [B, T, d] → [B, T, d], and the keys/values it attended.
 */
function attention(layer: Gpt2LayerWeights, x: tf.Tensor3D, cfg: ModelConfig, past: LayerKV | undefined, bias: tf.Tensor4D) {
  const h = layerNorm(x, layer.ln1.weight, layer.ln1.bias, cfg.normEps);
  const q = splitHeads(linear3(layer.q, h), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
  const k = splitHeads(linear3(layer.k, h), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
  const v = splitHeads(linear3(layer.v, h), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
  const { y, kv } = causalSelfAttention(q, k, v, past, bias); // [B, T, d], [B, H, S, hd]
  return { y: linear3(layer.attnProj, y), kv }; // [B, T, d]
}

/** LayerNorm → c_fc → GELU → c_proj: [B, T, d] → [B, T, ffn] → [B, T, d]. */
function mlp(layer: Gpt2LayerWeights, x: tf.Tensor3D, cfg: ModelConfig, act: (x: tf.Tensor3D) => tf.Tensor3D): tf.Tensor3D {
  const h = layerNorm(x, layer.ln2.weight, layer.ln2.bias, cfg.normEps);
  return linear3(layer.mlpProj, act(linear3(layer.fc, h)));
}

export class Gpt2Model extends DecoderLM {
  private readonly act: (x: tf.Tensor3D) => tf.Tensor3D;

  constructor(
    config: ModelConfig,
    private readonly w: Gpt2Weights,
  ) {
    super(config, w.wte, w.lmHead);
    this.act = gpt2Activation(config.hiddenAct);
  }

  override forward(input: ForwardInput): ForwardOutput {
    const { inputsEmbeds, positionIds, past, returnKV } = input;
    const cfg = this.config;
    const t = inputsEmbeds.shape[1];
    const pastLength = pastLengthOf(past);
    if (!positionIds && pastLength + t > cfg.maxPositions) {
      // wpe has one row per position: a gather past its end would read nothing useful.
      throw new StudioError('settings',
        `The input reaches position ${pastLength + t}, past the ${cfg.maxPositions} positions this GPT-2 model has.`,
        'Use shorter inputs or fewer virtual tokens.');
    }
    const { positions, bias } = forwardContext(input); // [B, T], [B|1, 1, T, S]

    // Position embeddings are added here, not in embed(): soft prompts replace token
    // embeddings only, as in HF where inputs_embeds + wpe(position_ids) happens in forward.
    let x = tf.add<tf.Tensor3D>(inputsEmbeds, this.w.wpe.lookup(positions)); // [B, T, d]
    const kv: LayerKV[] = [];
    this.w.layers.forEach((layer, i) => {
      const attn = attention(layer, x, cfg, past?.[i], bias);
      if (returnKV) kv.push(attn.kv);
      x = tf.add<tf.Tensor3D>(x, attn.y);
      x = tf.add<tf.Tensor3D>(x, mlp(layer, x, cfg, this.act)); // [B, T, d]
    });
    const hidden = layerNorm(x, this.w.lnF.weight, this.w.lnF.bias, cfg.normEps);
    return returnKV ? { hidden, kv } : { hidden };
  }

  protected override bodyTensors(): tf.Tensor[] {
    const out: tf.Tensor[] = [...this.w.wpe.tensors(), this.w.lnF.weight, this.w.lnF.bias];
    for (const l of this.w.layers) {
      out.push(l.ln1.weight, l.ln1.bias, l.ln2.weight, l.ln2.bias);
      for (const lin of [l.q, l.k, l.v, l.attnProj, l.fc, l.mlpProj]) out.push(...lin.tensors());
    }
    return out;
  }
}
