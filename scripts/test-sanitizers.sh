#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (-DXDENSE_SANITIZE=ON) in
# build-asan/ and runs the whole ctest suite there. Any sanitizer report fails the run.
# Extra arguments go to the CMake configure step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
# The benchmark programs are built and smoke-tested by test.sh; not again here.
cmake -S "$root" -B "$root/build-asan" -DXDENSE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXDENSE_BUILD_BENCHMARKS=OFF "$@"
cmake --build "$root/build-asan" -j"$(nproc)"
# Leaks are errors too; UBSan stops at the first report (the build also sets -fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$root/build-asan"
ctest --output-on-failure -j"$(nproc)"
