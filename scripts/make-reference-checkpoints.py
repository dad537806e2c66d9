#!/usr/bin/env python3
"""
Small random checkpoints in Hugging Face layout, with reference logits computed here by an
independent numpy implementation of each architecture, for tests/model/architectures.test.ts.

    /usr/bin/python3 scripts/make-reference-checkpoints.py   # numpy only

Writes tests/fixtures/checkpoints/<name>/: config.json (HF field names), tokenizer.json,
model.safetensors (or shards + model.safetensors.index.json) in F32, F16 or BF16, and
reference.json: token sequences, optional prefix keys/values, and the logits for them.

The forward passes below follow transformers' modeling_llama.py, modeling_qwen2.py and
modeling_gpt2.py (eager attention, no dropout), in float64 over the weights as stored (an
F16/BF16 checkpoint is widened first, as `from_pretrained(torch_dtype=float32)` would).
They are written from those files, not from the studio's TypeScript.
"""
import json
import math
import os
import struct

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "checkpoints")

# ---- safetensors --------------------------------------------------------------------------

DTYPE_BYTES = {"F32": 4, "F16": 2, "BF16": 2}


def to_storage(x, dtype):
    """float32 array -> (raw little-endian bytes, the float64 values those bytes hold)."""
    x = np.asarray(x, dtype=np.float32)
    if dtype == "F32":
        return x.astype("<f4").tobytes(), x.astype(np.float64)
    if dtype == "F16":
        h = x.astype("<f2")
        return h.tobytes(), h.astype(np.float64)
    if dtype == "BF16":
        # Round to nearest even on the top 16 bits, as torch's float32 -> bfloat16 does.
        u = x.view(np.uint32).astype(np.uint64)
        rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
        back = (rounded.astype(np.uint32) << 16).view(np.float32)
        return rounded.astype("<u2").tobytes(), back.astype(np.float64)
    raise ValueError(dtype)


def write_safetensors(path, tensors):
    """tensors: name -> (dtype, shape, raw bytes). Header padded to 8 bytes, as the Rust library does."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    order = sorted(tensors)
    for name in order:
        dtype, shape, raw = tensors[name]
        assert len(raw) == int(np.prod(shape)) * DTYPE_BYTES[dtype], name
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(tensors[name][2])


def save_weights(folder, weights, dtype, shards=1):
    """weights: name -> float32 array. Returns name -> float64 array as stored."""
    stored, raw = {}, {}
    for name, w in weights.items():
        raw[name], stored[name] = to_storage(w, dtype)
    names = sorted(weights)
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"),
                          {n: (dtype, weights[n].shape, raw[n]) for n in names})
        return stored
    weight_map = {}
    per = math.ceil(len(names) / shards)
    for s in range(shards):
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = names[s * per:(s + 1) * per]
        write_safetensors(os.path.join(folder, file), {n: (dtype, weights[n].shape, raw[n]) for n in part})
        weight_map.update({n: file for n in part})
    total = sum(len(r) for r in raw.values())
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
        f.write("\n")
    return stored


# ---- tokenizers ---------------------------------------------------------------------------

CORPUS = ("once upon a time there was a little girl named lily . she liked to play in the park "
          "with her dog . one day the dog saw a big red ball and ran to get it . the sun was warm "
          "and the sky was blue . they were happy and played all day .")


def train_bpe(words, alphabet, vocab_size):
    """Plain BPE: merge the most frequent adjacent pair until the vocabulary is full."""
    vocab = list(alphabet)
    merges = []
    seqs = [list(w) for w in words]
    while len(vocab) < vocab_size:
        counts = {}
        for s in seqs:
            for a, b in zip(s, s[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        (a, b), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(f"{a} {b}")
        vocab.append(a + b)
        for s in seqs:
            i = 0
            while i < len(s) - 1:
                if s[i] == a and s[i + 1] == b:
                    s[i:i + 2] = [a + b]
                i += 1
    return vocab, merges


def special(id_, content):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def llama_tokenizer(vocab_size):
    """SentencePiece-style BPE (as Llama 2's tokenizer.json): ▁ marks spaces, <unk> for the rest."""
    specials = ["<unk>", "<s>", "</s>"]
    words = ["\u2581" + w for w in CORPUS.split(" ")]
    alphabet = sorted(set("".join(words)))
    pieces, merges = train_bpe(words, alphabet, vocab_size - len(specials))
    vocab = {t: i for i, t in enumerate(specials + pieces)}
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(i, t) for i, t in enumerate(specials)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    return tok, len(vocab)


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (space is 'Ġ', newline 'Ċ')."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def gpt2_tokenizer(vocab_size):
    """Byte-level BPE like GPT-2's, over the bytes of lowercase text only; <|endoftext|> last."""
    table = bytes_to_unicode()
    words = [("" if i == 0 else " ") + w for i, w in enumerate(CORPUS.split(" "))]
    words = ["".join(table[b] for b in w.encode()) for w in words]
    alphabet = sorted(set("".join(words)) | {table[b] for b in b"abcdefghijklmnopqrstuvwxyz .,!?'\n"})
    pieces, merges = train_bpe(words, alphabet, vocab_size - 1)
    vocab = {t: i for i, t in enumerate(pieces)}
    vocab["<|endoftext|>"] = len(vocab)
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(vocab["<|endoftext|>"], "<|endoftext|>")],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    return tok, len(vocab)


# ---- Llama / Qwen2 (modeling_llama.py, modeling_qwen2.py) ----------------------------------

def rms_norm(x, weight, eps):
    # LlamaRMSNorm: x / sqrt(mean(x²) + eps), then the learned scale.
    return weight * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def rope_inv_freq(cfg):
    hd = cfg["head_dim"]
    inv = 1.0 / (cfg["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.int64).astype(np.float32) / hd))
    inv = inv.astype(np.float64)
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type") == "llama3":
        # _compute_llama3_parameters: long wavelengths divided by factor, short ones kept,
        # the band between interpolated.
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv
        scaled = np.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
        inv = np.where(medium, smoothed, scaled)
    return inv


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def attention(q, k, v, past_len):
    """q [H, T, hd], k/v [Hkv, S, hd] with S = past_len + T; causal over absolute positions."""
    h, t, hd = q.shape
    groups = h // k.shape[0]
    k = np.repeat(k, groups, axis=0)  # repeat_kv: query head i uses key/value head i // groups
    v = np.repeat(v, groups, axis=0)
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd)  # [H, T, S]
    s = k.shape[1]
    visible = np.arange(s)[None, :] <= (past_len + np.arange(t))[:, None]
    scores = np.where(visible[None], scores, -np.inf)
    return softmax(scores) @ v  # [H, T, hd]


def llama_logits(cfg, W, ids, prefix=None):
    """One sequence. prefix: per layer (k, v), each [Hkv, P, hd], already rotated (a cache)."""
    H, Hkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    past = 0 if prefix is None else prefix[0][0].shape[1]
    t = len(ids)
    pos = np.arange(past, past + t)
    freqs = np.outer(pos, rope_inv_freq(cfg))  # [T, hd/2]
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)

    def lin(x, name, bias):
        y = x @ W[name + ".weight"].T  # nn.Linear: weight [out, in]
        return y + W[name + ".bias"] if bias else y

    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    o_bias = cfg["model_type"] == "llama" and cfg.get("attention_bias", False)
    x = W["model.embed_tokens.weight"][ids]  # [T, d]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        h = rms_norm(x, W[p + ".input_layernorm.weight"], eps)
        q = lin(h, p + ".self_attn.q_proj", qkv_bias).reshape(t, H, hd).transpose(1, 0, 2)
        k = lin(h, p + ".self_attn.k_proj", qkv_bias).reshape(t, Hkv, hd).transpose(1, 0, 2)
        v = lin(h, p + ".self_attn.v_proj", qkv_bias).reshape(t, Hkv, hd).transpose(1, 0, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if prefix is not None:
            k = np.concatenate([prefix[i][0], k], axis=1)
            v = np.concatenate([prefix[i][1], v], axis=1)
        a = attention(q, k, v, past).transpose(1, 0, 2).reshape(t, H * hd)
        x = x + lin(a, p + ".self_attn.o_proj", o_bias)
        m = rms_norm(x, W[p + ".post_attention_layernorm.weight"], eps)
        gate = lin(m, p + ".mlp.gate_proj", False)
        x = x + lin(gate / (1 + np.exp(-gate)) * lin(m, p + ".mlp.up_proj", False), p + ".mlp.down_proj", False)
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T  # [T, V]


def llama_weights(rng, cfg, scale):
    d, H, Hkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    ffn, V = cfg["intermediate_size"], cfg["vocab_size"]
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    W = {"model.embed_tokens.weight": rng.normal(0, 1, (V, d)), "model.norm.weight": 1 + 0.1 * rng.normal(size=d)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        W[p + ".input_layernorm.weight"] = 1 + 0.1 * rng.normal(size=d)
        W[p + ".post_attention_layernorm.weight"] = 1 + 0.1 * rng.normal(size=d)
        for name, shape in [("self_attn.q_proj", (H * hd, d)), ("self_attn.k_proj", (Hkv * hd, d)),
                            ("self_attn.v_proj", (Hkv * hd, d)), ("self_attn.o_proj", (d, H * hd)),
                            ("mlp.gate_proj", (ffn, d)), ("mlp.up_proj", (ffn, d)), ("mlp.down_proj", (d, ffn))]:
            W[f"{p}.{name}.weight"] = rng.normal(0, scale / math.sqrt(shape[1]), shape)
        if qkv_bias:
            for name, n in [("q_proj", H * hd), ("k_proj", Hkv * hd), ("v_proj", Hkv * hd)]:
                W[f"{p}.self_attn.{name}.bias"] = rng.normal(0, 0.5, n)
    if not cfg["tie_word_embeddings"]:
        W["lm_head.weight"] = rng.normal(0, 1 / math.sqrt(d), (V, d))
    return {k: np.asarray(v, dtype=np.float32) for k, v in W.items()}


# ---- GPT-2 (modeling_gpt2.py) ------------------------------------------------------------

def layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased, as torch.nn.LayerNorm
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu_new(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def gpt2_logits(cfg, W, ids, prefix=None):
    """Weights under "transformer."; Conv1D weights are [in, out], so y = x @ W + b."""
    d, H = cfg["n_embd"], cfg["n_head"]
    hd = d // H
    eps = cfg["layer_norm_epsilon"]
    past = 0 if prefix is None else prefix[0][0].shape[1]
    t = len(ids)
    pos = np.arange(past, past + t)  # GPT2Model: position_ids start after the past length

    def conv1d(x, name):
        return x @ W[name + ".weight"] + W[name + ".bias"]

    x = W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][pos]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}"
        h = layer_norm(x, W[p + ".ln_1.weight"], W[p + ".ln_1.bias"], eps)
        q, k, v = np.split(conv1d(h, p + ".attn.c_attn"), 3, axis=-1)  # each [T, d]
        q, k, v = (z.reshape(t, H, hd).transpose(1, 0, 2) for z in (q, k, v))
        if prefix is not None:
            k = np.concatenate([prefix[i][0], k], axis=1)
            v = np.concatenate([prefix[i][1], v], axis=1)
        a = attention(q, k, v, past).transpose(1, 0, 2).reshape(t, d)
        x = x + conv1d(a, p + ".attn.c_proj")
        m = layer_norm(x, W[p + ".ln_2.weight"], W[p + ".ln_2.bias"], eps)
        x = x + conv1d(gelu_new(conv1d(m, p + ".mlp.c_fc")), p + ".mlp.c_proj")
    x = layer_norm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], eps)
    return x @ W["transformer.wte.weight"].T  # lm_head is tied to wte


def gpt2_weights(rng, cfg, scale):
    d, V, P = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    ffn = cfg["n_inner"] or 4 * d
    W = {"transformer.wte.weight": rng.normal(0, 1, (V, d)), "transformer.wpe.weight": rng.normal(0, 0.5, (P, d)),
         "transformer.ln_f.weight": 1 + 0.1 * rng.normal(size=d), "transformer.ln_f.bias": 0.1 * rng.normal(size=d)}
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}"
        for ln in ("ln_1", "ln_2"):
            W[f"{p}.{ln}.weight"] = 1 + 0.1 * rng.normal(size=d)
            W[f"{p}.{ln}.bias"] = 0.1 * rng.normal(size=d)
        for name, (nin, nout) in [("attn.c_attn", (d, 3 * d)), ("attn.c_proj", (d, d)),
                                  ("mlp.c_fc", (d, ffn)), ("mlp.c_proj", (ffn, d))]:
            W[f"{p}.{name}.weight"] = rng.normal(0, scale / math.sqrt(nin), (nin, nout))  # Conv1D: [in, out]
            W[f"{p}.{name}.bias"] = rng.normal(0, 0.2, nout)
    return {k: np.asarray(v, dtype=np.float32) for k, v in W.items()}


# ---- the studio's int8 form ---------------------------------------------------------------

def int8_dequantized(W, model_type):
    """
    Every 2-D ".weight" quantized symmetric absmax to int8, one float32 scale per output
    channel: rows of nn.Linear's [out, in] (and of embedding tables), columns of GPT-2's
    Conv1D [in, out]. Returns the dequantized weights the int8 model computes with.
    """
    out = {}
    for name, w in W.items():
        if w.ndim != 2 or not name.endswith(".weight"):
            out[name] = w
            continue
        conv1d = model_type == "gpt2" and any(f".{m}.weight" in name for m in ("c_attn", "c_proj", "c_fc"))
        absmax = np.abs(w).max(axis=0 if conv1d else 1, keepdims=True)
        scale = np.where(absmax > 0, absmax / 127, 1).astype(np.float32).astype(np.float64)
        q = np.clip(np.floor(w * (1 / scale) + 0.5), -127, 127)  # round half up, as Math.round
        out[name] = q * scale
    return out


# ---- the fixtures ------------------------------------------------------------------------

SEQUENCES = [
    [1, 5, 9, 23, 7, 3, 40, 12, 33, 61],
    [1, 50, 11],
    [4],
]


def write_json(path, obj, sort_keys=True):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=sort_keys, ensure_ascii=False)
        f.write("\n")


def round_list(a):
    return [[round(float(v), 5) for v in row] for row in np.asarray(a)]


def make(name, cfg, tokenizer, weights, forward, dtype, shards, kv_heads, head_dim, seed, tokenizer_config=None):
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    cfg = dict(cfg, torch_dtype={"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype])
    write_json(os.path.join(folder, "config.json"), cfg)
    write_json(os.path.join(folder, "tokenizer.json"), tokenizer, sort_keys=False)
    if tokenizer_config:
        write_json(os.path.join(folder, "tokenizer_config.json"), tokenizer_config)
    W = save_weights(folder, weights, dtype, shards)
    rng = np.random.default_rng(seed)
    cases = [{"ids": ids, "logits": round_list(forward(cfg, W, ids))} for ids in SEQUENCES]
    Q = int8_dequantized(W, cfg["model_type"])
    for c in cases[:2]:
        c["int8_logits"] = round_list(forward(cfg, Q, c["ids"]))
    # Prefix tuning / a KV cache: per-layer keys and values placed before the tokens.
    n_layers = cfg.get("num_hidden_layers", cfg.get("n_layer"))
    prefix = [(rng.normal(0, 1, (kv_heads, 3, head_dim)).astype(np.float32).astype(np.float64),
               rng.normal(0, 1, (kv_heads, 3, head_dim)).astype(np.float32).astype(np.float64)) for _ in range(n_layers)]
    ids = SEQUENCES[0][:6]
    cases.append({"ids": ids, "prefix": [{"k": k.tolist(), "v": v.tolist()} for k, v in prefix],
                  "logits": round_list(forward(cfg, W, ids, prefix))})
    with open(os.path.join(folder, "reference.json"), "w") as f:
        # One case per line: the logits are data, not for reading.
        f.write('{"dtype": "%s", "cases": [\n%s\n]}\n' % (dtype, ",\n".join(json.dumps(c, separators=(",", ":")) for c in cases)))
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"{name}: {size} bytes in {len(os.listdir(folder))} files")


def llama_config(model_type, vocab, **extra):
    cfg = {
        "architectures": ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"],
        "model_type": model_type, "hidden_size": 32, "intermediate_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "vocab_size": vocab,
        "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
        "hidden_act": "silu", "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": True,
        "bos_token_id": 1, "eos_token_id": 2, "initializer_range": 0.02,
    }
    cfg.update(extra)
    return cfg


def main():
    tok, vocab = llama_tokenizer(64)
    tok_config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                  "unk_token": "<unk>", "clean_up_tokenization_spaces": False, "tokenizer_class": "LlamaTokenizerFast"}

    # SmolLM-like: tied head, grouped-query attention (4 query heads over 2 key/value heads).
    cfg = llama_config("llama", vocab)
    make("llama", cfg, tok, llama_weights(np.random.default_rng(1), cfg, 1.5), llama_logits, "F32", 1, 2, 8, 11,
         tok_config)

    # Llama-3 style: rope_scaling llama3 with Llama 3's rope_theta 500000 (head_dim 8 gives
    # wavelengths 6.3, 167, 4443 and 118K positions against the band 16..256: one kept, one
    # interpolated, two divided by the factor), an untied head; stored BF16 in two shards.
    cfg = llama_config("llama", vocab, rope_theta=500000.0, tie_word_embeddings=False, eos_token_id=[2, 0],
                       rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                     "high_freq_factor": 16.0, "original_max_position_embeddings": 256})
    make("llama3-untied", cfg, tok, llama_weights(np.random.default_rng(2), cfg, 1.5), llama_logits, "BF16", 2, 2, 8,
         12)

    # Qwen2: q/k/v biases, rope_theta 1e6, stored F16.
    cfg = llama_config("qwen2", vocab, rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
                       use_sliding_window=False, sliding_window=None, max_window_layers=2)
    del cfg["attention_bias"], cfg["mlp_bias"]
    make("qwen2", cfg, tok, llama_weights(np.random.default_rng(3), cfg, 1.5), llama_logits, "F16", 1, 2, 8, 13)

    # GPT-2: learned positions, LayerNorm, gelu_new, Conv1D weights [in, out], tied head.
    gtok, gvocab = gpt2_tokenizer(72)
    cfg = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 32, "n_layer": 2, "n_head": 4,
        "n_inner": 32, "n_positions": 24, "n_ctx": 24, "vocab_size": gvocab, "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5, "bos_token_id": gvocab - 1, "eos_token_id": gvocab - 1,
        "scale_attn_weights": True, "tie_word_embeddings": True,
    }
    make("gpt2", cfg, gtok, gpt2_weights(np.random.default_rng(4), cfg, 1.5), gpt2_logits, "F32", 1, 4, 8, 14)


if __name__ == "__main__":
    main()
