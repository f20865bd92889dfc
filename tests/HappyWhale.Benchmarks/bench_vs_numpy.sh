#!/usr/bin/env bash
# Runs the kNN + MAP@5 benchmark in C# (BenchmarkDotNet) and the numpy reference on the same data,
# then prints both times, peak memory and ours/numpy. Usage: tests/HappyWhale.Benchmarks/bench_vs_numpy.sh
# Environment: PYTHON (default /usr/bin/python3, Debian's, which has numpy), SKIP_BUILD=1 to reuse the build.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
python="${PYTHON:-/usr/bin/python3}"
out="artifacts/bench"
mkdir -p "$out"

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  dotnet build -c Release tests/HappyWhale.Benchmarks -nologo -v q
fi
bench=tests/HappyWhale.Benchmarks/bin/Release/net10.0/HappyWhale.Benchmarks.dll
source build/runtime_env.sh   # ours as build.sh runs it (allocator, OpenMP wait policy)
echo "ours: libtorch 2.10.0 (NuGet libtorch-cpu-linux-x64) with its own oneMKL, which picks kernels from CPUID:"
MKL_VERBOSE=1 with_runtime_env dotnet "$bench" blas-probe 2>&1 | grep -E "MKL_VERBOSE oneMKL|MKL_VERBOSE SGEMM" | head -2 | sed 's/^/  /' | cut -c1-200
# 1) ours: writes artifacts/bench/knn/*.npy (the shared input) and ours.json (MAP@5, peak RSS).
with_runtime_env dotnet "$bench" --filter '*KnnMap5Benchmark*' | tee "$out/knn_dotnet.log"

# 2) numpy on the same files, at its best: OpenBLAS (Debian's libopenblas0-pthread, installed if missing; numpy
#    calls whatever libblas.so.3 the system points at) with the best kernel the CPU's flags allow, chosen in
#    peer_env.sh (OpenBLAS's own detection picks its slowest kernels on a VM's generic CPU model).
source tests/HappyWhale.Benchmarks/peer_env.sh
ensure_peer_packages python3-numpy libopenblas0-pthread python3-threadpoolctl
coretype=$(openblas_coretype)
echo "numpy peer: OPENBLAS_CORETYPE=${coretype:-OpenBLAS auto-detection}"
peer_env "$coretype" "$python" tests/HappyWhale.Benchmarks/knn_numpy.py "$out/knn" "${NUMPY_REPEATS:-3}" | tee "$out/knn_numpy.json"

# 3) compare.
"$python" - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
report = sorted(glob.glob(os.path.join(out, "BenchmarkDotNet.Artifacts", "results", "*KnnMap5Benchmark-report-full.json")))[-1]
bench = json.load(open(report))["Benchmarks"][0]
ours_s = bench["Statistics"]["Mean"] / 1e9
ours = json.load(open(os.path.join(out, "knn", "ours.json")))
numpy = json.load(open(os.path.join(out, "knn_numpy.json")))
mb = lambda b: b / 2**20
print()
print(f"ours  (TorchSharp, BenchmarkDotNet mean of {len(bench['Statistics']['OriginalValues'])}): {ours_s:8.2f} s   "
      f"MAP@5 {ours['map5']:.6f}   peak RSS {mb(ours['peak_rss_bytes']):7.0f} MB   managed alloc/op {mb(bench['Memory']['BytesAllocatedPerOperation']):.0f} MB   torch threads {ours['torch_threads']}")
print(f"numpy (mean of {len(numpy['seconds_all'])}):                      {numpy['seconds_mean']:8.2f} s   "
      f"MAP@5 {numpy['map5']:.6f}   peak RSS {mb(numpy['peak_rss_bytes']):7.0f} MB")
print(f"numpy BLAS: {json.dumps(numpy['blas'])}")
print("ours BLAS: libtorch 2.10.0's own oneMKL (mm, topk on the CPU), kernels chosen by CPUID (MKL_VERBOSE=1 names them)")
print(f"ratio ours/numpy = {ours_s / numpy['seconds_mean']:.3f}  ({'ours faster or equal' if ours_s <= numpy['seconds_mean'] else 'ours SLOWER'})")
if abs(ours['map5'] - numpy['map5']) > 1e-4:
    print(f"WARNING: MAP@5 differs by {ours['map5'] - numpy['map5']:.2e}")
PY
