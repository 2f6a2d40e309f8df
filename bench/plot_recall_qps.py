#!/usr/bin/python3
"""Draws recall@10 vs QPS (log scale) from the CSV written by ann_bench.

Usage: /usr/bin/python3 bench/plot_recall_qps.py [bench/results/ann.csv] [docs/recall_qps.png]
Uses Debian's matplotlib with the Agg backend (no display needed).
"""
import csv
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> int:
    src = sys.argv[1] if len(sys.argv) > 1 else "bench/results/ann.csv"
    dst = sys.argv[2] if len(sys.argv) > 2 else "docs/recall_qps.png"
    curves = OrderedDict()
    with open(src, newline="") as f:
        for row in csv.DictReader(f):
            curves.setdefault(row["index"], []).append(
                (float(row["recall"]), float(row["qps"]), row["knob"], row["value"]))
    fig, ax = plt.subplots(figsize=(9, 6))
    for name, pts in curves.items():
        pts.sort()
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        style = "o-" if len(pts) > 1 else "s"
        lw = 2.5 if name.startswith("quiver hnsw") else 1.2
        ax.plot(xs, ys, style, label=name, linewidth=lw, markersize=4)
    ax.set_yscale("log")
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second (1 thread, log scale)")
    ax.set_title("Fashion-MNIST 60k x 784, L2, k=10")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(dst, dpi=120)
    print(f"wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
