/**
 * Llama-family decoder (Llama 2/3, SmolLM, TinyLlama, Qwen2 with q/k/v biases), in the
 * order the paper draws it: RMSNorm → grouped-query attention with RoPE → residual →
 * RMSNorm → SwiGLU MLP → residual, then a final RMSNorm and the LM head (tied to the
 * token embeddings unless the checkpoint has its own lm_head).
 *
 * Weights use Hugging Face names and layout (nn.Linear weights are [out, in]; q/k rows
 * in the "rotate halves" order — the llama2.c converter permutes them into it).
 */
import * as tf from '@tensorflow/tfjs';
import { DecoderLM, forwardContext } from './causalLM';
import type { ModelConfig } from './config';
import { applyRope, causalSelfAttention, linear3, rmsNorm, ropeTables, splitHeads, type Embedding, type Linear } from './layers';
import type { ForwardInput, ForwardOutput, LayerKV } from './types';

export interface LlamaLayerWeights {
  inputNorm: tf.Tensor1D; // [d]
  q: Linear; // d → H*hd
  k: Linear; // d → Hkv*hd
  v: Linear; // d → Hkv*hd
  o: Linear; // H*hd → d
  postAttentionNorm: tf.Tensor1D; // [d]
  gate: Linear; // d → ffn
  up: Linear; // d → ffn
  down: Linear; // ffn → d
}

export interface LlamaWeights {
  embedTokens: Embedding; // [V, d]
  layers: LlamaLayerWeights[];
  finalNorm: tf.Tensor1D; // [d]
  lmHead: Linear; // d → V (the embedding table itself when tied)
}

/** The weight names of one Llama layer, as Hugging Face writes them. */
export function llamaLayerNames(i: number) {
  const p = `model.layers.${i}`;
  return {
    inputNorm: `${p}.input_layernorm.weight`,
    q: `${p}.self_attn.q_proj`,
    k: `${p}.self_attn.k_proj`,
    v: `${p}.self_attn.v_proj`,
    o: `${p}.self_attn.o_proj`,
    postAttentionNorm: `${p}.post_attention_layernorm.weight`,
    gate: `${p}.mlp.gate_proj`,
    up: `${p}.mlp.up_proj`,
    down: `${p}.mlp.down_proj`,
  };
}

/** Cos and sin [B, 1, T, hd] of the rotary embeddings at each row's positions. */
interface Rope {
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
}

/**
 * RMSNorm → q, k, v (RoPE on q and k) → grouped-query attention over the past and this
 * call → o: [B, T, d] → [B, T, d], and the keys/values it attended.
 */
function attention(layer: LlamaLayerWeights, x: tf.Tensor3D, cfg: ModelConfig, rope: Rope, past: LayerKV | undefined, bias: tf.Tensor4D) {
  const h = rmsNorm(x, layer.inputNorm, cfg.normEps);
  const q = applyRope(splitHeads(linear3(layer.q, h), cfg.numHeads, cfg.headDim), rope.cos, rope.sin); // [B, H, T, hd]
  const k = applyRope(splitHeads(linear3(layer.k, h), cfg.numKeyValueHeads, cfg.headDim), rope.cos, rope.sin); // [B, Hkv, T, hd]
  const v = splitHeads(linear3(layer.v, h), cfg.numKeyValueHeads, cfg.headDim); // [B, Hkv, T, hd]
  const { y, kv } = causalSelfAttention(q, k, v, past, bias); // [B, T, H*hd], [B, Hkv, S, hd]
  return { y: linear3(layer.o, y), kv }; // [B, T, d]
}

/** RMSNorm → down(silu(gate(h)) * up(h)): [B, T, d] → [B, T, ffn] → [B, T, d]. */
function mlp(layer: LlamaLayerWeights, x: tf.Tensor3D, cfg: ModelConfig): tf.Tensor3D {
  const h = rmsNorm(x, layer.postAttentionNorm, cfg.normEps);
  const gate = linear3(layer.gate, h); // [B, T, ffn]
  const gated = tf.mul<tf.Tensor3D>(tf.mul(gate, tf.sigmoid(gate)), linear3(layer.up, h));
  return linear3(layer.down, gated);
}

export class LlamaModel extends DecoderLM {
  private readonly cos: tf.Tensor2D; // [maxPositions, hd]
  private readonly sin: tf.Tensor2D;

  constructor(
    config: ModelConfig,
    private readonly w: LlamaWeights,
  ) {
    super(config, w.embedTokens, w.lmHead);
    const tables = ropeTables(config.maxPositions, config.headDim, config.ropeTheta, config.ropeScaling);
    this.cos = tables.cos;
    this.sin = tables.sin;
  }

  override forward(input: ForwardInput): ForwardOutput {
    const { inputsEmbeds, past, returnKV } = input;
    const cfg = this.config;
    const { positions, bias } = forwardContext(input); // [B, T], [B|1, 1, T, S]
    const rope: Rope = {
      cos: tf.gather(this.cos, positions).expandDims(1) as tf.Tensor4D, // [B, 1, T, hd]
      sin: tf.gather(this.sin, positions).expandDims(1) as tf.Tensor4D,
    };

    let x = inputsEmbeds; // [B, T, d]
    const kv: LayerKV[] = [];
    this.w.layers.forEach((layer, i) => {
      const attn = attention(layer, x, cfg, rope, past?.[i], bias);
      if (returnKV) kv.push(attn.kv);
      x = tf.add<tf.Tensor3D>(x, attn.y);
      x = tf.add<tf.Tensor3D>(x, mlp(layer, x, cfg)); // [B, T, d]
    });
    const hidden = rmsNorm(x, this.w.finalNorm, cfg.normEps);
    return returnKV ? { hidden, kv } : { hidden };
  }

  protected override bodyTensors(): tf.Tensor[] {
    const out: tf.Tensor[] = [this.w.finalNorm];
    for (const l of this.w.layers) {
      out.push(l.inputNorm, l.postAttentionNorm);
      for (const lin of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) out.push(...lin.tensors());
    }
    return out;
  }

  override dispose(): void {
    super.dispose();
    tf.dispose([this.cos, this.sin]);
  }
}
