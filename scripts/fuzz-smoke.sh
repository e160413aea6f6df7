#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang in build-fuzz/ and runs each one for
# FUZZ_SECONDS seconds (default 20) from its seed corpus in tests/fuzz/corpus/<target>/.
# A crash, sanitizer report, uncaught non-xdense exception, timeout (> 10 s per input) or an
# allocation over 128 MiB fails the run; the input is saved in build-fuzz/artifacts/.
# New inputs go to build-fuzz/corpus/<target>/ (the committed seeds are never modified).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-20}"
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
for target in "${targets[@]}"; do
  mkdir -p "$build/corpus/$target"
  echo "fuzz-smoke: fuzz_$target for ${seconds}s"
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=128 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target-" \
    "$build/corpus/$target" "$root/tests/fuzz/corpus/$target" 2>"$build/fuzz_$target.log" || {
    tail -n 60 "$build/fuzz_$target.log" >&2
    echo "fuzz-smoke: fuzz_$target FAILED (log: $build/fuzz_$target.log)" >&2
    exit 1
  }
  grep -E '^stat::number_of_executed_units|^Done' "$build/fuzz_$target.log" || true
done
echo "fuzz-smoke: all ${#targets[@]} targets ran ${seconds}s each without a finding"
