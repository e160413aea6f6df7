#!/usr/bin/env bash
# Installs every Debian 12 package xdense needs to build, test and run, then ONNX Runtime for node
# (the ONNX export tests and benchmark) into .cache/onnxruntime-node/ (git-ignored).
# Idempotent: packages already present are not reinstalled, and `apt-get update`
# runs only when something is missing; the npm step runs only when the pinned version is not there.
# Works as root or through sudo (the npm step needs neither).
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
  libonnx-dev libprotobuf-dev           # the ONNX checker (C++ check_model) of the ONNX export tests; test-only,
                                        # the library never links it (tests/onnx/onnx_checker.cmake)
  libopenmpi-dev openmpi-bin            # data-parallel training on MPI (mpi_world(), mpirun tests); optional
                                        # at configure time. Without recommends: no ssh client, which
                                        # mpirun needs only to start ranks on other hosts (openssh-client)
)
# ONNX Runtime's node binding runs the exported models in tests/onnx/. Debian's nodejs (18) and npm,
# unless a node and npm are already on PATH (NodeSource's nodejs bundles npm and conflicts with
# Debian's npm package).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
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
fi

# onnxruntime-node, the exact tree of tests/onnx/package-lock.json (onnxruntime-node 1.30.0: its
# CPU binaries for linux x64 ship inside the npm package, N-API 6, glibc >= 2.28; every package of the
# tree asks for node >= 14 at most, and it runs on Debian 12's node 18.20 as on node 20).
# ONNXRUNTIME_NODE_INSTALL=skip: its postinstall would otherwise try to download GPU providers.
# Installed into <source>/.cache/onnxruntime-node/ (git-ignored), where tests/onnx/ and
# benchmarks/onnx_latency.sh look; skipped when that version is already there.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ort_dir="$root/.cache/onnxruntime-node"
ort_version="$(sed -n 's/.*"onnxruntime-node": *"\([^"]*\)".*/\1/p' "$root/tests/onnx/package.json")"
installed="$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$ort_dir/node_modules/onnxruntime-node/package.json" 2>/dev/null || true)"
if [ "$installed" = "$ort_version" ] && [ -f "$ort_dir/node_modules/onnxruntime-common/package.json" ]; then
  echo "setup: onnxruntime-node $ort_version already installed in $ort_dir"
else
  echo "setup: installing onnxruntime-node $ort_version into $ort_dir"
  mkdir -p "$ort_dir"
  cp "$root/tests/onnx/package.json" "$root/tests/onnx/package-lock.json" "$ort_dir/"
  # Optional like the tests that use it: without the npm registry the rest of xdense still builds
  # and tests, and those tests skip saying what is missing.
  if ! (cd "$ort_dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error); then
    echo "setup: warning: npm could not install onnxruntime-node into $ort_dir;" \
      "the ONNX Runtime tests (tests/onnx/) will be skipped" >&2
  fi
fi
