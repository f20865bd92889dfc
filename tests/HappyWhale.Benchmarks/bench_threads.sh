#!/usr/bin/env bash
# How libtorch's OpenMP threads should wait, measured: training img/s of two rows of bench_train.sh (omniglot:
# ResNet-18 32 px, batch 64; b0_64: EfficientNet-B0 64 px, batch 32, whose many small operations pay most for waking
# a sleeping thread) under each setting, idle and with one `yes >/dev/null` busy process.
# Usage: tests/HappyWhale.Benchmarks/bench_threads.sh   (SKIP_BUILD=1 reuses the build). Measure alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="artifacts/bench/threads"
mkdir -p "$out"
bench=tests/HappyWhale.Benchmarks/bin/Release/net10.0/HappyWhale.Benchmarks.dll
[[ "${SKIP_BUILD:-}" == 1 ]] || dotnet build -c Release tests/HappyWhale.Benchmarks -nologo -v q
source build/runtime_env.sh
rows=(omniglot b0_64); [[ -d ../shared/datasets/omniglot ]] || rows=(b0_64)
declare -A exp=([omniglot]=omniglot [b0_64]=quickstart)
layout="${BENCH_MEMORY_FORMAT:-channels_last}"   # as bench_train.sh: both rows in one memory format
declare -A opts=([omniglot]="--set train.memory_format=$layout" [b0_64]="--set model.backbone=efficientnet_b0 --set model.pretrained=null --set train.memory_format=$layout")
steps="--steps ${THREADS_STEPS:-40} --warmup 5"
settings=(${THREADS_SETTINGS:-OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=1000 GOMP_SPINCOUNT=2000 GOMP_SPINCOUNT=3000 OMP_PROC_BIND=true+GOMP_SPINCOUNT=3000 default})
rate() { python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['images_per_second']:.1f}\")" "$1"; }
run() {   # run SETTING ROW OUT_JSON
  local assign=(); [[ "$1" == *=* ]] && assign=(${1//+/ })   # A=1+B=2: several settings at once
  # shellcheck disable=SC2086
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u OMP_PROC_BIND "${assign[@]}" ${HAPPYWHALE_PRELOAD:+LD_PRELOAD=$HAPPYWHALE_PRELOAD} \
    dotnet "$bench" train-throughput "${exp[$2]}" "$3" $steps ${opts[$2]} >/dev/null
}
printf "%-24s %-9s %11s %11s %6s\n" setting row "idle img/s" "busy img/s" kept
for s in "${settings[@]}"; do
  for r in "${rows[@]}"; do
    run "$s" "$r" "$out/$s.$r.idle.json"
    yes >/dev/null & busy=$!
    run "$s" "$r" "$out/$s.$r.busy.json" || true
    kill $busy; wait $busy 2>/dev/null || true
    idle=$(rate "$out/$s.$r.idle.json"); b=$(rate "$out/$s.$r.busy.json")
    printf "%-24s %-9s %11s %11s %6s\n" "$s" "$r" "$idle" "$b" "$(python3 -c "print(f'{$b/$idle:.2f}')")"
  done
done
