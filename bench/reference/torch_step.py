"""The studio's training step, written independently in PyTorch, for `npm run bench:reference`.

Reads a studio model package (float32 safetensors, or the int8 one with per-channel scales,
which it dequantizes to float32; HF Llama or Qwen2 names) and a batch description
(JSON: token ids, target ids, the soft prompt's initial values), runs prompt tuning steps
(frozen model, prompt-only gradients, AdamW) and prints JSON: the first step's loss and the
median step time. Uses only torch and numpy (Debian: python3-torch).
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[8 + n + begin : 8 + n + end]
        if info["dtype"] == "BF16":  # the top half of a float32: numpy has no bfloat16
            values = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            values = np.frombuffer(raw, dtype={"F32": np.float32, "F16": np.float16, "I8": np.int8}[info["dtype"]])
        out[name] = values.reshape(info["shape"])
    return out


def dequantized(tensors):
    """The studio's int8 weights (I8 values, F32 `<name>_scale` per row, or per column shaped [1, out]) as float32; everything else as stored."""
    out = {}
    for name, values in tensors.items():
        if name.endswith("_scale"):
            continue
        values = values.astype(np.float32)
        scale = tensors.get(name + "_scale")
        if scale is not None:
            values = values * (scale.reshape(-1, 1) if scale.ndim == 1 else scale)
        out[name] = torch.from_numpy(values)
    return out


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def main():
    package, batch_file, threads, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    cfg = json.load(open(f"{package}/config.json"))
    w = dequantized(read_safetensors(f"{package}/model.safetensors"))
    spec = json.load(open(batch_file))
    d, L, H, Hkv = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = d // H
    eps = cfg["rms_norm_eps"]
    ids = torch.tensor(spec["input_ids"], dtype=torch.long)  # [B, S] (BOS + text), equal lengths
    targets = torch.tensor(spec["target_ids"], dtype=torch.long)  # [B]
    prompt = torch.tensor(spec["prompt"], dtype=torch.float32).reshape(spec["virtual_tokens"], d).requires_grad_(True)
    B, S = ids.shape
    P = prompt.shape[0]
    T = P + S + 1
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    mask = torch.full((T, T), float("-inf")).triu(1)
    E = w["model.embed_tokens.weight"]
    head = w.get("lm_head.weight", E)

    def linear(x, name):
        """x·Wᵀ (+ b where the checkpoint has one: Qwen2's q/k/v)."""
        y = x @ w[f"{name}.weight"].T
        bias = w.get(f"{name}.bias")
        return y if bias is None else y + bias

    def rms(x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight

    def loss_fn():
        x = torch.cat([prompt.expand(B, P, d), E[ids], E[targets][:, None]], dim=1)  # [B, T, d]
        for i in range(L):
            p = f"model.layers.{i}"
            h = rms(x, w[f"{p}.input_layernorm.weight"])
            q = linear(h, f"{p}.self_attn.q_proj").view(B, T, H, hd).transpose(1, 2)
            k = linear(h, f"{p}.self_attn.k_proj").view(B, T, Hkv, hd).transpose(1, 2)
            v = linear(h, f"{p}.self_attn.v_proj").view(B, T, Hkv, hd).transpose(1, 2)
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            k = k.repeat_interleave(H // Hkv, dim=1)
            v = v.repeat_interleave(H // Hkv, dim=1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1)
            x = x + (att @ v).transpose(1, 2).reshape(B, T, d) @ w[f"{p}.self_attn.o_proj.weight"].T
            m = rms(x, w[f"{p}.post_attention_layernorm.weight"])
            gate = m @ w[f"{p}.mlp.gate_proj.weight"].T
            x = x + (torch.nn.functional.silu(gate) * (m @ w[f"{p}.mlp.up_proj.weight"].T)) @ w[f"{p}.mlp.down_proj.weight"].T
        hidden = rms(x, w["model.norm.weight"])[:, P + S - 1]  # the position predicting the target
        return torch.nn.functional.cross_entropy(hidden @ head.T, targets)

    optimizer = torch.optim.AdamW([prompt], lr=0.1, weight_decay=0.0)
    times, first_loss = [], None
    for step in range(steps):
        started = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([prompt], 1.0)
        optimizer.step()
        times.append((time.perf_counter() - started) * 1000)
        if first_loss is None:
            first_loss = loss.item()
    steady = sorted(times[1:]) or times
    print(json.dumps({"first_loss": first_loss, "step_ms": steady[len(steady) // 2], "torch": torch.__version__, "threads": threads, "blas": blas_library()}))


def blas_library():
    """The BLAS this PyTorch's matmuls went through (Debian's build links whichever libblas.so.3
    the system's alternatives name: the netlib reference, ~50x slower, unless OpenBLAS is installed)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
    except OSError:
        return "unknown"
    blas = [p for p in paths if "libblas" in p or "mkl_rt" in p]
    if not blas:
        return "its own (no system BLAS)"
    if any("mkl" in p for p in blas):
        return "MKL"
    return "OpenBLAS" if any("openblas" in p for p in blas) else "netlib reference BLAS"

main()
