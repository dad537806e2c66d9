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
import type { ModelConfig } from './config';
import {
  appendKV,
  applyRope,
  attentionBias,
  defaultPositions,
  linear3,
  mergeHeads,
  rmsNorm,
  ropeTables,
  scaledDotProductAttention,
  splitHeads,
  type Embedding,
  type Linear,
} from './layers';
import type { CausalLM, ForwardInput, ForwardOutput, LayerKV } from './types';

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

export class LlamaModel implements CausalLM {
  private readonly cos: tf.Tensor2D; // [maxPositions, hd]
  private readonly sin: tf.Tensor2D;

  constructor(
    readonly config: ModelConfig,
    private readonly w: LlamaWeights,
  ) {
    const tables = ropeTables(config.maxPositions, config.headDim, config.ropeTheta, config.ropeScaling);
    this.cos = tables.cos;
    this.sin = tables.sin;
  }

  embed(ids: tf.Tensor2D): tf.Tensor3D {
    return this.w.embedTokens.lookup(ids); // [B, T, d]
  }

  embeddingTable(): tf.Tensor2D {
    return this.w.embedTokens.table();
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
    const positions = positionIds ?? defaultPositions(batch, t, pastLength);
    const cos = tf.gather(this.cos, positions).expandDims(1) as tf.Tensor4D; // [B, 1, T, hd]
    const sin = tf.gather(this.sin, positions).expandDims(1) as tf.Tensor4D;
    const bias = attentionBias(t, pastLength, keyMask); // [B|1, 1, T, S]

    let x = inputsEmbeds; // [B, T, d]
    const kv: LayerKV[] = [];
    this.w.layers.forEach((layer, i) => {
      // Attention block
      const h = rmsNorm(x, layer.inputNorm, cfg.normEps);
      const q = applyRope(splitHeads(linear3(layer.q, h), cfg.numHeads, cfg.headDim), cos, sin); // [B, H, T, hd]
      const k = applyRope(splitHeads(linear3(layer.k, h), cfg.numKeyValueHeads, cfg.headDim), cos, sin); // [B, Hkv, T, hd]
      const v = splitHeads(linear3(layer.v, h), cfg.numKeyValueHeads, cfg.headDim); // [B, Hkv, T, hd]
      const all = appendKV(past?.[i], k, v); // [B, Hkv, S, hd]
      if (returnKV) kv.push(all);
      const attended = scaledDotProductAttention(q, all.k, all.v, bias); // [B, H, T, hd]
      x = tf.add<tf.Tensor3D>(x, linear3(layer.o, mergeHeads(attended)));

      // MLP block: down(silu(gate(h)) * up(h))
      const m = rmsNorm(x, layer.postAttentionNorm, cfg.normEps);
      const gate = linear3(layer.gate, m); // [B, T, ffn]
      const gated = tf.mul<tf.Tensor3D>(tf.mul(gate, tf.sigmoid(gate)), linear3(layer.up, m));
      x = tf.add<tf.Tensor3D>(x, linear3(layer.down, gated));
    });
    const hidden = rmsNorm(x, this.w.finalNorm, cfg.normEps);
    return returnKV ? { hidden, kv } : { hidden };
  }

  weightTensors(): tf.Tensor[] {
    const out: tf.Tensor[] = [...this.w.embedTokens.tensors(), this.w.finalNorm];
    for (const l of this.w.layers) {
      out.push(l.inputNorm, l.postAttentionNorm);
      for (const lin of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) out.push(...lin.tensors());
    }
    out.push(...this.w.lmHead.tensors());
    return [...new Set(out)];
  }

  dispose(): void {
    tf.dispose(this.weightTensors());
    tf.dispose([this.cos, this.sin]);
  }
}
