# Puts a Python peer at its best (sourced by the benchmark scripts). Debian's python3-torch and numpy call
# whatever libblas.so.3 the system points at: the slow reference BLAS until libopenblas0-pthread is installed.
# OpenBLAS's own CPU detection falls back to its slowest kernels on a VM's generic CPU model, so the kernel
# is chosen here from the CPU's flags.

# Installs the Debian packages a peer needs when they are missing (as root; says so otherwise).
ensure_peer_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} for the peer"
  if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1; then
    echo "error: could not install ${missing[*]} (needs root and Debian's package lists); the peer would not be at its best" >&2
    return 2
  fi
}

# The best OpenBLAS kernel the CPU's flags allow (empty: leave OpenBLAS's own detection).
openblas_coretype() {
  local flags vendor
  flags=$(grep -m1 '^flags' /proc/cpuinfo)
  vendor=$(grep -m1 '^vendor_id' /proc/cpuinfo | awk '{print $3}')
  has() { [[ " $flags " == *" $1 "* ]]; }
  if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
    if has amx_tile; then echo SAPPHIRERAPIDS; elif has avx512_bf16; then echo COOPERLAKE; else echo SKYLAKEX; fi
  elif has avx2 && has fma; then
    if [ "$vendor" = AuthenticAMD ]; then echo ZEN; else echo HASWELL; fi
  elif has avx; then echo SANDYBRIDGE
  fi
}

# Runs a command as the peer: the chosen kernel, libgomp's default wait policy (its long spin is the fastest on an idle
# machine: OMP_WAIT_POLICY=PASSIVE cost PyTorch 1.13 a third of its training speed here) and nothing else that would
# slow OpenBLAS.
peer_env() {
  local coretype="$1"; shift
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u OMP_PROC_BIND ${coretype:+OPENBLAS_CORETYPE=$coretype} "$@"
}
