#!/usr/bin/env bash
# One AdamW step on EfficientNet-B0's parameters (with a 64-class head): TorchSharp's AdamW, LeanAdamW and PyTorch's
# AdamW (Debian's python3-torch, 1.13's default per-tensor loop) on the same tensor shapes, one after the other.
# Usage: tests/HappyWhale.Benchmarks/bench_optimizer.sh   (SKIP_BUILD=1 reuses the build). Measure alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
source tests/HappyWhale.Benchmarks/peer_env.sh
source build/runtime_env.sh
if [[ "${SKIP_BUILD:-}" != 1 ]]; then dotnet build -c Release tests/HappyWhale.Benchmarks -nologo -v q; fi
ensure_peer_packages python3-torch python3-numpy libopenblas0-pthread python3-threadpoolctl libjemalloc2
shapes="$(mktemp --suffix=.json)"
trap 'rm -f "$shapes"' EXIT
with_runtime_env dotnet tests/HappyWhale.Benchmarks/bin/Release/net10.0/HappyWhale.Benchmarks.dll optimizer-step "$shapes"
with_runtime_env peer_env "$(openblas_coretype)" /usr/bin/python3 tests/HappyWhale.Benchmarks/optimizer_peer.py "$shapes"
