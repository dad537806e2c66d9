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
import {
  appendKV, applyRope, attentionBackward, checkpointedStack, gatedMlp, gatedMlpBackward, linear3, linear3Grad, mergeHeads, rmsNorm,
  rmsNormBackward, ropeBackward, ropeTables, scaledDotProductAttention, splitHeads, type Embedding, type Linear,
} from './layers';
import { mlpKeptInLayer } from './memory';
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

/** What one layer's backward reads: its input, the stream after attention, q/k/v after RoPE (k, v with the past), the MLP's pre-activations. */
interface LayerActivations {
  x: tf.Tensor3D; // [B, T, d]
  x2: tf.Tensor3D; // [B, T, d]
  q: tf.Tensor4D; // [B, H, T, hd]
  k: tf.Tensor4D; // [B, Hkv, S, hd]
  v: tf.Tensor4D; // [B, Hkv, S, hd]
  /** Absent when the backward recomputes it from x2 (DecoderLM.mlpRecompute reaches this layer's gate). */
  g?: tf.Tensor2D; // [N, ffn]
  /** Absent when the backward recomputes it from x2 (DecoderLM.mlpRecompute reaches this layer's up projection). */
  u?: tf.Tensor2D; // [N, ffn]
}

/**
 * RMSNorm → q, k, v (RoPE on q and k) → grouped-query attention over the past and this
 * call → o → residual → RMSNorm → SwiGLU MLP → residual: [B, T, d] → [B, T, d], the
 * keys/values it attended, and the activations its backward reads.
 */
function layerForward(layer: LlamaLayerWeights, x: tf.Tensor3D, cfg: ModelConfig, rope: Rope, past: LayerKV | undefined, bias: tf.Tensor4D) {
  const [b, t, d] = x.shape;
  const h1 = rmsNorm(x, layer.inputNorm, cfg.normEps);
  const q = applyRope(splitHeads(linear3(layer.q, h1), cfg.numHeads, cfg.headDim), rope.cos, rope.sin); // [B, H, T, hd]
  const k = applyRope(splitHeads(linear3(layer.k, h1), cfg.numKeyValueHeads, cfg.headDim), rope.cos, rope.sin); // [B, Hkv, T, hd]
  const v = splitHeads(linear3(layer.v, h1), cfg.numKeyValueHeads, cfg.headDim); // [B, Hkv, T, hd]
  const kv = appendKV(past, k, v); // [B, Hkv, S, hd]
  const attended = mergeHeads(scaledDotProductAttention(q, kv.k, kv.v, bias)); // [B, T, H·hd]
  const x2 = tf.add<tf.Tensor3D>(x, linear3(layer.o, attended)); // [B, T, d]
  const h2 = rmsNorm(x2, layer.postAttentionNorm, cfg.normEps).reshape([b * t, d]) as tf.Tensor2D; // [N, d]
  const { y, g, u } = gatedMlp(h2, layer.gate, layer.up, layer.down); // [N, d], [N, ffn] ×2
  const out = tf.add<tf.Tensor3D>(x2, y.reshape([b, t, d])); // [B, T, d]
  const activations: LayerActivations = { x, x2, q, k: kv.k, v: kv.v, g, u };
  return { out, kv, activations };
}

/** The layer's input gradients from its output's, [B, T, d]: dx, and the past keys'/values' when there is a past. */
function layerBackward(layer: LlamaLayerWeights, cfg: ModelConfig, rope: Rope, bias: tf.Tensor4D, a: LayerActivations, pastLength: number, dOut: tf.Tensor3D): tf.Tensor[] {
  const [b, t, d] = dOut.shape;
  // The MLP's pre-activations as kept, or again from x2: a matmul instead of [N, ffn] kept per layer, for each.
  const h2 = a.g && a.u ? null : rmsNorm(a.x2, layer.postAttentionNorm, cfg.normEps).reshape([b * t, d]) as tf.Tensor2D;
  const g = a.g ?? layer.gate.apply(h2!);
  const u = a.u ?? layer.up.apply(h2!);
  const dh2 = gatedMlpBackward(g, u, dOut.reshape([b * t, d]), layer.gate, layer.up, layer.down).reshape([b, t, d]) as tf.Tensor3D;
  const dx2 = tf.add<tf.Tensor3D>(dOut, rmsNormBackward(a.x2, layer.postAttentionNorm, cfg.normEps, dh2));
  const dAttended = splitHeads(linear3Grad(layer.o, dx2), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
  const { dQ, dK, dV } = attentionBackward(a.q, a.k, a.v, bias, dAttended);
  // Keys and values of the past (a prefix) get their gradients as they are; this call's go back through RoPE and k/v.
  const [dPastK, dKNew] = (pastLength ? tf.split(dK, [pastLength, t], 2) : [null, dK]) as tf.Tensor4D[];
  const [dPastV, dVNew] = (pastLength ? tf.split(dV, [pastLength, t], 2) : [null, dV]) as tf.Tensor4D[];
  const dh1 = tf.addN([
    linear3Grad(layer.q, mergeHeads(ropeBackward(dQ, rope.cos, rope.sin))),
    linear3Grad(layer.k, mergeHeads(ropeBackward(dKNew, rope.cos, rope.sin))),
    linear3Grad(layer.v, mergeHeads(dVNew)),
  ]) as tf.Tensor3D; // [B, T, d]
  const dx = tf.add(dx2, rmsNormBackward(a.x, layer.inputNorm, cfg.normEps, dh1));
  return pastLength ? [dx, dPastK!, dPastV!] : [dx];
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

    if (returnKV || !this.checkpointLayers) {
      let x = inputsEmbeds; // [B, T, d]
      const kv: LayerKV[] = [];
      this.w.layers.forEach((w, i) => {
        // Each layer's scratch is freed as it ends (autodiff keeps what it needs itself).
        const [out, k, v] = tf.tidy(() => {
          const step = layerForward(w, x, cfg, rope, past?.[i], bias);
          return [step.out, step.kv.k, step.kv.v];
        }) as [tf.Tensor3D, tf.Tensor4D, tf.Tensor4D];
        kv.push({ k, v });
        // The stream between layers is ours: free it once the next layer has read it.
        if (x !== inputsEmbeds) x.dispose();
        x = out;
      });
      const hidden = rmsNorm(x, this.w.finalNorm, cfg.normEps);
      return returnKV ? { hidden, kv } : { hidden };
    }
    const x = checkpointedStack(inputsEmbeds, past, {
      numLayers: this.w.layers.length,
      shared: [rope.cos, rope.sin, bias],
      observer: this.layerObserver,
      forward: (i, xi, layerPast) => {
        const { out, activations: a } = layerForward(this.w.layers[i], xi, cfg, rope, layerPast, bias);
        return { out, kept: [a.x, a.x2, a.q, a.k, a.v, ...[a.g!, a.u!].slice(0, mlpKeptInLayer(cfg, this.mlpRecompute, i))] };
      },
      backward: (i, dy, [x0, x2, q, k, v, g, u], [cos, sin, mask], pastLength) => layerBackward(this.w.layers[i], cfg, {
        cos: cos as tf.Tensor4D, sin: sin as tf.Tensor4D,
      }, mask as tf.Tensor4D, {
        x: x0 as tf.Tensor3D, x2: x2 as tf.Tensor3D, q: q as tf.Tensor4D, k: k as tf.Tensor4D, v: v as tf.Tensor4D,
        g: g as tf.Tensor2D | undefined, u: u as tf.Tensor2D | undefined,
      }, pastLength, dy),
    }); // [B, T, d]
    return { hidden: rmsNorm(x, this.w.finalNorm, cfg.normEps) };
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
