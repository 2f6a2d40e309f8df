#!/usr/bin/env bash
# Runs every benchmark against the Release build and prints their markdown tables.
# `make bench` calls this after `make build`. Each program can also be run on its own;
# pass BENCH=flat|ann|kdtree|http to run one. Results land in bench/results/ (git-ignored).
#
# The machines are shared and noisy: each program interleaves or repeats its measurements
# and prints medians and ratios measured in the same run; compare ratios, not absolutes.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/bench
mkdir -p bench/results
stamp() { echo; echo "## $1 ($(date -u +%FT%TZ), load average: $(cut -d' ' -f1-3 /proc/loadavg))"; echo; }

run() {
  case "$1" in
    flat)   stamp "Flat search"; "$BIN/flat_bench" | tee bench/results/flat.md ;;
    ann)    stamp "ANN: recall@10 vs QPS, all indexes and peers (Fashion-MNIST)"
            "$BIN/ann_bench" | tee bench/results/ann.md
            /usr/bin/python3 bench/plot_recall_qps.py bench/results/ann-fashion.csv \
              docs/recall_qps_all.png
            for data in fashion-rotated fashion; do
              stamp "HNSW vs hnswlib, alternating in one process ($data)"
              "$BIN/ann_bench" --data "$data" --ab --cache build/release/graphs \
                | tee "bench/results/ann-ab-$data.md"
            done
            /usr/bin/python3 bench/plot_recall_qps.py bench/results/ann-ab-fashion.csv \
              bench/results/ann-ab-fashion-rotated.csv docs/recall_qps.png ;;
    kdtree) stamp "KD-tree across dimensions"; "$BIN/kdtree_dims" | tee bench/results/kdtree.md ;;
    http)   stamp "HTTP: ingest, search, restart"
            QUIVERD="$PWD/build/release/src/server/quiverd" scripts/bench_http.sh \
              | tee bench/results/http.md ;;
    *) echo "unknown benchmark '$1' (flat, ann, kdtree, http)" >&2; exit 2 ;;
  esac
}

if [[ -n "${BENCH:-}" ]]; then
  run "$BENCH"
else
  for b in flat http kdtree ann; do run "$b"; done
fi
