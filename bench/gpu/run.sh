#!/usr/bin/env bash
# Measures Prompt Tuning Studio on this machine's GPU from the kit that `npm run bench:gpu-kit`
# builds (bench/gpu/kit, carried by the device tool), in phases, each with its own time limit,
# writing results to $OUT as it goes: a phase that hangs is cut off and the next one runs.
#
#   bash bench/gpu/run.sh [--smoke] [--kit DIR]
#
#   unpack      Node, dawn.node (xz) and the Vulkan loader's .debs into a private folder
#   preflight   glibc/libstdc++, nvidia-smi, the NVIDIA Vulkan ICD and whether its libraries load
#   probe       Dawn's adapter, a 256² matmul against cpu
#   kernels     the int8 kernel checks (tests/kernels) on WebGPU
#   first-loss  the same training run on WebGPU and wasm: losses side by side
#   peft        bench/gpu/peft_check.py: transformers + peft against the studio's probabilities
#   grid        `npm run bench`'s training-step grid, overlap, generation and profile on WebGPU
#   models      real-size layouts (SmolLM2-135M/360M, Qwen2.5-0.5B, GPT-2; random int8 weights made here)
#   wasm        the grid on wasm on the same machine: the reference
#
# $OUT (the device tool's) gets three files, rewritten after every phase: run.log (everything),
# results.json (every phase's figures) and summary.md (the tables). Everything ends within
# GPU_KIT_BUDGET seconds (default 470, unpacking included), however the phases go. The exit
# status is 0 when every phase that ran exited 0.
# --smoke: the same phases at their smallest, on Chromium's SwiftShader driver when no GPU driver
# is found; with a kit built by `npm run bench:gpu-kit -- --local` (CI: npm run bench:gpu-smoke).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KIT=$HERE/kit
SMOKE=0
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) SMOKE=1 ;;
    --kit) KIT=$(cd "$2" && pwd); shift ;;
    *) echo "usage: bash bench/gpu/run.sh [--smoke] [--kit DIR]" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$REPO/bench/results/gpu-kit$([ $SMOKE = 1 ] && echo -smoke)}
mkdir -p "$OUT"
: >"$OUT/run.log"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/studio-gpu-kit.XXXXXX")
RES=$WORK/results
mkdir -p "$RES"
T0=$(date +%s)
BUDGET=${GPU_KIT_BUDGET:-$([ $SMOKE = 1 ] && echo 900 || echo 470)}
SMOKE_FLAG=$([ $SMOKE = 1 ] && echo --smoke)
NODE=
APP=$WORK/app
FAILED=

note() { echo "[$(($(date +%s) - T0))s] $*" | tee -a "$OUT/run.log"; }
report() {
  [ -n "$NODE" ] && [ -f "$APP/bench.mjs" ] && "$NODE" "$APP/bench.mjs" report --results "$RES" --out "$OUT" >>"$OUT/run.log" 2>&1
}
# run_phase NAME LIMIT COMMAND…: at most LIMIT seconds, and never past the budget.
run_phase() {
  local name=$1 limit=$2
  shift 2
  local left=$((BUDGET - ($(date +%s) - T0) - 10))
  if [ "$left" -lt 5 ]; then
    note "phase $name: skipped, the time budget (${BUDGET}s) is spent"
    printf '%s\tskipped\t0\t%s\n' "$name" "$limit" >>"$RES/phases.tsv"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  note "phase $name: up to ${limit}s"
  local start=$(date +%s)
  timeout -k 5 "$limit" "$@" >>"$OUT/run.log" 2>&1
  local rc=$? took=$(($(date +%s) - start))
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    note "phase $name: TIMED OUT after ${took}s (what it measured so far is kept)"
  else
    note "phase $name: exit $rc after ${took}s"
  fi
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$took" "$limit" >>"$RES/phases.tsv"
  [ $rc = 0 ] || FAILED="$FAILED $name"
  report
}
unxz_to() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

note "kit $KIT, results in $OUT, work in $WORK, budget ${BUDGET}s$([ $SMOKE = 1 ] && echo ', smoke')"
[ -f "$KIT/MANIFEST.json" ] || { note "no kit at $KIT: build it with npm run bench:gpu-kit"; exit 1; }

# ---- unpack ----------------------------------------------------------------------------------
cp -r "$KIT/app" "$APP"
unxz_to "$APP/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$APP/node_modules/webgpu/dist/linux-x64/dawn.node"
rm -f "$APP/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
if [ -f "$KIT/node.xz" ]; then
  unxz_to "$KIT/node.xz" "$WORK/node" && chmod +x "$WORK/node" && NODE=$WORK/node
else
  NODE=$(command -v node || true) # a --local kit: this machine's Node
fi
LIBS=
if ls "$KIT"/debs/*.deb >/dev/null 2>&1; then
  for deb in "$KIT"/debs/*.deb; do
    if command -v dpkg >/dev/null 2>&1; then dpkg -x "$deb" "$WORK/sysroot"
    else python3 "$HERE/undeb.py" "$deb" "$WORK/sysroot"; fi
  done
  LIBS=$WORK/sysroot/usr/lib/x86_64-linux-gnu:$WORK/sysroot/lib/x86_64-linux-gnu
fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && LIBS=$LIBS:$d; done
export LD_LIBRARY_PATH=${LIBS#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
note "unpacked: node $("$NODE" --version 2>&1 || echo 'does not run'), $(du -sh "$WORK" | cut -f1) in $WORK"

# The Vulkan driver: NVIDIA's ICD (wherever the driver put it); for a smoke run without one, SwiftShader.
ICD=
for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json \
  /usr/local/nvidia/icd.d/nvidia_icd*.json /usr/local/share/vulkan/icd.d/nvidia_icd*.json; do
  [ -f "$f" ] && { ICD=$f; break; }
done
[ -z "$ICD" ] && ICD=$(timeout 10 find /usr /etc /opt -name 'nvidia_icd*.json' 2>/dev/null | head -1)
[ -z "$ICD" ] && [ $SMOKE = 1 ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ] && ICD=/usr/lib/chromium/vk_swiftshader_icd.json
if [ -n "$ICD" ]; then export VK_DRIVER_FILES=$ICD; note "Vulkan driver: $ICD"; else note "Vulkan driver: none found"; fi
printf 'unpack\t0\t%s\t-\n' "$(($(date +%s) - T0))" >>"$RES/phases.tsv"

# ---- phases ----------------------------------------------------------------------------------
if [ $SMOKE = 1 ]; then L=(30 60 240 240 60 300 240 120); else L=(20 30 60 60 60 120 100 80); fi
run_phase preflight "${L[0]}" python3 "$HERE/preflight.py" "$RES/preflight.txt"
if [ -z "$NODE" ]; then
  note "no Node to run: the WebGPU and wasm phases are skipped"
else
  run_phase probe "${L[1]}" "$NODE" "$APP/bench.mjs" probe --results "$RES" $SMOKE_FLAG
  run_phase kernels "${L[2]}" "$NODE" "$APP/bench.mjs" kernels --results "$RES" $SMOKE_FLAG
  run_phase first-loss "${L[3]}" "$NODE" "$APP/bench.mjs" first-loss --results "$RES" $SMOKE_FLAG
fi
run_phase peft "${L[4]}" env PYTHONUNBUFFERED=1 python3 "$HERE/peft_check.py" --peft "$KIT/peft" --results "$RES/peft.json"
if [ -n "$NODE" ]; then
  run_phase grid "${L[5]}" "$NODE" "$APP/bench.mjs" grid --results "$RES" $SMOKE_FLAG
  run_phase models "${L[6]}" "$NODE" "$APP/bench.mjs" models --results "$RES" $SMOKE_FLAG
  run_phase wasm "${L[7]}" "$NODE" "$APP/bench.mjs" wasm --results "$RES" $SMOKE_FLAG
fi
report
note "done in $(($(date +%s) - T0))s: $OUT/summary.md${FAILED:+; phases that failed:$FAILED}"
rm -rf "$WORK"
[ -z "$FAILED" ]
