#!/usr/bin/env bash
# Installs every Debian 12 package xdense needs to build, test and run.
# Idempotent: packages already present are not reinstalled, and `apt-get update`
# runs only when something is missing. Works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config      # toolchain
  libxtensor-dev xtl-dev libxsimd-dev   # tensors
  libxtensor-blas-dev                   # xt::linalg for the tests' reference products, xt::blas in kernels_bench
  libopenblas-dev                       # BLAS (OpenBLAS, LP64); its LAPACK satisfies xtensor-blas's CMake config
  libcli11-dev                          # command-line parsing
  googletest libgtest-dev libgmock-dev  # tests
  zlib1g-dev                            # gzip IDX files, CRC-32 of model files
  nlohmann-json3-dev                    # JSON model configs and --json output
  dataset-fashion-mnist                 # Fashion-MNIST IDX files for examples and the tutorial
  gnuplot-nox                           # the tutorial's figures (PNG through the pngcairo terminal)
  clang libclang-rt-14-dev              # libFuzzer targets (scripts/fuzz-smoke.sh)
  libopenmpi-dev openmpi-bin            # data-parallel training on MPI (mpi_world(), mpirun tests); optional
                                        # at configure time. Without recommends: no ssh client, which
                                        # mpirun needs only to start ranks on other hosts (openssh-client)
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo)
else
  echo "setup: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
