#!/usr/bin/env bash
# One-shot recognition of unseen alphabets, side by side with a plain PyTorch script at the same wall-clock budget.
#   tests/HappyWhale.Benchmarks/oneshot_vs_reference.sh        (or ./build.sh --target=Bench --bench=oneshot)
# For each seed: our experiments/omniglot_oneshot.yaml end to end (prepare, train, evaluate; every stage recomputed),
# timed; then the reference (../shared/omniglot-ref, Debian's python3-torch with OpenBLAS and the best kernel the CPU
# allows) in its --val mode on the same held-out alphabets (Japanese_(katakana), Sanskrit; 400 20-way 1-shot
# episodes), with as many optimizer steps as fit in the wall-clock time our run took (its seconds per step and fixed
# cost are measured with two short runs right before). Prints both episode errors per seed, mean and spread, and
# the difference. Environment:
#   SEEDS="1 2"         seeds (ours: train.seed; the reference: --seed)
#   REF_ARGS="..."      the reference's recipe (default: its own defaults, 64 px small ResNet, which its README tunes)
#   SKIP_BUILD=1        reuse the build;  EXP=omniglot_oneshot  the experiment
# Measure alone: any other busy process changes both sides' budgets (hold /work/QUIET where that is the rule).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
ref_dir="$root/../shared/omniglot-ref"
data_dir="$root/../shared/datasets/omniglot"
exp="${EXP:-omniglot_oneshot}"
seeds=(${SEEDS:-1 2})
ref_args=(${REF_ARGS:-})
alphabets='Japanese_(katakana),Sanskrit'
episodes=400
out="$root/artifacts/bench/oneshot"
mkdir -p "$out"
python=/usr/bin/python3
cli="$root/src/HappyWhale.Cli/bin/Release/net10.0/HappyWhale.Cli.dll"
source tests/HappyWhale.Benchmarks/peer_env.sh

for need in "$ref_dir/train.py" "$data_dir/images_background_small1.zip" "$data_dir/images_background_small2.zip"; do
  [[ -e "$need" ]] || { echo "error: $need not found (the reference and the Omniglot minimal sets live in ../shared next to the repository)" >&2; exit 2; }
done
if [[ "${SKIP_BUILD:-}" != 1 ]]; then dotnet build -c Release src/HappyWhale.Cli -nologo -v q; fi
ensure_peer_packages python3-torch python3-torchvision python3-numpy python3-pil libopenblas0-pthread
source build/runtime_env.sh
coretype=$(openblas_coretype)
export OMNIREF_WORK="$out/ref-work"

now() { date +%s.%N; }
json() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The reference as its run.sh runs it (2 threads, jemalloc when present), with peer_env's OpenBLAS kernel.
reference() {
  local je=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 pre=()
  [[ -e $je ]] && pre=(LD_PRELOAD=$je MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1)
  (cd "$ref_dir" && peer_env "$coretype" env "${pre[@]}" OMP_NUM_THREADS=2 "$python" train.py --val "$alphabets" \
     --val-episodes "$episodes" "${ref_args[@]}" "$@")
}

echo "== BLAS: the reference runs Debian's python3-torch on OpenBLAS, OPENBLAS_CORETYPE=${coretype:-auto}; ours libtorch 2.10 (oneDNN)"
# The reference's seconds per step and fixed cost, timed from outside as the runs are (Python's start-up and imports
# are part of its budget). Measured right before each reference run: the machine's load then is the load it runs under.
calibrate() {
  local start t40 t120
  start=$(now); reference --steps 40 --seed 99 --out "$out/ref-cal40" >"$out/ref-cal40.log" 2>&1; t40=$("$python" -c "print($(now) - $start)")
  start=$(now); reference --steps 120 --seed 99 --out "$out/ref-cal120" >"$out/ref-cal120.log" 2>&1; t120=$("$python" -c "print($(now) - $start)")
  per_step=$("$python" -c "print(($t120 - $t40) / 80)")
  fixed=$("$python" -c "print(max(0.0, $t40 - 40 * $per_step))")
  printf "reference calibration (${ref_args[*]:-its defaults}): %.3f s per step, %.1f s fixed (start-up, loading, episodes)\n" "$per_step" "$fixed"
}

declare -a ours_err ref_err ours_wall ref_wall ref_steps
for seed in "${seeds[@]}"; do
  echo "== seed $seed: HappyWhale $exp (train.seed=$seed), end to end"
  start=$(now)
  with_runtime_env dotnet "$cli" run --exp "$exp" --set "train.seed=$seed" --force >"$out/ours-$seed.log" 2>&1 \
    || { tail -20 "$out/ours-$seed.log"; echo "error: our run failed (log $out/ours-$seed.log)" >&2; exit 1; }
  wall=$("$python" -c "print($(now) - $start)")
  # --force recomputes, but an interrupted earlier run's checkpoint of the same key is resumed (bitwise the same result):
  # then the wall clock is not a whole run's, and no budget can be taken from it.
  if grep -q "resuming after epoch" "$out/ours-$seed.log"; then
    echo "error: our run resumed from a checkpoint an interrupted run left (artifacts/cache/train/.work-*/checkpoint), so its wall clock is not a whole run's; delete those .work-* folders and run again (log $out/ours-$seed.log)" >&2
    exit 2
  fi
  run=$(ls -td "artifacts/runs/$exp"/*/ | head -1)
  err=$(json "$run/metrics.json" "'%.2f' % d['episode_error']")
  se=$(json "$run/metrics.json" "'%.2f' % d['episode_error_se']")
  printf "ours:      %s%% ± %s over %s episodes, %.0f s end to end (%s)\n" "$err" "$se" "$episodes" "$wall" "$run"
  ours_err+=("$err"); ours_wall+=("$wall")

  calibrate
  steps=$("$python" -c "print(max(1, int(($wall - $fixed) / $per_step)))")
  echo "== seed $seed: reference --val, $steps steps (the same ${wall%.*} s)"
  start=$(now)
  reference --steps "$steps" --seed "$seed" --out "$out/ref-$seed" >"$out/ref-$seed.log" 2>&1 \
    || { tail -20 "$out/ref-$seed.log"; echo "error: the reference failed (log $out/ref-$seed.log)" >&2; exit 1; }
  rwall=$("$python" -c "print($(now) - $start)")
  rerr=$(json "$out/ref-$seed/results.json" "'%.2f' % d['results']['val']['mean_error']")
  printf "reference: %s%% over %s episodes, %.0f s end to end, %s steps\n" "$rerr" "$episodes" "$rwall" "$steps"
  ref_err+=("$rerr"); ref_wall+=("$rwall"); ref_steps+=("$steps")
done

echo
echo "== one-shot error on Japanese_(katakana) + Sanskrit, 400 20-way 1-shot episodes, lower is better"
printf "%-6s %-22s %-22s\n" seed "HappyWhale (s)" "reference (s, steps)"
for i in "${!seeds[@]}"; do
  printf "%-6s %-22s %-22s\n" "${seeds[$i]}" "${ours_err[$i]}% (${ours_wall[$i]%.*})" "${ref_err[$i]}% (${ref_wall[$i]%.*}, ${ref_steps[$i]})"
done
"$python" - "${ours_err[*]}" "${ref_err[*]}" <<'PY'
import sys
ours = [float(x) for x in sys.argv[1].split()]
ref = [float(x) for x in sys.argv[2].split()]
mean = lambda v: sum(v) / len(v)
print(f"mean   {mean(ours):.2f}% (spread {min(ours):.2f}-{max(ours):.2f})   {mean(ref):.2f}% (spread {min(ref):.2f}-{max(ref):.2f})")
print(f"difference (HappyWhale - reference): {mean(ours) - mean(ref):+.2f} points"
      + ("; every HappyWhale seed below every reference seed" if max(ours) < min(ref) else ""))
PY
