#!/usr/bin/env bash
# Runs xdense_bench and the PyTorch baseline on the same workloads in one invocation and prints,
# per workload, xdense's median, PyTorch's and their ratio (xdense / PyTorch: below 1 is faster or
# leaner). One thread by default; with --all-cores also the rows at every logical CPU (2 threads on
# a 2-vCPU machine), where PyTorch's row is its best configuration among (torch 1, OpenBLAS N),
# (torch N, OpenBLAS N) and (torch N, OpenBLAS 1). Without python3-torch it says so and prints
# xdense's figures alone. Then ONNX Runtime (node) beside xdense on the Fashion-MNIST MLP that
# `xdense export --onnx` writes: one-row and 10,000-row predict, one thread each
# (benchmarks/onnx_latency.sh), skipped with a line saying why without node or onnxruntime-node
# (scripts/setup.sh installs it). Also times the compilation of a user file including
# <xdense/xdense.hpp>, and prints a kernel line: OpenBLAS's active core (openblas_get_corename),
# OPENBLAS_CORETYPE, the CPU's AVX2/AVX-512F and the thread counts run.
#
#   benchmarks/compare.sh [--build-dir DIR] [--rounds N] [--all-cores] [--no-onnx]
#                         [xdense_bench options: --quick --no-fashion --repeats N ...]
#
# The machine is shared and noisy: compare ratios from one invocation, not figures across runs. With
# --rounds N both sides run N times, alternating, and each keeps its best (lowest) median per workload,
# which discounts load spikes that hit one side only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build_dir=""
rounds=1
all_cores=no
onnx=yes
bench_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --all-cores) all_cores=yes; shift ;;
    --no-onnx) onnx=no; shift ;;
    --threads|--workloads|--csv|--profile)
      echo "compare.sh: $1 is chosen by this script" >&2; exit 2 ;;
    *) bench_args+=("$1"); shift ;;
  esac
done

if [[ -z $build_dir ]]; then
  for candidate in "$root/build-bench" "$root/build"; do
    if [[ -x $candidate/benchmarks/xdense_bench ]]; then build_dir=$candidate; break; fi
  done
fi
bench=${build_dir:-$root/build-bench}/benchmarks/xdense_bench
if [[ ! -x $bench ]]; then
  echo "compare.sh: $bench not found; build it first:" >&2
  echo "  cmake -S $root -B $root/build-bench -DCMAKE_BUILD_TYPE=Release" >&2
  echo "  cmake --build $root/build-bench -j2 --target xdense_bench" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/torch.csv"
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3 || true)

cpus=$(nproc)
threads=1
torch_configs=("1 1")
if [[ $all_cores == yes && $cpus -gt 1 ]]; then
  threads="1,$cpus"
  torch_configs+=("1 $cpus" "$cpus $cpus" "$cpus 1")
fi
# The kernel line: OpenBLAS's core as xdense_bench sees it (its header line, no workload run).
core=$("$bench" --workloads none | sed -n 's/.*, core \([^;]*\);.*/\1/p')
isa=$(grep -o -w -E 'avx2|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')
kernel_line="kernel: OpenBLAS core ${core:-unknown} (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}); CPU ISA: ${isa:-neither avx2 nor avx512f}; threads: $threads of $cpus logical CPUs$([[ $all_cores == yes ]] || echo " (--all-cores adds $cpus)")"
echo "== $kernel_line"

have_torch=no
if [[ -n $python ]] && "$python" -c 'import torch' 2>/dev/null; then have_torch=yes; fi
[[ $have_torch == yes ]] ||
  echo "== PyTorch: not available (no python3 with torch; apt-get install python3-torch): xdense's figures only"

for ((round = 1; round <= rounds; ++round)); do
  echo "== round $round of $rounds: xdense ($bench ${bench_args[*]:-})"
  "$bench" --csv --threads "$threads" "${bench_args[@]}" >>"$work/xdense.csv"
  [[ $have_torch == yes ]] || continue
  # Python's own options share xdense_bench's names: --quick --no-fashion --fashion-dir --repeats --samples.
  for config in "${torch_configs[@]}"; do
    read -r torch_threads blas_threads <<<"$config"
    echo "== round $round of $rounds: PyTorch, torch $torch_threads thread(s), OpenBLAS $blas_threads thread(s)"
    workloads=mlp,mlp_bn,inference
    [[ $config == "1 1" ]] && workloads=mlp,mlp_bn,inference,tiny,rss
    OPENBLAS_NUM_THREADS=$blas_threads OMP_NUM_THREADS=$torch_threads \
      "$python" "$here/pytorch_baseline.py" --csv --torch-threads "$torch_threads" \
      --blas-threads "$blas_threads" --workloads "$workloads" "${bench_args[@]}" >>"$work/torch.csv"
  done
done

# ONNX Runtime (node) beside xdense: benchmarks/onnx_latency.sh's table, one thread each.
onnx_status=""
modules="${XDENSE_ONNXRUNTIME_NODE_MODULES:-$root/.cache/onnxruntime-node/node_modules}"
if [[ $onnx == no ]]; then
  onnx_status="ONNX Runtime: not run (--no-onnx)"
elif ! command -v node >/dev/null 2>&1; then
  onnx_status="ONNX Runtime: not available (node not found; run scripts/setup.sh)"
elif [[ ! -f $modules/onnxruntime-node/package.json ]]; then
  onnx_status="ONNX Runtime: not available (onnxruntime-node not in $modules; run scripts/setup.sh)"
else
  echo "== ONNX Runtime (node) and xdense: benchmarks/onnx_latency.sh"
  onnx_args=(--build-dir "${build_dir:-$root/build-bench}")
  [[ " ${bench_args[*]:-} " == *" --quick "* ]] && onnx_args+=(--repeats 200)
  if ! "$here/onnx_latency.sh" "${onnx_args[@]}" >"$work/onnx.txt" 2>&1; then
    onnx_status="ONNX Runtime: benchmarks/onnx_latency.sh failed: $(tail -1 "$work/onnx.txt")"
  fi
fi

# Compile time of a user's file that includes the umbrella header (the issue's target: < 3 s).
cat >"$work/user.cpp" <<'EOF'
#include <xdense/xdense.hpp>
int main() {
  xdense::Sequential model;
  model.add(std::make_unique<xdense::Dense>(16, 2)).add("relu");
  return static_cast<int>(model.layer_count()) - 2;
}
EOF
TIMEFORMAT='%R %U %S'
{ time ${CXX:-c++} -std=c++17 -O2 -I"$root/include" -c "$work/user.cpp" -o "$work/user.o"; } 2>"$work/compile.time"
read -r compile_seconds compile_user compile_system <"$work/compile.time"
compile_cpu=$(awk -v u="$compile_user" -v s="$compile_system" 'BEGIN { print u + s }')

echo
# Columns: 1 workload, 2 data, 3 threads, 4 unit, 5 median, 6 min, 7 cpu, 8 samples/s, 9 GFLOP/s,
# 10 bound fraction, 11 peak RSS, 12 note. Per key, each side keeps its lowest median over rounds (and, for
# PyTorch, over its thread configurations).
awk -F, -v have_torch="$have_torch" -v compile_seconds="$compile_seconds" -v compile_cpu="$compile_cpu" '
  function accuracy(text) { return match(text, /test accuracy [0-9.]+/) ? substr(text, RSTART + 14, RLENGTH - 14) : "" }
  $1 == "workload" { next }                           # headers
  FILENAME ~ /torch.csv$/ {
    key = $1 "," $2 "," $3
    if (!(key in torch) || $5 + 0 < torch[key] + 0) { torch[key] = $5; torch_cpu[key] = $7; torch_note[key] = $12 }
    next
  }
  {
    key = $1 "," $2 "," $3
    if (!(key in xd)) order[++n] = key
    if (!(key in xd) || $5 + 0 < xd[key] + 0) {
      unit[key] = $4; xd[key] = $5; xd_cpu[key] = $7; bound[key] = $10; note[key] = $12
    }
  }
  END {
    printf "%-14s %-10s %3s %-4s %10s %10s %6s %6s %6s  %s\n", "workload", "data", "thr", "unit", "xdense",
           "PyTorch", "ratio", "cpu", "bound", "PyTorch config; notes"
    for (i = 1; i <= n; ++i) {
      k = order[i]; split(k, f, ",")
      have = (k in torch) && torch[k] > 0
      t = have ? sprintf("%.4g", torch[k]) : "-"
      r = have ? sprintf("%.2f", xd[k] / torch[k]) : "-"
      c = (have && torch_cpu[k] > 0) ? sprintf("%.2f", xd_cpu[k] / torch_cpu[k]) : "-"
      b = (bound[k] > 0) ? sprintf("%d%%", bound[k] * 100 + 0.5) : "-"
      text = (k in torch) ? torch_note[k] : note[k]
      sub(/^[^;]*; /, "", text)
      sub(/; test accuracy.*/, "", text)
      if (accuracy(note[k]) != "") text = text "; test accuracy xdense " accuracy(note[k])
      if (accuracy(torch_note[k]) != "") text = text ", PyTorch " accuracy(torch_note[k])
      printf "%-14s %-10s %3s %-4s %10.4g %10s %6s %6s %6s  %s\n", f[1], f[2], f[3], unit[k], xd[k], t, r, c, b, text
    }
    printf "%-14s %-10s %3s %-4s %10.3g %10s %6s %6s %6s  %s\n", "compile_user", "-", 1, "s", compile_seconds,
           "-", "-", "-", "-", "c++ -O2 of a file including <xdense/xdense.hpp>; CPU " compile_cpu " s"
    print "\nratio = xdense / PyTorch wall-time medians (below 1: xdense faster or leaner); cpu = the same for"
    print "process CPU time; bound = sgemm-only time / xdense time."
    if (have_torch != "yes") print "PyTorch not available: ratios not computed."
  }' "$work/torch.csv" "$work/xdense.csv"

echo
if [[ -n $onnx_status ]]; then
  echo "$onnx_status"
else
  # Rows of onnx_latency.sh's table: | engine | 1 sample: N µs | 10,000 samples: N ms | N µs |
  awk -F'|' '
    function number(text) { gsub(/[^0-9.]/, "", text); return text + 0 }
    /^ *# /                      { sub(/^ *# /, ""); notes = notes "; " $0 }
    /^\| / && $2 ~ /xdense/       { xs = number($3); xb = number($4) }
    /^\| / && $2 ~ /ONNX Runtime/ { os = number($3); ob = number($4) }
    END {
      printf "%-14s %-10s %3s %-4s %10s %12s %6s  %s\n", "workload", "data", "thr", "unit", "xdense", "ONNX Runtime",
             "ratio", "notes"
      printf "%-14s %-10s %3d %-4s %10.4g %12.4g %6.2f  %s\n", "predict_1row", "fashion", 1, "us", xs, os, xs / os,
             "one raw row: standardize + predict (node: session.run)"
      printf "%-14s %-10s %3d %-4s %10.4g %12.4g %6.2f  %s\n", "predict_10k", "fashion", 1, "ms", xb, ob, xb / ob,
             "the 10,000 test images in one call"
      print "ratio = xdense / ONNX Runtime medians (below 1: xdense faster)" notes
    }' "$work/onnx.txt"
fi
echo "$kernel_line"
