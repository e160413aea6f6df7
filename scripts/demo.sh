#!/usr/bin/env bash
# README's first command: set up, build, and run the main job on the shipped data.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
"$root/build/apps/xdense" demo --data-dir "$root/data"
