#!/usr/bin/env bash
# Restores the pinned Cake tool and runs build/build.cake: ./build.sh --target=Experiment --exp=quickstart
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Cake compiles build.cake once and reuses the assembly while the script is unchanged.
export CAKE_SETTINGS_ENABLESCRIPTCACHE=true
# glibc's malloc hands large tensor buffers back to the kernel after every step; page faults are
# expensive on VMs and training ran 2-7x slower. Keep freed memory: jemalloc when installed,
# else glibc's hugetlb tunable (needs no install). HAPPYWHALE_KEEP_MALLOC=1 leaves both alone.
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
dotnet tool restore >/dev/null
exec dotnet tool run dotnet-cake -- build/build.cake "$@"
