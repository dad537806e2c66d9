/**
 * llama2.c's legacy (v0) checkpoint → Hugging Face Llama tensors and config.json.
 *
 * Layout (run.c, `read_checkpoint`): seven int32 (dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size, seq_len; a negative vocab_size means the classifier is a separate
 * matrix), then float32 arrays in this order: token_embedding [V,d], rms_att [L,d],
 * wq [L,d,d], wk [L,kv,d], wv [L,kv,d], wo [L,d,d], rms_ffn [L,d], w1 [L,h,d], w2 [L,d,h],
 * w3 [L,h,d], rms_final [d], freq_cis_real and freq_cis_imag [seq, head/2] (unused: we
 * recompute RoPE), then wcls [V,d] when not shared. Every matrix is [out, in] row-major,
 * the same as torch's nn.Linear weight.
 */
import { StudioError } from '../../src/errors';

export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  vocabSize: number;
  seqLen: number;
  sharedClassifier: boolean;
}

export interface ConvertedCheckpoint {
  header: Llama2cHeader;
  /** HF Llama config.json fields. */
  config: Record<string, unknown>;
  /** HF tensor name → [shape, float32 values]. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export function readLlama2cHeader(bytes: Uint8Array): Llama2cHeader {
  if (bytes.byteLength < 28) throw new StudioError('model', 'The llama2.c checkpoint is shorter than its 28-byte header.');
  const v = new DataView(bytes.buffer, bytes.byteOffset, 28);
  const at = (i: number) => v.getInt32(i * 4, true);
  const vocab = at(5);
  return {
    dim: at(0), hiddenDim: at(1), numLayers: at(2), numHeads: at(3), numKvHeads: at(4),
    vocabSize: Math.abs(vocab), seqLen: at(6), sharedClassifier: vocab > 0,
  };
}

/**
 * llama2.c (like Meta's original code) rotates adjacent pairs (2i, 2i+1) of each head's
 * dimensions; Hugging Face's Llama rotates the two halves (i, i + head/2). Permuting each
 * head's rows of wq and wk so that old row 2i+j becomes new row j*half+i makes the HF
 * rotation compute exactly what llama2.c computes (this is the `permute` of HF's
 * convert_llama_weights_to_hf.py).
 */
export function permuteForHalfRotation(w: Float32Array, numHeads: number, rows: number, cols: number): Float32Array {
  const headDim = rows / numHeads;
  const half = headDim / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < numHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * headDim + 2 * i + j) * cols;
        const to = (h * headDim + j * half + i) * cols;
        out.set(w.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

export function convertLlama2c(bytes: Uint8Array): ConvertedCheckpoint {
  const header = readLlama2cHeader(bytes);
  const { dim, hiddenDim, numLayers: L, numHeads, numKvHeads, vocabSize: V, seqLen } = header;
  if ([dim, hiddenDim, L, numHeads, numKvHeads, V, seqLen].some((x) => !(x > 0)) || dim % numHeads !== 0) {
    throw new StudioError('model', 'This file does not look like a llama2.c checkpoint: its header has impossible sizes.');
  }
  const headDim = dim / numHeads;
  const kvDim = headDim * numKvHeads;
  const sizes = {
    embed: V * dim, rmsAtt: L * dim, wq: L * dim * dim, wk: L * kvDim * dim, wv: L * kvDim * dim,
    wo: L * dim * dim, rmsFfn: L * dim, w1: L * hiddenDim * dim, w2: L * dim * hiddenDim,
    w3: L * hiddenDim * dim, rmsFinal: dim, freqs: seqLen * headDim,
  };
  const floats = Object.values(sizes).reduce((a, b) => a + b, 0) + (header.sharedClassifier ? 0 : V * dim);
  if (bytes.byteLength !== 28 + floats * 4) {
    throw new StudioError('model',
      `The llama2.c checkpoint has ${bytes.byteLength} bytes; its header implies ${28 + floats * 4}. It is truncated or not a v0 checkpoint.`);
  }
  // Copy so the floats are 4-byte aligned whatever the source buffer's offset.
  const all = new Float32Array(floats);
  new Uint8Array(all.buffer).set(bytes.subarray(28, 28 + floats * 4));
  let cursor = 0;
  const take = (n: number) => all.subarray(cursor, (cursor += n));

  const embed = take(sizes.embed);
  const rmsAtt = take(sizes.rmsAtt);
  const wq = take(sizes.wq);
  const wk = take(sizes.wk);
  const wv = take(sizes.wv);
  const wo = take(sizes.wo);
  const rmsFfn = take(sizes.rmsFfn);
  const w1 = take(sizes.w1);
  const w2 = take(sizes.w2);
  const w3 = take(sizes.w3);
  const rmsFinal = take(sizes.rmsFinal);
  take(sizes.freqs);
  const wcls = header.sharedClassifier ? null : take(V * dim);

  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const put = (name: string, shape: number[], data: Float32Array) => tensors.set(name, { shape, data: data.slice() });
  put('model.embed_tokens.weight', [V, dim], embed);
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const layer = (src: Float32Array, n: number) => src.subarray(l * n, (l + 1) * n);
    put(`${p}.input_layernorm.weight`, [dim], layer(rmsAtt, dim));
    put(`${p}.self_attn.q_proj.weight`, [dim, dim], permuteForHalfRotation(layer(wq, dim * dim), numHeads, dim, dim));
    put(`${p}.self_attn.k_proj.weight`, [kvDim, dim], permuteForHalfRotation(layer(wk, kvDim * dim), numKvHeads, kvDim, dim));
    put(`${p}.self_attn.v_proj.weight`, [kvDim, dim], layer(wv, kvDim * dim));
    put(`${p}.self_attn.o_proj.weight`, [dim, dim], layer(wo, dim * dim));
    put(`${p}.post_attention_layernorm.weight`, [dim], layer(rmsFfn, dim));
    put(`${p}.mlp.gate_proj.weight`, [hiddenDim, dim], layer(w1, hiddenDim * dim));
    put(`${p}.mlp.down_proj.weight`, [dim, hiddenDim], layer(w2, dim * hiddenDim));
    put(`${p}.mlp.up_proj.weight`, [hiddenDim, dim], layer(w3, hiddenDim * dim));
  }
  put('model.norm.weight', [dim], rmsFinal);
  if (wcls) put('lm_head.weight', [V, dim], wcls);

  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: dim,
    intermediate_size: hiddenDim,
    num_hidden_layers: L,
    num_attention_heads: numHeads,
    num_key_value_heads: numKvHeads,
    head_dim: headDim,
    vocab_size: V,
    max_position_embeddings: seqLen,
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    tie_word_embeddings: header.sharedClassifier,
    hidden_act: 'silu',
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'float32',
  };
  return { header, config, tensors };
}
