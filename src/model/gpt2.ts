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
import {
  activatedMlp, activatedMlpBackward, appendKV, attentionBackward, checkpointedStack, layerNorm, layerNormBackward, linear3, linear3Grad,
  mergeHeads, scaledDotProductAttention, splitHeads, type Activation, type Embedding, type Linear,
} from './layers';
import { mlpKeptInLayer } from './memory';
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

/** GELU activations GPT-2 configs name (the tanh form is what GPT-2 was trained with), with their derivatives. */
export function gpt2Activation(name: string): Activation {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast': {
      // 0.5·x·(1 + tanh u) with u = √(2/π)·(x + 0.044715·x³), written as x·σ(2u) (the same
      // function: 0.5·(1 + tanh u) = σ(2u)). On wasm, tanh and pow are scalar loops about 10×
      // slower than XNNPACK's sigmoid, and were an eighth of a GPT-2 training step.
      const c2 = 2 * Math.sqrt(2 / Math.PI);
      const a = 0.044715;
      const sigmoid2u = (x: tf.Tensor, xx: tf.Tensor) => tf.sigmoid(tf.mul(x, tf.add(c2, tf.mul(c2 * a, xx))));
      return {
        apply: (x) => tf.mul(x, sigmoid2u(x, tf.square(x))),
        // s + x·s·(1 − s)·2u′, s = σ(2u), 2u′ = 2√(2/π)·(1 + 3·0.044715·x²)
        derivative: (x) => {
          const xx = tf.square(x);
          const s = sigmoid2u(x, xx);
          const du2 = tf.add(c2, tf.mul(3 * c2 * a, xx));
          return tf.add(s, tf.mul(tf.mul(x, du2), tf.mul(s, tf.sub(1, s))));
        },
      };
    }
    case 'gelu':
      // 0.5·x·(1 + erf(x/√2)); derivative 0.5·(1 + erf(x/√2)) + x·exp(−x²/2)/√(2π)
      return {
        apply: (x) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
        derivative: (x) => tf.add(
          tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
          tf.mul(x, tf.mul(1 / Math.sqrt(2 * Math.PI), tf.exp(tf.mul(-0.5, tf.square(x))))),
        ),
      };
    case 'relu':
      return { apply: (x) => tf.relu(x), derivative: (x) => tf.step(x) };
    default:
      throw new StudioError('model', `config.json: GPT-2 activation_function "${name}" is not supported.`,
        'Supported: gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, relu.');
  }
}

/** What one layer's backward reads: its input, the stream after attention, q/k/v (k, v with the past), the MLP's pre-activation. */
interface LayerActivations {
  x: tf.Tensor3D; // [B, T, d]
  x2: tf.Tensor3D; // [B, T, d]
  q: tf.Tensor4D; // [B, H, T, hd]
  k: tf.Tensor4D; // [B, H, S, hd]
  v: tf.Tensor4D; // [B, H, S, hd]
  /** Absent when the backward recomputes it from x2 (DecoderLM.mlpRecompute reaches this layer). */
  z?: tf.Tensor2D; // [N, ffn]
}

/**
 * LayerNorm → q, k, v → attention over the past and this call → c_proj → residual →
 * LayerNorm → c_fc → GELU → c_proj → residual: [B, T, d] → [B, T, d], the keys/values it
 * attended, and the activations its backward reads.
 */
function layerForward(layer: Gpt2LayerWeights, x: tf.Tensor3D, cfg: ModelConfig, act: Activation, past: LayerKV | undefined, bias: tf.Tensor4D) {
  const [b, t, d] = x.shape;
  const h1 = layerNorm(x, layer.ln1.weight, layer.ln1.bias, cfg.normEps);
  const q = splitHeads(linear3(layer.q, h1), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
  const k = splitHeads(linear3(layer.k, h1), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
  const v = splitHeads(linear3(layer.v, h1), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
  const kv = appendKV(past, k, v); // [B, H, S, hd]
  const attended = mergeHeads(scaledDotProductAttention(q, kv.k, kv.v, bias)); // [B, T, d]
  const x2 = tf.add<tf.Tensor3D>(x, linear3(layer.attnProj, attended)); // [B, T, d]
  const h2 = layerNorm(x2, layer.ln2.weight, layer.ln2.bias, cfg.normEps).reshape([b * t, d]) as tf.Tensor2D; // [N, d]
  const { y, z } = activatedMlp(h2, layer.fc, act, layer.mlpProj); // [N, d], [N, ffn]
  const out = tf.add<tf.Tensor3D>(x2, y.reshape([b, t, d])); // [B, T, d]
  const activations: LayerActivations = { x, x2, q, k: kv.k, v: kv.v, z };
  return { out, kv, activations };
}

/** The layer's input gradients from its output's, [B, T, d]: dx, and the past keys'/values' when there is a past. */
function layerBackward(layer: Gpt2LayerWeights, cfg: ModelConfig, act: Activation, bias: tf.Tensor4D, a: LayerActivations, pastLength: number, dOut: tf.Tensor3D): tf.Tensor[] {
  const [b, t, d] = dOut.shape;
  // The MLP's pre-activation as kept, or again from x2: one matmul instead of [N, ffn] kept per layer.
  const z = a.z ?? layer.fc.apply(layerNorm(a.x2, layer.ln2.weight, layer.ln2.bias, cfg.normEps).reshape([b * t, d]) as tf.Tensor2D);
  const dh2 = activatedMlpBackward(z, dOut.reshape([b * t, d]), layer.fc, act, layer.mlpProj).reshape([b, t, d]) as tf.Tensor3D;
  const dx2 = tf.add<tf.Tensor3D>(dOut, layerNormBackward(a.x2, layer.ln2.weight, cfg.normEps, dh2));
  const dAttended = splitHeads(linear3Grad(layer.attnProj, dx2), cfg.numHeads, cfg.headDim); // [B, H, T, hd]
  const { dQ, dK, dV } = attentionBackward(a.q, a.k, a.v, bias, dAttended);
  const [dPastK, dKNew] = (pastLength ? tf.split(dK, [pastLength, t], 2) : [null, dK]) as tf.Tensor4D[];
  const [dPastV, dVNew] = (pastLength ? tf.split(dV, [pastLength, t], 2) : [null, dV]) as tf.Tensor4D[];
  const dh1 = tf.addN([
    linear3Grad(layer.q, mergeHeads(dQ)),
    linear3Grad(layer.k, mergeHeads(dKNew)),
    linear3Grad(layer.v, mergeHeads(dVNew)),
  ]) as tf.Tensor3D; // [B, T, d]
  const dx = tf.add(dx2, layerNormBackward(a.x, layer.ln1.weight, cfg.normEps, dh1));
  return pastLength ? [dx, dPastK, dPastV] : [dx];
}

export class Gpt2Model extends DecoderLM {
  private readonly act: Activation;

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
    if (returnKV || !this.checkpointLayers) {
      const kv: LayerKV[] = [];
      this.w.layers.forEach((w, i) => {
        // Each layer's scratch is freed as it ends (autodiff keeps what it needs itself).
        const [out, k, v] = tf.tidy(() => {
          const step = layerForward(w, x, cfg, this.act, past?.[i], bias);
          return [step.out, step.kv.k, step.kv.v];
        }) as [tf.Tensor3D, tf.Tensor4D, tf.Tensor4D];
        kv.push({ k, v });
        // The stream between layers is ours: free it once the next layer has read it.
        if (x !== inputsEmbeds) x.dispose();
        x = out;
      });
      const hidden = layerNorm(x, this.w.lnF.weight, this.w.lnF.bias, cfg.normEps);
      return returnKV ? { hidden, kv } : { hidden };
    }
    x = checkpointedStack(x, past, {
      numLayers: this.w.layers.length,
      shared: [bias],
      observer: this.layerObserver,
      forward: (i, xi, layerPast) => {
        const { out, activations: a } = layerForward(this.w.layers[i], xi, cfg, this.act, layerPast, bias);
        return { out, kept: [a.x, a.x2, a.q, a.k, a.v, ...[a.z!].slice(0, mlpKeptInLayer(cfg, this.mlpRecompute, i))] };
      },
      backward: (i, dy, [x0, x2, q, k, v, z], [mask], pastLength) => layerBackward(this.w.layers[i], cfg, this.act, mask as tf.Tensor4D, {
        x: x0 as tf.Tensor3D, x2: x2 as tf.Tensor3D, q: q as tf.Tensor4D, k: k as tf.Tensor4D, v: v as tf.Tensor4D, z: z as tf.Tensor2D | undefined,
      }, pastLength, dy),
    }); // [B, T, d]
    return { hidden: layerNorm(x, this.w.lnF.weight, this.w.lnF.bias, cfg.normEps) };
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
