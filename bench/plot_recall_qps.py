#!/usr/bin/python3
"""Draws recall@10 vs QPS (log scale) from CSVs written by ann_bench, one panel per CSV.

Usage: /usr/bin/python3 bench/plot_recall_qps.py [IN.csv ...] [OUT.png]
  e.g. bench/plot_recall_qps.py bench/results/ann-ab-fashion.csv \
           bench/results/ann-ab-fashion-rotated.csv docs/recall_qps.png
The last argument is the output when it ends in .png (default docs/recall_qps.png); the
default input is bench/results/ann-fashion.csv. Uses Debian's matplotlib with the Agg
backend (no display needed). Accepts the old CSV layout without a "data" column.
"""
import csv
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TITLES = {
    "fashion": "Fashion-MNIST 60k x 784 (integer pixels: 8-bit codes exact)",
    "fashion-rotated": "Fashion-MNIST x random rotation (float coordinates)",
    "gaussian": "clustered Gaussian 100k x 128, mixed scales",
}


def read(path):
    curves = OrderedDict()
    data = None
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            data = row.get("data", data)
            curves.setdefault(row["index"], []).append(
                (float(row["recall"]), float(row["qps"])))
    return data, curves


def main() -> int:
    args = sys.argv[1:]
    dst = "docs/recall_qps.png"
    if args and args[-1].endswith(".png"):
        dst = args.pop()
    srcs = args or ["bench/results/ann-fashion.csv"]
    fig, axes = plt.subplots(1, len(srcs), figsize=(8 * len(srcs), 6), squeeze=False)
    for ax, src in zip(axes[0], srcs):
        data, curves = read(src)
        for name, pts in curves.items():
            pts.sort()
            style = "o-" if len(pts) > 1 else "s"
            lw = 2.5 if name.startswith("quiver hnsw") else 1.2
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=name,
                    linewidth=lw, markersize=4)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second (1 thread, log scale)")
        ax.set_title(TITLES.get(data, data or src) + ", L2, k=10", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print(f"wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
