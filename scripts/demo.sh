#!/usr/bin/env bash
# README's first command: set up, build, and reproduce the activation-function tutorial
# (quick run) on the shipped data and, when installed, Fashion-MNIST.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
"$root/build/apps/xdense" tutorial --quick --out "$root/tutorial-output" --data-dir "$root/data"
