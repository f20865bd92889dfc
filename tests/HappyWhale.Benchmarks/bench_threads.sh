#!/usr/bin/env bash
# How libtorch's OpenMP threads should wait, measured: training img/s of the omniglot row of bench_train.sh
# (ResNet-18 32 px, batch 64) under each setting, idle and with one `yes >/dev/null` busy process.
# Usage: tests/HappyWhale.Benchmarks/bench_threads.sh   (SKIP_BUILD=1 reuses the build). Measure alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="artifacts/bench/threads"
mkdir -p "$out"
bench=tests/HappyWhale.Benchmarks/bin/Release/net10.0/HappyWhale.Benchmarks.dll
[[ "${SKIP_BUILD:-}" == 1 ]] || dotnet build -c Release tests/HappyWhale.Benchmarks -nologo -v q
source build/runtime_env.sh
exp=omniglot; [[ -d ../shared/datasets/omniglot ]] || exp=quickstart
steps="--steps ${THREADS_STEPS:-40} --warmup 5"
settings=("OMP_WAIT_POLICY=PASSIVE" "GOMP_SPINCOUNT=10000" "OMP_WAIT_POLICY=ACTIVE" "default")
rate() { python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['images_per_second']:.1f}\")" "$1"; }
run() {   # run SETTING OUT_JSON
  local assign=(); [[ "$1" == *=* ]] && assign=("$1")
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "${assign[@]}" ${HAPPYWHALE_PRELOAD:+LD_PRELOAD=$HAPPYWHALE_PRELOAD} \
    dotnet "$bench" train-throughput "$exp" "$2" $steps >/dev/null
}
printf "%-24s %11s %11s %6s\n" setting "idle img/s" "busy img/s" kept
for s in "${settings[@]}"; do
  run "$s" "$out/$s.idle.json"
  yes >/dev/null & busy=$!
  run "$s" "$out/$s.busy.json" || true
  kill $busy; wait $busy 2>/dev/null || true
  idle=$(rate "$out/$s.idle.json"); b=$(rate "$out/$s.busy.json")
  printf "%-24s %11s %11s %6s\n" "$s" "$idle" "$b" "$(python3 -c "print(f'{$b/$idle:.2f}')")"
done
