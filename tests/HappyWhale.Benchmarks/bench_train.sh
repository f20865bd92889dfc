#!/usr/bin/env bash
# Training throughput, HappyWhale's Trainer against a plain PyTorch script (train_peer.py, Debian's python3-torch)
# on the same model, image size, batch, prepared rows and number of steps, one after the other, then a
# contention row (the trainer again while one `yes >/dev/null` runs). Usage: tests/HappyWhale.Benchmarks/bench_train.sh
# Environment: SKIP_BUILD=1 reuses the build; BENCH_ROWS="omniglot b0_64 b0_128" picks rows; BENCH_REPEAT=N runs (default 3);
# BENCH_QUICK=1 runs 3 steps a row, once.
# Measure alone: any other busy process on the machine changes every figure.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="artifacts/bench/train"
mkdir -p "$out"
python=/usr/bin/python3
bench=tests/HappyWhale.Benchmarks/bin/Release/net10.0/HappyWhale.Benchmarks.dll
source tests/HappyWhale.Benchmarks/peer_env.sh

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  dotnet build -c Release tests/HappyWhale.Benchmarks -nologo -v q
fi
ensure_peer_packages python3-torch python3-torchvision python3-numpy libopenblas0-pthread python3-threadpoolctl libjemalloc2

# Each side at its best: ours with build.sh's allocator and thread settings; the peer with the same allocator
# (jemalloc) and libgomp's default wait policy (PASSIVE cost the peer a third of its speed here: 135 vs 200 img/s).
source build/runtime_env.sh
coretype=$(openblas_coretype)

echo "== BLAS and kernels"
echo "HappyWhale: libtorch 2.10.0 (NuGet libtorch-cpu-linux-x64) with its own oneMKL and oneDNN, which pick kernels from CPUID:"
ONEDNN_VERBOSE=1 MKL_VERBOSE=1 dotnet "$bench" blas-probe 2>&1 | grep -E "info,cpu,isa|info,oneDNN|MKL_VERBOSE oneMKL" | sed 's/^/  /' | cut -c1-160
echo "PyTorch peer: Debian python3-torch (BLAS_INFO=generic: the system libblas.so.3), OPENBLAS_CORETYPE=${coretype:-OpenBLAS auto-detection}:"
peer_env "$coretype" "$python" - <<'PY' | sed 's/^/  /'
import torch, numpy, threadpoolctl
print("torch", torch.__version__, "| oneDNN", torch.backends.mkldnn.is_available(), "| numpy", numpy.__version__)
for p in threadpoolctl.threadpool_info():
    print(f"{p['user_api']}: {p['internal_api']} {p.get('version')} kernel={p.get('architecture')} threads={p['num_threads']} ({p['filepath']})")
PY
peer_env "$coretype" env DNNL_VERBOSE=1 ONEDNN_VERBOSE=1 "$python" -c \
  "import torch; torch.nn.functional.conv2d(torch.rand(8,64,32,32), torch.rand(64,64,3,3), padding=1)" 2>&1 \
  | grep -E "info,cpu,isa|verbose,info,oneDNN" | sed 's/^/  /' | head -2 || true

rows=(${BENCH_ROWS:-omniglot b0_64 b0_128})
declare -A exp=([omniglot]=omniglot [b0_64]=quickstart [b0_128]=quickstart)
b0="--set model.backbone=efficientnet_b0 --set model.pretrained=null"   # the quickstart's data, EfficientNet-B0 from scratch
declare -A sets=([omniglot]="" [b0_64]="$b0" [b0_128]="$b0 --set prepare.image_size=128")
declare -A steps=([omniglot]="--steps 60 --warmup 5" [b0_64]="--steps 40 --warmup 5" [b0_128]="--steps 15 --warmup 3")
if [[ "${BENCH_QUICK:-}" == 1 ]]; then for r in "${!steps[@]}"; do steps[$r]="--steps 3 --warmup 1"; done; BENCH_REPEAT=1; fi   # a smoke run of the script itself
declare -A label=([omniglot]="ResNet-18 32px gray, batch 64 (omniglot)" [b0_64]="EfficientNet-B0 64px, batch 32 (quickstart)" [b0_128]="EfficientNet-B0 128px, batch 32")

# Both sides train in one memory layout (train.memory_format; the peer converts its model and batches the same way).
layout="${BENCH_MEMORY_FORMAT:-channels_last}"
echo "== memory format of both sides: $layout"

# Run-to-run spread on this VM is about +-7%, larger than the gap being measured: each row runs BENCH_REPEAT times
# (default 3), ours and the peer taking turns, and the table compares medians.
repeat=${BENCH_REPEAT:-3}
train_ours() {   # train_ours ROW OUT_JSON: our trainer on ROW's experiment, settings and steps; prints its summary line
  # shellcheck disable=SC2086
  with_runtime_env dotnet "$bench" train-throughput "${exp[$1]}" "$2" ${steps[$1]} ${sets[$1]} --set "train.memory_format=$layout" | grep -v "^\s*$" | tail -1
}
for r in "${rows[@]}"; do
  if [[ $r == omniglot && ! -d ../shared/datasets/omniglot ]]; then echo "skipping omniglot: ../shared/datasets/omniglot not found"; continue; fi
  echo "== $r: ${label[$r]}"
  for ((i = 1; i <= repeat; i++)); do
    train_ours "$r" "$out/$r.ours.$i.json"
    with_runtime_env peer_env "$coretype" "$python" tests/HappyWhale.Benchmarks/train_peer.py "$out/$r.ours.$i.json" "$out/$r.peer.$i.json"
  done
done

# Contention: one busy process on one of the two cores while the first row trains again.
first="${rows[0]}"
if [[ -f "$out/$first.ours.1.json" ]]; then
  echo "== contention: ${label[$first]} with one 'yes >/dev/null' running"
  yes >/dev/null & busy=$!
  trap 'kill $busy 2>/dev/null || true' EXIT
  for ((i = 1; i <= repeat; i++)); do train_ours "$first" "$out/$first.contended.$i.json"; done
  kill $busy 2>/dev/null || true
  trap - EXIT
fi

"$python" - "$out" "$repeat" "${rows[@]}" <<'PY'
import json, os, statistics, sys
out, repeat, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def runs(name):
    paths = [os.path.join(out, f"{name}.{i}.json") for i in range(1, repeat + 1)]
    return [json.load(open(p)) for p in paths if os.path.exists(p)]
def rates(name):
    return [r["images_per_second"] for r in runs(name)]
worst = None
print()
print(f"{'row (median of ' + str(repeat) + ' runs each)':<48} {'HappyWhale img/s':>16} {'PyTorch img/s':>14} {'ratio':>7}   runs: ours | peer")
for r in rows:
    ours, peer = rates(f"{r}.ours"), rates(f"{r}.peer")
    if not ours or not peer:
        continue
    ratio = statistics.median(ours) / statistics.median(peer)
    worst = ratio if worst is None else min(worst, ratio)
    o = runs(f"{r}.ours")[0]
    name = f"{o['backbone']} {o['image_size']}px batch {o['batch']} ({o['steps']} steps)"
    spread = " ".join(f"{x:.0f}" for x in ours) + " | " + " ".join(f"{x:.0f}" for x in peer)
    print(f"{name:<48} {statistics.median(ours):>16.1f} {statistics.median(peer):>14.1f} {ratio:>7.3f}   {spread}")
busy = rates(f"{rows[0]}.contended")
if busy and rates(f"{rows[0]}.ours"):
    idle = statistics.median(rates(f"{rows[0]}.ours"))
    print(f"{'contention: ' + rows[0] + ' with one busy process':<48} {statistics.median(busy):>16.1f} {'':>14} {statistics.median(busy) / idle:>7.3f} of idle   "
          + " ".join(f"{x:.0f}" for x in busy))
print(f"train throughput ratio (HappyWhale / PyTorch), worst case: {worst:.3f}" if worst is not None else "no rows ran")
PY
