#!/usr/bin/env python3
"""The real PEFT check: does Hugging Face transformers + peft, loading the studio's exported base
model and adapter as the adapter's model card says, give the studio's label probabilities?

The kit's peft/ folder (scripts/build-gpu-kit.ts) holds:
  adapter/        the adapter as the page downloads it, unzipped (exported by the CLI); its
                  README.md is the model card, whose Python block this script runs as written
  adapter/<base>/ the base model in Hugging Face layout as the studio exports it ("Download base
                  model": the int8 weights dequantized, F32), unzipped where the card says (its
                  folder named as base_model_name_or_path); base/ instead for a hub id
  expected.json   the check's texts, the studio's probabilities for them (npm run cli -- predict:
                  the int8 model on wasm), the ids the studio scored, the tolerance (1e-3), the
                  tokens the studio writes after each text with the prompt (npm run cli -- generate
                  --adapter: greedy, 8 tokens), and the base models to try, the exported one first

For each base model it tries:
  card     the model card's code, run in the adapter's folder as written (for another base model
           only its `base = …` line changes): its score(text) gives the labels' summed
           log-probabilities; their softmax must equal the studio's to the tolerance
  direct   the same through AutoModelForCausalLM + PeftModel on the studio's own token ids, so a
           tokenizer difference is told apart from a model one; and whether Python's tokenizer
           gives those ids; and PeftModel.generate's greedy tokens beside the studio's (reported,
           not judged: a near-tie between two logits may fall either way in other arithmetic)
with each base model of expected.json's `bases`: the exported one (what a user gets), and
beside it the other form of the same model (the original float weights, or the int8 weights
dequantized here when the export was the float package), which tells the adapter and the
arithmetic apart from what int8 quantization moves.

Usage: peft_check.py --peft DIR [--results FILE.json]
Exit 0 when the exported base model agrees (or when torch/transformers/peft are missing: a
smoke run), 1 otherwise.
"""
import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import traceback

parser = argparse.ArgumentParser()
parser.add_argument("--peft", required=True)
parser.add_argument("--results")
args = parser.parse_args()
peft_dir = os.path.abspath(args.peft)
result = {"variants": [], "started": time.strftime("%Y-%m-%dT%H:%M:%S")}


def save():
    if args.results:
        with open(args.results + ".tmp", "w") as f:
            json.dump(result, f, indent=2)
        os.replace(args.results + ".tmp", args.results)


def softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    s = sum(e)
    return [v / s for v in e]


# ---- the kit's files, checked before anything is imported --------------------------------------
with open(os.path.join(peft_dir, "expected.json")) as f:
    expected = json.load(f)
adapter_dir = os.path.join(peft_dir, expected["adapter"])
DEQUANTIZE = "@dequantized-int8"
bases = [(b["name"], b["folder"] if b["folder"] == DEQUANTIZE else os.path.normpath(os.path.join(peft_dir, b["folder"]))) for b in expected["bases"]]
int8_dir = os.path.normpath(os.path.join(peft_dir, expected["int8Package"]))
tolerance = expected["tolerance"]
problems = []
for folder, files in [(adapter_dir, ["adapter_config.json", "adapter_model.safetensors", "README.md", "studio.json"]),
                      *[(folder, ["config.json", "model.safetensors", "tokenizer.json"]) for _, folder in bases if folder != DEQUANTIZE],
                      (int8_dir, ["config.json", "model.safetensors"])]:
    problems += [os.path.join(folder, f) for f in files if not os.path.exists(os.path.join(folder, f))]
n = len(expected["texts"])
if len(expected["probabilities"]) != n or len(expected["inputIds"]) != n:
    problems.append("expected.json: texts, probabilities and inputIds differ in length")
card_text = open(os.path.join(adapter_dir, "README.md")).read() if os.path.exists(os.path.join(adapter_dir, "README.md")) else ""
blocks = re.findall(r"```python\n(.*?)```", card_text, re.S)
if not blocks:
    problems.append("adapter/README.md has no ```python block")
result["kit"] = {"texts": n, "labels": expected["labels"], "problems": problems}
result["tolerance"] = tolerance
print(f"kit: {n} texts, labels {expected['labels']}, tolerance {tolerance}; {'problems: ' + '; '.join(problems) if problems else 'files complete'}")
if problems:
    result["verdict"] = "FAILED: the kit is incomplete: " + "; ".join(problems)
    save()
    sys.exit(1)

try:
    import torch
    import transformers
    import peft
    from safetensors.torch import load_file, save_file
except ImportError as e:
    result["verdict"] = f"skipped: {e} (torch, transformers, peft and safetensors are needed; the kit's files are complete)"
    print(result["verdict"])
    save()
    sys.exit(0)
result["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}")
torch.manual_seed(0)
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from peft import PeftModel  # noqa: E402


def dequantized_base(work):
    """The studio's int8 package as an F32 Hugging Face checkpoint: each I8 matrix times its per-row scale."""
    with open(os.path.join(int8_dir, "config.json")) as f:
        config = json.load(f)
    quant = config.pop("quantization_config", None) or {}
    suffix = quant.get("scale_suffix", "_scale")
    raw = load_file(os.path.join(int8_dir, "model.safetensors"))
    tensors = {}
    for name, t in raw.items():
        if name.endswith(suffix) and name[: -len(suffix)] in raw:
            continue
        scale = raw.get(name + suffix)
        tensors[name] = (t.to(torch.float32) * scale.to(torch.float32).reshape(-1, *[1] * (t.dim() - 1))).contiguous() if scale is not None else t.to(torch.float32).contiguous()
    os.makedirs(work, exist_ok=True)
    save_file(tensors, os.path.join(work, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for extra in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
        for source in [int8_dir]:
            if os.path.exists(os.path.join(source, extra)):
                shutil.copy(os.path.join(source, extra), os.path.join(work, extra))
                break
    return work


def card_base():
    """The folder (or hub id) the card's `base = …` line names."""
    m = re.search(r"^base = (['\"])(.*?)\1", blocks[0], flags=re.M)
    return m.group(2) if m else None


def card_scores(base):
    """Runs the model card's Python block in the adapter's folder and returns its score(text) for
    every text, as label probabilities. As written where `base` is the folder the card names (unzipped
    into the adapter's folder, as the card says); otherwise only its `base = …` line points at `base`."""
    code = blocks[0]
    named = card_base()
    if not (named and os.path.realpath(os.path.join(adapter_dir, named)) == os.path.realpath(base)):
        code = re.sub(r"^base = .*$", f"base = {base!r}", code, count=1, flags=re.M)
    namespace = {"__name__": "model_card"}
    cwd = os.getcwd()
    os.chdir(adapter_dir)
    try:
        exec(compile(code, "adapter/README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    score = namespace["score"]
    out = []
    for text in expected["texts"]:
        _, scores = score(text)
        out.append(softmax([scores[label] for label in expected["labels"]]))
    return out


def direct_scores(base):
    """AutoModelForCausalLM + PeftModel on the studio's own ids; and Python's tokenizer's ids beside them."""
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base).float(), adapter_dir)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(base)
    probabilities, id_mismatches = [], []
    for text, ids in zip(expected["texts"], expected["inputIds"]):
        hf_ids = tokenizer(expected["template"].replace("{text}", text))["input_ids"]
        if list(hf_ids) != list(ids):
            id_mismatches.append({"text": text, "studio": ids, "python": list(hf_ids)})
        lls = []
        for target in expected["labelIds"]:
            full = torch.tensor([ids + target])
            with torch.no_grad():
                logits = model(input_ids=full).logits
            logprobs = torch.log_softmax(logits[0, -full.shape[1]:].float(), dim=-1)
            lls.append(sum(logprobs[len(ids) - 1 + i, t].item() for i, t in enumerate(target)))
        probabilities.append(softmax(lls))
    return probabilities, id_mismatches, generated_alike(model)


def generated_alike(model):
    """PeftModel.generate, greedy, on the studio's ids: which texts give the studio's tokens."""
    if "generatedIds" not in expected:
        return None
    out = {"same": 0, "of": n, "differences": []}
    try:
        for text, ids, studio in zip(expected["texts"], expected["inputIds"], expected["generatedIds"]):
            with torch.no_grad():
                seq = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                     max_new_tokens=expected["maxNewTokens"], do_sample=False)[0].tolist()
            new = seq[len(ids):] if seq[:len(ids)] == list(ids) else seq  # some versions return only the new tokens
            if new == studio:
                out["same"] += 1
            else:
                out["differences"].append({"text": text, "studio": studio, "python": new})
    except Exception as e:  # reported beside the probabilities, which stand on their own
        out["error"] = f"{type(e).__name__}: {e}"
    return out


def max_diff(got):
    return max(abs(a - b) for row, ref in zip(got, expected["probabilities"]) for a, b in zip(row, ref))


work = tempfile.mkdtemp(prefix="studio-peft-")
for label, where in bases:
    variant = {"base": label}
    result["variants"].append(variant)
    try:
        folder = dequantized_base(os.path.join(work, "int8-dequantized")) if where == DEQUANTIZE else where
        for way, fn in [("card", card_scores), ("direct", direct_scores)]:
            started = time.time()
            try:
                got = fn(folder)
                mismatches = generation = None
                if way == "direct":
                    got, mismatches, generation = got
                d = max_diff(got)
                variant[way] = {"probabilities": got, "maxDiff": d, "ok": d <= tolerance, "seconds": round(time.time() - started, 1)}
                if way == "card":
                    named = card_base()
                    variant[way]["asWritten"] = bool(named) and os.path.realpath(os.path.join(adapter_dir, named)) == os.path.realpath(folder)
                if mismatches is not None:
                    variant[way]["tokenizerMismatches"] = mismatches
                if generation is not None:
                    variant[way]["generation"] = generation
                    print(f"{label}, generate: {generation['same']} of {n} texts give the studio's greedy tokens"
                          + (f" (error: {generation['error']})" if "error" in generation else ""))
                print(f"{label}, {way}: max |p - p(studio)| = {d:.2e} ({'within' if d <= tolerance else 'OVER'} {tolerance})"
                      + (f"; Python's tokenizer gives other ids for {len(mismatches)} of {n} texts" if mismatches else ""))
            except Exception as e:  # report and go on: the other way may still work
                variant[way] = {"error": f"{type(e).__name__}: {e}"}
                print(f"{label}, {way}: ERROR {type(e).__name__}: {e}")
                traceback.print_exc()
            save()
    except Exception as e:
        variant["error"] = f"{type(e).__name__}: {e}"
        print(f"{label}: ERROR {variant['error']}")
        traceback.print_exc()
    variant["maxDiff"] = min([variant[w]["maxDiff"] for w in ("card", "direct") if "maxDiff" in variant.get(w, {})], default=None)
    variant["ok"] = variant.get("card", {}).get("ok", False)
    save()
shutil.rmtree(work, ignore_errors=True)

print("texts and probabilities (labels " + ", ".join(expected["labels"]) + "):")
for i, text in enumerate(expected["texts"]):
    cells = [f"studio {[round(p, 6) for p in expected['probabilities'][i]]}"]
    for v in result["variants"]:
        for way in ("card", "direct"):
            if "probabilities" in v.get(way, {}):
                cells.append(f"{way}/{'exported' if v is result['variants'][0] else 'other'} {[round(p, 6) for p in v[way]['probabilities'][i]]}")
    print(f"  {text!r}: " + "; ".join(cells))

exported, other = result["variants"][0], result["variants"][1:]
if exported.get("ok"):
    result["verdict"] = f"PASSED: the model card's code on {exported['base']} gives the studio's probabilities to {tolerance}."
elif any(v.get("ok") for v in other):
    passed = next(v for v in other if v.get("ok"))
    result["verdict"] = (f"FAILED on {exported['base']} (max |diff| {exported.get('maxDiff')}), PASSED on {passed['base']}: "
                         "the adapter and the card are right; the exported base model is not the model the studio computed with.")
else:
    result["verdict"] = "FAILED: see each variant's errors and differences."
print(result["verdict"])
save()
sys.exit(0 if exported.get("ok") else 1)
