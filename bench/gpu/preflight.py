#!/usr/bin/env python3
"""Preflight of the GPU kit (bench/gpu/run.sh): what the carried Node and Dawn need, and what
the machine has. Standard library only, a few seconds; never fails the run, only reports.

  glibc and libstdc++     Dawn's dawn.node needs GLIBC 2.34 and GLIBCXX 3.4.30; Node 20, GLIBC 2.28
  nvidia-smi              the GPU, its driver and memory
  Vulkan                  the loader (libvulkan.so.1) loads; the ICD run.sh chose (VK_DRIVER_FILES),
                          its library loads (inside containers NVIDIA's ICD needs the driver's
                          graphics libraries: libGLX_nvidia, libnvidia-glvkspirv)
  Python                  torch, transformers, peft, safetensors versions (for peft_check.py)

Usage: preflight.py OUT.txt   (prints the same lines to stdout)
"""
import ctypes
import glob
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys

lines = []


def say(line=""):
    lines.append(line)
    print(line, flush=True)


def version_tuple(v):
    return tuple(int(x) for x in re.findall(r"\d+", v))


def run(cmd, timeout=15):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return (p.stdout + p.stderr).strip()
    except Exception as e:  # missing tool, timeout
        return f"({cmd[0]}: {e})"


def find_library(name):
    """The path the dynamic linker would load for `name` (ldconfig's cache, LD_LIBRARY_PATH)."""
    for d in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
        if d and os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    out = run(["ldconfig", "-p"])
    for line in out.splitlines():
        if line.strip().startswith(name + " ") and "x86-64" in line:
            return line.split("=>")[-1].strip()
    return None


def try_load(name):
    try:
        ctypes.CDLL(name)
        return "loads"
    except OSError as e:
        return f"does NOT load: {e}"


say(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")

# glibc and libstdc++ -------------------------------------------------------------------
glibc = os.confstr("CS_GNU_LIBC_VERSION") or "unknown"
g = version_tuple(glibc)
say(f"glibc: {glibc} ({'enough' if g >= (2, 34) else 'TOO OLD'} for dawn.node, which needs 2.34; Node 20 needs 2.28)")
stdcxx = find_library("libstdc++.so.6")
if stdcxx:
    with open(os.path.realpath(stdcxx), "rb") as f:
        found = set(re.findall(rb"GLIBCXX_3\.4\.(\d+)", f.read()))
    best = max((int(x) for x in found), default=0)
    say(f"libstdc++: {stdcxx}, up to GLIBCXX_3.4.{best} ({'enough' if best >= 30 else 'TOO OLD'}: dawn.node needs 3.4.30)")
else:
    say("libstdc++: libstdc++.so.6 NOT FOUND (dawn.node needs it, GLIBCXX 3.4.30)")

# The GPU --------------------------------------------------------------------------------
if shutil.which("nvidia-smi"):
    say("nvidia-smi: " + run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,compute_cap", "--format=csv,noheader"]))
else:
    say("nvidia-smi: not on PATH")

# Vulkan ---------------------------------------------------------------------------------
loader = find_library("libvulkan.so.1")
say(f"Vulkan loader: {loader or 'libvulkan.so.1 not found'}; {try_load('libvulkan.so.1')}")
icds = [p for p in os.environ.get("VK_DRIVER_FILES", os.environ.get("VK_ICD_FILENAMES", "")).split(":") if p]
if not icds:
    say("Vulkan driver: none chosen (VK_DRIVER_FILES unset): the loader searches its own folders")
for icd in icds:
    try:
        with open(icd) as f:
            manifest = json.load(f)
        lib = manifest.get("ICD", {}).get("library_path", "?")
        api = manifest.get("ICD", {}).get("api_version", "?")
        target = lib if os.path.isabs(lib) or "/" not in lib else os.path.join(os.path.dirname(icd), lib)
        say(f"Vulkan driver: {icd}: library {lib}, Vulkan {api}; the library {try_load(target)}")
    except Exception as e:
        say(f"Vulkan driver: {icd}: unreadable ({e})")
    if "nvidia" in icd:
        for name in ["libGLX_nvidia.so.0", "libnvidia-glvkspirv.so", "libnvidia-glcore.so", "libnvidia-gpucomp.so"]:
            hits = [p for d in ["/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib64"] for p in glob.glob(os.path.join(d, name + "*"))]
            say(f"  {name}: {', '.join(hits) if hits else 'NOT FOUND'}")
if shutil.which("vulkaninfo"):
    say("vulkaninfo --summary: " + run(["vulkaninfo", "--summary"], timeout=20).replace("\n", "\n  "))

# Python packages for the PEFT check --------------------------------------------------------
versions = []
for name in ["torch", "transformers", "peft", "safetensors", "tokenizers"]:
    try:
        versions.append(f"{name} {importlib.metadata.version(name)}")
    except importlib.metadata.PackageNotFoundError:
        versions.append(f"{name} missing")
say("Python packages: " + ", ".join(versions))
say(f"LD_LIBRARY_PATH: {os.environ.get('LD_LIBRARY_PATH', '')}")

if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as f:
        f.write("\n".join(lines) + "\n")
