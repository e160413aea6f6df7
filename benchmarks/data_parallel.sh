#!/usr/bin/env bash
# Data-parallel training's speed on this machine (issue 16): the Fashion-MNIST MLP epoch of
# data_parallel_bench in five configurations, each run --rounds times (the best kept), then a table.
#
#   single process, OpenBLAS 1 thread      T1 (the reference)
#   single process, OpenBLAS 2 threads     what threads give instead of processes
#   mpirun -np 1, 2, 4, OpenBLAS 1 thread each (4 ranks: --oversubscribe on a 2-core machine)
#
#   benchmarks/data_parallel.sh [--build-dir DIR] [--rounds N] [--ranks 1,2,4] [data_parallel_bench options]
#
# Columns: epoch = seconds of one epoch (after a warm-up epoch); allreduce = microseconds of one
# allreduce_sum of the model's parameters + 3 floats (fit()'s one sum per step) and its share of the
# epoch (steps x allreduce / epoch); vs T1 = epoch / T1; efficiency = T1 / (P x epoch), P = processes
# x threads, the cores the configuration asks for.
#
# Ranks are not bound to cores (--bind-to none), as the single-process runs are not: on a shared
# 2-vCPU VM a rank pinned to a core other tenants are using waits while the other core may be idle,
# and 4 ranks on 2 cores cannot each have a core anyway. On a dedicated node, --bind-to core (Open
# MPI's default up to 2 ranks) is the better choice; pass MPIRUN_FLAGS="--bind-to core" to try it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build_dir=""
rounds=3
ranks_list=1,2,4
bench_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --ranks) ranks_list=$2; shift 2 ;;
    --threads)
      echo "data_parallel.sh: --threads is chosen by this script" >&2; exit 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bench_args+=("$1"); shift ;;
  esac
done

if [[ -z $build_dir ]]; then
  for candidate in "$root/build-bench" "$root/build"; do
    if [[ -x $candidate/benchmarks/data_parallel_bench ]]; then build_dir=$candidate; break; fi
  done
fi
bench=${build_dir:-$root/build}/benchmarks/data_parallel_bench
if [[ ! -x $bench ]]; then
  echo "data_parallel.sh: $bench not found; build it first:" >&2
  echo "  cmake -S $root -B $root/build -DCMAKE_BUILD_TYPE=Release" >&2
  echo "  cmake --build $root/build -j2 --target data_parallel_bench" >&2
  exit 1
fi

have_mpirun=yes
command -v mpirun >/dev/null || have_mpirun=no
[[ $have_mpirun == yes ]] || echo "== mpirun not found (apt-get install openmpi-bin): single-process rows only"
# Open MPI refuses to run as root unless told that it is meant.
if [[ $(id -u) == 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
read -r -a mpirun_flags <<<"${MPIRUN_FLAGS:---bind-to none}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# configuration name | processes | OpenBLAS threads | launcher
configs=("single_1thread|1|1|" "single_2threads|1|2|")
if [[ $have_mpirun == yes ]]; then
  IFS=, read -r -a rank_counts <<<"$ranks_list"
  for n in "${rank_counts[@]}"; do configs+=("mpirun_np$n|$n|1|mpirun"); done
fi

echo "== $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')," \
  "AVX-512 $(grep -q -m1 avx512f /proc/cpuinfo && echo yes || echo no); $rounds round(s); $bench ${bench_args[*]:-}"
for ((round = 1; round <= rounds; ++round)); do
  for config in "${configs[@]}"; do
    IFS='|' read -r name processes threads launcher <<<"$config"
    command=("$bench" "${bench_args[@]}")
    if [[ $launcher == mpirun ]]; then
      command=(mpirun -np "$processes" --oversubscribe "${mpirun_flags[@]}" -x OPENBLAS_NUM_THREADS "${command[@]}")
    fi
    echo "== round $round of $rounds: $name"
    # The line the bench prints on rank 0; a failing configuration is reported and skipped.
    if line=$(OPENBLAS_NUM_THREADS=$threads timeout 600 "${command[@]}" | grep '^data_parallel '); then
      echo "$line"
      echo "$name $processes $threads $line" >>"$work/lines"
    else
      echo "data_parallel.sh: $name failed (command: ${command[*]})" >&2
    fi
  done
done

[[ -s $work/lines ]] || { echo "data_parallel.sh: no configuration ran" >&2; exit 1; }
echo
# Best (lowest) epoch and allreduce time of each configuration over the rounds, in the order run.
awk '
  function field(key,   i, kv) {
    for (i = 4; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
    return ""
  }
  {
    name = $1
    if (!(name in epoch)) { order[++count] = name; procs[name] = $2; threads[name] = $3; epoch[name] = 1e300; ar[name] = 1e300 }
    e = field("epoch_s") + 0; a = field("allreduce_us") + 0
    if (e < epoch[name]) epoch[name] = e
    if (a < ar[name]) ar[name] = a
    steps[name] = field("steps"); loss[name] = field("loss"); rss[name] = field("rss_mb")
  }
  END {
    t1 = epoch["single_1thread"]
    printf "%-16s %5s %7s %9s %12s %9s %6s %10s %8s %7s\n", "configuration", "procs", "threads", "epoch_s",
           "allreduce_us", "ar_share", "vs_T1", "efficiency", "loss", "rss_mb"
    for (i = 1; i <= count; ++i) {
      n = order[i]; p = procs[n] * threads[n]
      share = procs[n] > 1 ? sprintf("%.1f%%", 100 * steps[n] * ar[n] * 1e-6 / epoch[n]) : "-"
      arus = procs[n] > 1 ? sprintf("%.1f", ar[n]) : "-"
      printf "%-16s %5d %7d %9.3f %12s %9s %6.2f %9.0f%% %8s %7s\n", n, procs[n], threads[n], epoch[n], arus, share,
             epoch[n] / t1, 100 * t1 / (p * epoch[n]), loss[n], rss[n]
    }
  }' "$work/lines"
