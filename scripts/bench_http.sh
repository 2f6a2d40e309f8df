#!/usr/bin/env bash
# HTTP benchmark: Release quiverd on Fashion-MNIST (ingest, search via wrk, restart time).
# Usage: scripts/bench_http.sh [extra args for bench/http_bench.py, e.g. --runs 1]
# Env: QUIVERD (use this binary instead of building build/release), JOBS (build jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${QUIVERD:-}" ]]; then
  cmake --preset release > /dev/null
  cmake --build build/release -j "${JOBS:-2}" --target quiverd
  QUIVERD="$PWD/build/release/src/server/quiverd"
fi
command -v wrk > /dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
QUIVERD="$QUIVERD" exec /usr/bin/python3 bench/http_bench.py "$@"
