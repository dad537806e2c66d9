#!/usr/bin/env python3
"""
The numpy reference for the real-size checkpoints of scripts/make-real-size-checkpoints.ts:

    python3 scripts/real-size-reference.py [--out .cache/real-size] [--model smollm2-135m,smollm2-360m,qwen2.5-0.5b,gpt2] [--force]

For each checkpoint folder it writes reference.json beside the weights:
- `logits`: the forward logits (every vocabulary entry) at a few positions of a short token
  sequence, from the weights as stored (BF16/F16/F32 widened exactly, computed in float64);
- `int8_logits`: the same with every weight matrix quantized as the studio quantizes on load
  (src/model/quantize.ts: symmetric absmax int8, one float32 scale per output channel, values
  rounded half up; rows of nn.Linear [out, in] and of embedding tables, columns of GPT-2's
  Conv1D [in, out]) — what the studio computes with;
- `train`: one prompt-tuning example (2 virtual-token vectors, 8 input ids, a target id) and
  its loss, -log p(target | prompt, ids), float and int8: the studio's first training loss
  when its prompt is set to these vectors.

numpy only. The safetensors files are read here with a small reader of their own (memory-mapped,
a tensor at a time), and the forward passes are those of scripts/make-reference-checkpoints.py
(written from transformers' modeling_llama.py, modeling_qwen2.py and modeling_gpt2.py, not from
the studio's TypeScript), run layer by layer so only one layer's weights are widened at once.
A checkpoint whose reference.json already matches its real-size.json is skipped.
"""
import argparse
import importlib.util
import json
import math
import os
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")

_spec = importlib.util.spec_from_file_location("reference_checkpoints", os.path.join(HERE, "make-reference-checkpoints.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

REFERENCE_VERSION = 1
POSITIONS = [0, 3, 7]
SEQUENCE_LENGTH = 8
VIRTUAL_TOKENS = 2


# ---- safetensors ----------------------------------------------------------------------------

class Checkpoint:
    """Tensors by name over one model.safetensors or the shards of model.safetensors.index.json."""

    def __init__(self, folder):
        index = os.path.join(folder, "model.safetensors.index.json")
        if os.path.exists(os.path.join(folder, "model.safetensors")):
            files = ["model.safetensors"]
        else:
            with open(index) as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        self.entries = {}
        for file in files:
            path = os.path.join(folder, file)
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(n))
            data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
            for name, info in header.items():
                if name != "__metadata__":
                    self.entries[name] = (info["dtype"], info["shape"], data, info["data_offsets"])

    def names(self):
        return list(self.entries)

    def shape(self, name):
        return self.entries[name][1]

    def get(self, name, rows=None):
        """float64 values as stored; `rows` (a slice or index array) reads only those rows of a 2-D tensor."""
        dtype, shape, data, (begin, end) = self.entries[name]
        width = {"F32": 4, "F16": 2, "BF16": 2}[dtype]
        raw = data[begin:end]
        kind = {"F32": "<f4", "F16": "<f2", "BF16": "<u2"}[dtype]
        values = raw.view(kind).reshape(shape)
        if rows is not None:
            values = values[rows]
        values = np.array(values)  # off the memory map
        assert values.dtype.itemsize == width
        if dtype == "BF16":
            values = (values.astype(np.uint32) << 16).view(np.float32)
        return values.astype(np.float64)


# ---- the studio's int8 ---------------------------------------------------------------------

def quantize_rows(w):
    """w [rows, cols] (float32 values in float64) → the dequantized int8 matrix, as quantize.ts computes it."""
    absmax = np.abs(w).max(axis=1, keepdims=True)
    scale = np.where(absmax > 0, absmax / 127, 1).astype(np.float32).astype(np.float64)
    q = np.clip(np.floor(w * (1 / scale) + 0.5), -127, 127)  # Math.round: half up
    return q * scale


def quantize_columns(w):
    """GPT-2 Conv1D [in, out]: one scale per output column."""
    return quantize_rows(w.T).T


# ---- forward passes, layer by layer, over several streams at once ----------------------------

class Stream:
    """One sequence through the model: float or int8 weights, optional prompt vectors before the ids."""

    def __init__(self, int8, ids, prompt=None):
        self.int8, self.ids, self.prompt = int8, list(ids), prompt
        self.x = None


def embed_rows(ck, name, ids, int8):
    """Rows of an embedding table for `ids` (int8: each row quantized on its own, as per-row scales allow)."""
    rows = ck.get(name, rows=np.asarray(ids))
    return quantize_rows(rows) if int8 else rows


def head_logits(ck, name, hidden, int8, chunk=16384):
    """hidden [N, d] @ table.T, [V, d] read a block of rows at a time."""
    vocab = ck.shape(name)[0]
    out = np.empty((hidden.shape[0], vocab))
    for start in range(0, vocab, chunk):
        block = ck.get(name, rows=slice(start, min(vocab, start + chunk)))
        if int8:
            block = quantize_rows(block)
        out[:, start:start + block.shape[0]] = hidden @ block.T
    return out


def llama_forward(cfg, ck, streams):
    """modeling_llama.py / modeling_qwen2.py, eager attention; returns each stream's final normed hidden [T, d]."""
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    cfg = dict(cfg, head_dim=hd)
    eps = cfg["rms_norm_eps"]
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    inv = ref.rope_inv_freq(cfg)
    for s in streams:
        x = embed_rows(ck, "model.embed_tokens.weight", s.ids, s.int8)
        s.x = x if s.prompt is None else np.concatenate([s.prompt, x], axis=0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        W = {}
        for m in ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]:
            w = ck.get(f"{p}.{m}.weight")
            W[m] = {False: w, True: quantize_rows(w) if any(s.int8 for s in streams) else None}
        bias = {m: ck.get(f"{p}.self_attn.{m}.bias") for m in ["q_proj", "k_proj", "v_proj"]} if qkv_bias else {}
        ln1, ln2 = ck.get(f"{p}.input_layernorm.weight"), ck.get(f"{p}.post_attention_layernorm.weight")
        for s in streams:
            x = s.x
            t = x.shape[0]
            freqs = np.outer(np.arange(t), inv)
            emb = np.concatenate([freqs, freqs], axis=-1)
            cos, sin = np.cos(emb), np.sin(emb)

            def lin(h, m):
                y = h @ W[m][s.int8].T
                short = m.split(".")[1]
                return y + bias[short] if m.startswith("self_attn") and short in bias else y

            h = ref.rms_norm(x, ln1, eps)
            q = lin(h, "self_attn.q_proj").reshape(t, H, hd).transpose(1, 0, 2)
            k = lin(h, "self_attn.k_proj").reshape(t, Hkv, hd).transpose(1, 0, 2)
            v = lin(h, "self_attn.v_proj").reshape(t, Hkv, hd).transpose(1, 0, 2)
            q = q * cos + ref.rotate_half(q) * sin
            k = k * cos + ref.rotate_half(k) * sin
            a = ref.attention(q, k, v, 0).transpose(1, 0, 2).reshape(t, H * hd)
            x = x + lin(a, "self_attn.o_proj")
            m = ref.rms_norm(x, ln2, eps)
            gate = lin(m, "mlp.gate_proj")
            s.x = x + lin(gate / (1 + np.exp(-gate)) * lin(m, "mlp.up_proj"), "mlp.down_proj")
        del W
    norm = ck.get("model.norm.weight")
    head = "model.embed_tokens.weight" if cfg.get("tie_word_embeddings") else "lm_head.weight"
    return [ref.rms_norm(s.x, norm, eps) for s in streams], head


def gpt2_names(ck):
    """The checkpoint's prefix: "" in the hub's original layout, "transformer." as save_pretrained writes it now."""
    return "transformer." if "transformer.wte.weight" in ck.entries else ""


def gpt2_forward(cfg, ck, streams):
    """modeling_gpt2.py: learned positions (added to prompt vectors too, as for any inputs_embeds), LayerNorm, gelu_new."""
    d, H = cfg["n_embd"], cfg["n_head"]
    hd = d // H
    eps = cfg["layer_norm_epsilon"]
    pre = gpt2_names(ck)
    for s in streams:
        x = embed_rows(ck, pre + "wte.weight", s.ids, s.int8)
        if s.prompt is not None:
            x = np.concatenate([s.prompt, x], axis=0)
        s.x = x + embed_rows(ck, pre + "wpe.weight", np.arange(x.shape[0]), s.int8)
    for i in range(cfg["n_layer"]):
        p = f"{pre}h.{i}"
        W, B = {}, {}
        for m in ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]:
            w = ck.get(f"{p}.{m}.weight")
            W[m] = {False: w, True: quantize_columns(w) if any(s.int8 for s in streams) else None}
            B[m] = ck.get(f"{p}.{m}.bias")
        ln = {n: (ck.get(f"{p}.{n}.weight"), ck.get(f"{p}.{n}.bias")) for n in ["ln_1", "ln_2"]}
        for s in streams:
            x = s.x
            t = x.shape[0]

            def conv1d(h, m):
                return h @ W[m][s.int8] + B[m]

            h = ref.layer_norm(x, *ln["ln_1"], eps)
            q, k, v = np.split(conv1d(h, "attn.c_attn"), 3, axis=-1)
            q, k, v = (z.reshape(t, H, hd).transpose(1, 0, 2) for z in (q, k, v))
            a = ref.attention(q, k, v, 0).transpose(1, 0, 2).reshape(t, d)
            x = x + conv1d(a, "attn.c_proj")
            m = ref.layer_norm(x, *ln["ln_2"], eps)
            s.x = x + conv1d(ref.gelu_new(conv1d(m, "mlp.c_fc")), "mlp.c_proj")
        del W
    lnf = (ck.get(pre + "ln_f.weight"), ck.get(pre + "ln_f.bias"))
    return [ref.layer_norm(s.x, *lnf, eps) for s in streams], pre + "wte.weight"


# ---- the reference file ----------------------------------------------------------------------

def round_rows(a, digits=6):
    return [[round(float(v), digits) for v in row] for row in np.asarray(a)]


def compute(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    ck = Checkpoint(folder)
    gpt2 = cfg["model_type"] == "gpt2"
    vocab = cfg["vocab_size"]
    d = cfg["n_embd"] if gpt2 else cfg["hidden_size"]
    rng = np.random.default_rng(2024)
    # The first and last rows of the embedding table, and ids spread over it.
    ids = [0, vocab - 1] + [int(i) for i in rng.integers(1, vocab - 1, SEQUENCE_LENGTH - 2)]
    train_ids = [int(i) for i in rng.integers(0, vocab, SEQUENCE_LENGTH)]
    target = int(rng.integers(0, vocab))
    # float32 values, as the studio's prompt variable holds them
    prompt = rng.uniform(-0.5, 0.5, (VIRTUAL_TOKENS, d)).astype(np.float32).astype(np.float64)

    streams = [Stream(False, ids), Stream(True, ids), Stream(False, train_ids, prompt), Stream(True, train_ids, prompt)]
    hidden, head = (gpt2_forward if gpt2 else llama_forward)(cfg, ck, streams)
    out = {}
    for s, h in zip(streams, hidden):
        if s.prompt is None:
            out["int8_logits" if s.int8 else "logits"] = head_logits(ck, head, h[POSITIONS], s.int8)
        else:
            z = head_logits(ck, head, h[-1:], s.int8)[0]  # the last input position predicts the target
            z = z - z.max()
            out["int8_loss" if s.int8 else "loss"] = float(np.log(np.exp(z).sum()) - z[target])
    return {
        "ids": ids, "positions": POSITIONS,
        "logits": out["logits"], "int8_logits": out["int8_logits"],
        "train": {"input_ids": train_ids, "target": target, "prompt": prompt.tolist(), "loss": out["loss"], "int8_loss": out["int8_loss"]},
    }


def write(folder, stamp, result, seconds):
    meta = {"version": REFERENCE_VERSION, "stamp": {k: stamp[k] for k in ("generator", "model", "dtype", "seed", "maxShardBytes")},
            "seconds": round(seconds, 1)}
    lines = [
        '"meta": ' + json.dumps(meta, sort_keys=True),
        '"ids": ' + json.dumps(result["ids"]),
        '"positions": ' + json.dumps(result["positions"]),
        '"train": ' + json.dumps(result["train"]),
        '"logits": ' + json.dumps(round_rows(result["logits"]), separators=(",", ":")),
        '"int8_logits": ' + json.dumps(round_rows(result["int8_logits"]), separators=(",", ":")),
    ]
    tmp = os.path.join(folder, "reference.json.tmp")
    with open(tmp, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    os.replace(tmp, os.path.join(folder, "reference.json"))


def up_to_date(folder, stamp):
    path = os.path.join(folder, "reference.json")
    if not os.path.exists(path):
        return False
    try:
        with open(path) as f:
            meta = json.loads(f.readline() and f.readline().rstrip().rstrip(",").split(": ", 1)[1])
    except (ValueError, IndexError):
        return False
    return meta.get("version") == REFERENCE_VERSION and all(meta["stamp"].get(k) == stamp[k] for k in meta["stamp"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, ".cache", "real-size"))
    parser.add_argument("--model", default="smollm2-135m,smollm2-360m,qwen2.5-0.5b,gpt2")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    for name in [n for n in args.model.split(",") if n]:
        folder = os.path.join(args.out, name)
        stamp_file = os.path.join(folder, "real-size.json")
        if not os.path.exists(stamp_file):
            print(f"{name}: no checkpoint in {folder} (npm run real-size -- --model {name})", file=sys.stderr)
            sys.exit(1)
        with open(stamp_file) as f:
            stamp = json.load(f)
        if not args.force and up_to_date(folder, stamp):
            print(f"{name}: reference up to date")
            continue
        started = time.time()
        result = compute(folder)
        seconds = time.time() - started
        write(folder, stamp, result, seconds)
        print(f"{name}: numpy reference ({len(result['positions'])} positions x {len(result['logits'][0])} logits, float and int8; "
              f"training loss {result['train']['int8_loss']:.6f} int8) in {seconds:.1f} s")


if __name__ == "__main__":
    main()
