# Runtime settings for the happywhale process, sourced by build.sh and the benchmarks (bash).
# Allocator: glibc's malloc hands large tensor buffers back to the kernel after every step; page faults are
# expensive on VMs and training ran 2-7x slower. Keep freed memory: jemalloc when installed, else glibc's
# hugetlb tunable (needs no install). HAPPYWHALE_KEEP_MALLOC=1 leaves both alone.
if [ -z "${HAPPYWHALE_KEEP_MALLOC:-}" ]; then
  for jemalloc in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2; do
    if [ -f "$jemalloc" ]; then
      export HAPPYWHALE_PRELOAD="$jemalloc"
      export MALLOC_CONF="${MALLOC_CONF:-dirty_decay_ms:-1,muzzy_decay_ms:-1}"
      break
    fi
  done
  export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}"
fi
# OpenMP threads (libtorch's bundled libgomp): a waiting thread spins for 2000 rounds, then sleeps
# (tests/HappyWhale.Benchmarks/bench_threads.sh, 2026-12-01, channels-last; img/s idle, and the share kept with one
# other busy process on the 2 cores, for ResNet-18 32 px / EfficientNet-B0 64 px): sleeping at once (PASSIVE) kept
# 0.56 / 0.53 but cost B0 a tenth of its idle speed (125 vs 140 img/s: B0 wakes a thread for each of its many small
# operations); libgomp's default long spin is the fastest idle but kept only 0.32 / 0.27 (spinning threads and the busy
# process take turns on the cores); 2000 rounds: 236 / 138 idle, 0.47 / 0.38 kept. Binding threads to cores
# (OMP_PROC_BIND=true) kept more under contention, but libgomp then pins the main thread, and every thread it starts
# later, to the first core, and two processes to the same cores: not set.
export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-2000}"

# Runs a command with the preload above (only that command: dotnet's own tools are left alone).
with_runtime_env() {
  if [ -n "${HAPPYWHALE_PRELOAD:-}" ]; then LD_PRELOAD="$HAPPYWHALE_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}" "$@"; else "$@"; fi
}
