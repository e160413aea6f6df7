#!/usr/bin/env bash
# Serving latency of a Fashion-MNIST MLP (784-256-128-10, relu, relu, softmax, standardized inputs)
# in xdense vs the same model exported to ONNX and run in ONNX Runtime for node (issue 17), same
# machine, one thread each (xdense: OpenBLAS 1 thread; ONNX Runtime: intraOpNumThreads 1).
#
#   benchmarks/onnx_latency.sh [--build-dir DIR] [--epochs N] [--repeats N]
#
# Builds onnx_latency_bench if needed, which trains the model (--epochs, default 1), times xdense
# and writes the .onnx file and the inputs; benchmarks/onnx_latency.js times ONNX Runtime on them.
# Medians: single = one raw sample per call (standardize + predict); batch = the 10,000 test
# images in one call. Needs node and onnxruntime-node (scripts/setup.sh). Prints the CPU and a
# Markdown table.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build_dir="$root/build"
bench_args=()
node_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --epochs) bench_args+=(--epochs "$2"); shift 2 ;;
    --repeats) bench_args+=(--repeats "$2"); node_args+=(--repeats "$2"); shift 2 ;;
    *) echo "onnx_latency.sh: unknown argument '$1' (see the comment at the top)" >&2; exit 2 ;;
  esac
done

modules="${XDENSE_ONNXRUNTIME_NODE_MODULES:-$root/.cache/onnxruntime-node/node_modules}"
command -v node >/dev/null 2>&1 || { echo "onnx_latency.sh: node not found (run scripts/setup.sh)" >&2; exit 1; }
[[ -f "$modules/onnxruntime-node/package.json" ]] ||
  { echo "onnx_latency.sh: onnxruntime-node not in $modules (run scripts/setup.sh)" >&2; exit 1; }
if [[ ! -x "$build_dir/benchmarks/onnx_latency_bench" ]]; then
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" --target onnx_latency_bench -j"$(nproc)" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpu=$(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -1)
avx512=$(grep -q -w avx512f /proc/cpuinfo && echo yes || echo no)
echo "CPU: $cpu ($(nproc) logical CPUs; AVX-512F: $avx512); node $(node --version);" \
  "onnxruntime-node $(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$modules/onnxruntime-node/package.json")"

OPENBLAS_NUM_THREADS=1 "$build_dir/benchmarks/onnx_latency_bench" --out "$work" "${bench_args[@]}" >"$work/xdense.csv"
NODE_PATH="$modules" node "$here/onnx_latency.js" "$work/fashion_mlp.onnx" "$work/x_one.npy" "$work/x_test.npy" \
  "$work/y_test_xdense.npy" "${node_args[@]}" >"$work/ort.csv"
grep '^#' "$work/xdense.csv" "$work/ort.csv" | sed 's/^[^:]*:/  /'

echo
echo "| engine (1 thread) | 1 sample: median | 10,000 samples: median | per sample |"
echo "| --- | ---: | ---: | ---: |"
for engine in xdense onnxruntime; do
  file="$work/xdense.csv"; label="xdense (predict)"
  [[ $engine == onnxruntime ]] && { file="$work/ort.csv"; label="ONNX Runtime (node)"; }
  single=$(awk -F, -v e=$engine '$1==e && $2=="single" {print $4 * 1000}' "$file")
  batch=$(awk -F, -v e=$engine '$1==e && $2=="batch" {print $4}' "$file")
  per=$(awk -F, -v e=$engine '$1==e && $2=="batch" {print $6}' "$file")
  printf "| %s | %.1f µs | %.1f ms | %.2f µs |\n" "$label" "$single" "$batch" "$per"
done
