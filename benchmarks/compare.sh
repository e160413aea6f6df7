#!/usr/bin/env bash
# Runs xdense_bench and the PyTorch baseline on the same workloads in one invocation and prints,
# per workload, xdense's median, PyTorch's and their ratio (xdense / PyTorch: below 1 is faster or
# leaner). At 2 threads PyTorch's row is its best configuration among (torch 1, OpenBLAS 2),
# (torch 2, OpenBLAS 2) and (torch 2, OpenBLAS 1). Without python3-torch it says so and prints
# xdense's figures alone. Also times the compilation of a user file including <xdense/xdense.hpp>.
#
#   benchmarks/compare.sh [--build-dir DIR] [xdense_bench options: --quick --no-fashion --repeats N ...]
#
# The machine is shared and noisy: compare ratios from one invocation, not figures across runs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build_dir=""
bench_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
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
  echo "  cmake -S $root -B $root/build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build $root/build-bench -j2 --target xdense_bench" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/torch.csv"
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3 || true)

echo "== xdense ($bench ${bench_args[*]:-})"
"$bench" --csv --threads 1,2 "${bench_args[@]}" >"$work/xdense.csv"

have_torch=no
if [[ -n $python ]] && "$python" -c 'import torch' 2>/dev/null; then
  have_torch=yes
  # Python's own options share xdense_bench's names: --quick --no-fashion --fashion-dir --repeats --samples.
  header=()
  for config in "1 1" "1 2" "2 2" "2 1"; do
    read -r torch_threads blas_threads <<<"$config"
    echo "== PyTorch: torch $torch_threads thread(s), OpenBLAS $blas_threads thread(s)"
    workloads=mlp,inference
    [[ $config == "1 1" ]] && workloads=mlp,inference,tiny,rss
    OPENBLAS_NUM_THREADS=$blas_threads OMP_NUM_THREADS=$torch_threads \
      "$python" "$here/pytorch_baseline.py" --csv "${header[@]}" --torch-threads "$torch_threads" \
      --blas-threads "$blas_threads" --workloads "$workloads" "${bench_args[@]}" >>"$work/torch.csv"
    header=(--no-header)
  done
else
  echo "== PyTorch: not available (no python3 with torch; apt-get install python3-torch): xdense's figures only"
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
compile_start=$(date +%s.%N)
${CXX:-c++} -std=c++17 -O2 -I"$root/include" -c "$work/user.cpp" -o "$work/user.o"
compile_seconds=$(awk -v start="$compile_start" -v end="$(date +%s.%N)" 'BEGIN { print end - start }')

echo
awk -F, -v have_torch="$have_torch" -v compile_seconds="$compile_seconds" '
  FNR == 1 { next }                                   # headers
  FILENAME ~ /torch.csv$/ {
    key = $1 "," $2 "," $3
    if (!(key in torch) || $5 + 0 < torch[key] + 0) { torch[key] = $5; torch_note[key] = $11 }
    next
  }
  { order[++n] = $1 "," $2 "," $3; unit[order[n]] = $4; xd[order[n]] = $5; xmin[order[n]] = $6
    bound[order[n]] = $9; note[order[n]] = $11 }
  END {
    printf "%-14s %-10s %3s %-4s %11s %11s %11s %7s  %s\n", "workload", "data", "thr", "unit", "xdense",
           "PyTorch", "ratio", "bound", "PyTorch config / note"
    for (i = 1; i <= n; ++i) {
      k = order[i]; split(k, f, ",")
      t = (k in torch) ? sprintf("%.4g", torch[k]) : "-"
      r = (k in torch && torch[k] > 0) ? sprintf("%.2f", xd[k] / torch[k]) : "-"
      b = (bound[k] > 0) ? sprintf("%d%%", bound[k] * 100 + 0.5) : "-"
      c = (k in torch) ? torch_note[k] : note[k]
      sub(/^[^;]*; /, "", c)
      sub(/; test accuracy.*/, "", c)
      if (match(note[k], /test accuracy [0-9.]+/)) c = c "; test accuracy xdense " substr(note[k], RSTART + 14, RLENGTH - 14)
      if (match(torch_note[k], /test accuracy [0-9.]+/)) c = c ", PyTorch " substr(torch_note[k], RSTART + 14, RLENGTH - 14)
      printf "%-14s %-10s %3s %-4s %11.4g %11s %11s %7s  %s\n", f[1], f[2], f[3], unit[k], xd[k], t, r, b, c
    }
    printf "%-14s %-10s %3s %-4s %11.3g %11s %11s %7s  %s\n", "compile_user", "-", 1, "s", compile_seconds, "-",
           "-", "-", "c++ -O2 of a file including <xdense/xdense.hpp>"
    if (have_torch != "yes") print "\nPyTorch not available: ratios not computed."
  }' "$work/torch.csv" "$work/xdense.csv"
