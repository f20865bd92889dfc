#!/usr/bin/env bash
# The prepare benchmark (issue: 20,000 synthetic photos prepared at 256 px).
#  1) generates the photos of experiments/bench/prepare_20k.yaml through the synth stage (cached);
#  2) runs `happywhale prepare` on them with --force=prepare under GNU time: wall time and peak RSS
#     of the whole prepare process (managed + native);
#  3) reads the prepared shards the way the trainer does and times Trainer.RunPhase on the same set,
#     in one process (ShardThroughput.cs), and prints the ratio.
# Usage: tests/HappyWhale.Benchmarks/bench_prepare.sh   (EXP=another/experiment to change the data)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
exp="${EXP:-bench/prepare_20k}"
out="artifacts/bench/prepare"
mkdir -p "$out"
[[ -x /usr/bin/time ]] || { echo "GNU time is needed for the peak memory figure: apt-get install time" >&2; exit 1; }

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  dotnet build -c Release src/HappyWhale.Cli -nologo -v q
  dotnet build -c Release tests/HappyWhale.Benchmarks -nologo -v q
fi
# The allocator settings build.sh uses for the happywhale process.
export GLIBC_TUNABLES=glibc.malloc.hugetlb=1
cli=(dotnet src/HappyWhale.Cli/bin/Release/net10.0/HappyWhale.Cli.dll)

"${cli[@]}" synth --exp "$exp" | tee "$out/synth.log"
/usr/bin/time -f '%M %e' -o "$out/prepare.time" "${cli[@]}" prepare --exp "$exp" --force=prepare | tee "$out/prepare.log"
read -r peak_kb wall_s < "$out/prepare.time"
awk -v kb="$peak_kb" -v s="$wall_s" 'BEGIN { printf "prepare process: %.1f s wall, peak RSS %.0f MB\n", s, kb / 1024 }' | tee "$out/prepare_summary.txt"

dotnet tests/HappyWhale.Benchmarks/bin/Release/net10.0/HappyWhale.Benchmarks.dll shard-throughput "$exp" | tee "$out/shard_throughput.log"
