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
# OpenMP threads (libtorch's bundled libgomp) sleep when they wait instead of spinning: with one other busy process
# on the 2 cores, spinning threads trained 5-8x slower than passive ones (tests/HappyWhale.Benchmarks/bench_threads.sh).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

# Runs a command with the preload above (only that command: dotnet's own tools are left alone).
with_runtime_env() {
  if [ -n "${HAPPYWHALE_PRELOAD:-}" ]; then LD_PRELOAD="$HAPPYWHALE_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}" "$@"; else "$@"; fi
}
