#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang in build-fuzz/ and runs each one for
# FUZZ_SECONDS seconds (default 20) from its seed corpus in tests/fuzz/corpus/<target>/.
# A crash, sanitizer report, uncaught non-xdense exception, timeout (> 10 s per input) or an
# allocation over 128 MiB fails the run; the input is saved in build-fuzz/artifacts/.
# New inputs go to build-fuzz/corpus/<target>/ (the committed seeds are never modified).
# FUZZ_JOBS targets (default: one per core) run at the same time, each on one core.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-20}"
jobs="${FUZZ_JOBS:-$(nproc)}"
targets=(csv idx npy model_config model_file)
"$root/scripts/setup.sh"
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz-smoke: clang++ not found (scripts/setup.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
build="$root/build-fuzz"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DXDENSE_BUILD_FUZZERS=ON -DXDENSE_BUILD_TESTS=OFF -DXDENSE_BUILD_APPS=OFF -DXDENSE_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j"$(nproc)"

mkdir -p "$build/artifacts"
# One target: its log in build-fuzz/fuzz_<target>.log, its exit status in build-fuzz/fuzz_<target>.status.
fuzz_one() {
  local target=$1 status=0
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=128 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target-" \
    "$build/corpus/$target" "$root/tests/fuzz/corpus/$target" 2>"$build/fuzz_$target.log" || status=$?
  echo "$status" >"$build/fuzz_$target.status"
}
for target in "${targets[@]}"; do
  mkdir -p "$build/corpus/$target"
  rm -f "$build/fuzz_$target.status"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "fuzz-smoke: fuzz_$target for ${seconds}s"
  fuzz_one "$target" &
done
wait
for target in "${targets[@]}"; do
  if [ "$(cat "$build/fuzz_$target.status" 2>/dev/null)" != 0 ]; then
    tail -n 60 "$build/fuzz_$target.log" >&2
    echo "fuzz-smoke: fuzz_$target FAILED (log: $build/fuzz_$target.log)" >&2
    exit 1
  fi
  echo "fuzz-smoke: fuzz_$target"
  grep -E '^stat::number_of_executed_units|^Done' "$build/fuzz_$target.log" || true
done
echo "fuzz-smoke: all ${#targets[@]} targets ran ${seconds}s each without a finding"
