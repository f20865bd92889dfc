#!/usr/bin/env bash
# GPU smoke check, for a machine with an NVIDIA GPU: builds the benchmarks against the CUDA libtorch package
# (-p:TorchBackend=cuda), trains EfficientNet-B0 at 128 px for 50 steps on cuda, checks that every parameter
# and batch is on the device, and prints img/s and the peak GPU memory (nvidia-smi, sampled every 200 ms:
# TorchSharp 0.107 exposes no CUDA memory statistics). Without a CUDA device it prints
# "skipped: no CUDA device" and exits 0. Usage: tests/gpu/smoke.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  echo "skipped: no CUDA device (no nvidia-smi, or it lists no GPU)"
  exit 0
fi
nvidia-smi -L
out=artifacts/gpu-smoke
dotnet build -c Release tests/HappyWhale.Benchmarks -p:TorchBackend=cuda -o "$out/bin" -nologo -v q
source build/runtime_env.sh
samples="$out/memory.csv"
: > "$samples"
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 -i 0 >> "$samples" & sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
set +e
with_runtime_env dotnet "$out/bin/HappyWhale.Benchmarks.dll" gpu-smoke
code=$?
set -e
kill $sampler 2>/dev/null || true
peak=$(sort -n "$samples" | tail -1)
echo "peak GPU memory used (nvidia-smi, whole device): ${peak:-?} MiB"
case $code in
  0) echo "gpu smoke: passed" ;;
  3) echo "skipped: no CUDA device visible to libtorch"; exit 0 ;;
  *) echo "gpu smoke: FAILED"; exit 1 ;;
esac
