#!/usr/bin/python3
"""End-to-end HTTP benchmark of quiverd on Fashion-MNIST (60,000 x 784, l2).

Measures, against a Release quiverd on a fresh data dir, each run `--runs` times (medians):
  1. ingest chunks/s: POST .../chunks in batches of 1,000, bodies pre-encoded before timing,
     over one connection and over two concurrent connections;
  2. search requests/s and latency p50/p99 with 1 and 16 keep-alive connections (wrk + Lua,
     cycling through pre-encoded k=10 query bodies from the first 1,000 test images);
  3. restart time with the 60,000 chunks stored: SIGTERM, start again, time to /readyz 200.
Prints markdown tables. Usage: QUIVERD=build/release/src/server/quiverd bench/http_bench.py
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from quiver_testlib import QuiverServer, find_quiverd  # noqa: E402

DATASET = "/usr/share/datasets/fashion-mnist"


def load_idx_images(path, limit=None):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, "not an IDX image file: " + path
        n = n if limit is None else min(n, limit)
        raw = f.read(n * rows * cols)
    return np.frombuffer(raw, dtype=np.uint8).reshape(n, rows * cols).astype(np.float32)


def encode_batches(train, batch):
    """Pre-encoded request bodies (bytes), one per batch of `batch` rows."""
    bodies = []
    for start in range(0, len(train), batch):
        rows = train[start:start + batch].astype(np.int32).tolist()  # pixels are integers
        chunks = [{"id": "c%d" % (start + i), "text": "", "embedding": r}
                  for i, r in enumerate(rows)]
        bodies.append(json.dumps({"chunks": chunks}, separators=(",", ":")).encode())
    return bodies


def start_server(binary, threads, data_dir=None):
    srv = QuiverServer(binary=binary, data_dir=data_dir, log_level="warn", threads=threads,
                       extra_args=["--max-body-bytes", str(256 << 20)])
    srv.start(ready_timeout=120)
    return srv


def make_library(base, n_docs):
    s = requests.Session()
    r = s.post(base + "/v1/libraries", json={"name": "fmnist-%d" % time.time_ns(),
                                              "dimension": 784, "metric": "l2"}, timeout=30)
    r.raise_for_status()
    lib = r.json()
    docs = []
    for i in range(n_docs):
        r = s.post(base + "/v1/libraries/%s/documents" % lib["id"], json={"title": "b%d" % i},
                   timeout=30)
        r.raise_for_status()
        docs.append(r.json()["id"])
    return lib, docs


def ingest(base, lib_id, docs, bodies, connections):
    """Posts every body (body i into docs[i]) over `connections` sessions; returns seconds."""
    errors = []

    def worker(idx):
        s = requests.Session()
        for i in range(idx, len(bodies), connections):
            r = s.post(base + "/v1/libraries/%s/documents/%s/chunks" % (lib_id, docs[i]),
                       data=bodies[i], headers={"Content-Type": "application/json"}, timeout=600)
            if r.status_code != 201:
                errors.append("%d %s" % (r.status_code, r.text[:300]))
                return
        s.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError("ingest failed: " + errors[0])
    return elapsed


def run_wrk(base, lib_id, bodies_file, connections, duration):
    threads = min(connections, 2)
    cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % duration, "--latency",
           "-s", os.path.join(HERE, "http_search.lua"), base, "--", bodies_file,
           "/v1/libraries/%s/search" % lib_id]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("QUIVER_WRK ")]
    if not line:
        raise RuntimeError("wrk printed no summary:\n" + out)
    stats = json.loads(line[-1][len("QUIVER_WRK "):])
    if stats["errors"]:
        raise RuntimeError("wrk saw %d errors (%d non-2xx):\n%s"
                           % (stats["errors"], stats["non2xx"], out))
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    return stats


def recall_at_10(base, lib_id, train, queries, n):
    s = requests.Session()
    hits = 0
    for q in queries[:n]:
        r = s.post(base + "/v1/libraries/%s/search" % lib_id,
                   json={"vector": q.astype(np.int32).tolist(), "k": 10, "include": []},
                   timeout=60)
        r.raise_for_status()
        got = {x["chunk_id"] for x in r.json()["results"]}
        d = ((train - q) ** 2).sum(axis=1)
        want = {"c%d" % i for i in np.argsort(d, kind="stable")[:10]}
        hits += len(got & want)
    return hits / (10.0 * n)


def median(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quiverd", default=find_quiverd())
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--threads", type=int, default=0, help="quiverd --threads (0: its default)")
    args = ap.parse_args()
    if not args.quiverd:
        sys.exit("set QUIVERD or --quiverd to a Release quiverd binary")

    train = load_idx_images(os.path.join(DATASET, "train-images-idx3-ubyte.gz"), args.rows)
    queries = load_idx_images(os.path.join(DATASET, "t10k-images-idx3-ubyte.gz"), args.queries)
    bodies = encode_batches(train, args.batch)
    tmp = tempfile.mkdtemp(prefix="quiver-http-bench-")
    qfile = os.path.join(tmp, "queries.jsonl")
    with open(qfile, "w") as f:
        for q in queries:
            f.write(json.dumps({"vector": q.astype(np.int32).tolist(), "k": 10, "include": []},
                               separators=(",", ":")) + "\n")
    print("dataset: %d x %d train rows, %d queries, %d bodies of %d chunks (%.1f MB each)"
          % (len(train), train.shape[1], len(queries), len(bodies), args.batch,
             len(bodies[0]) / 1e6), file=sys.stderr)
    threads = args.threads or None

    ingest_rates = {1: [], 2: []}
    search = {1: [], 16: []}
    restarts = []
    index_type = None
    index_status = None
    recall = None
    for run in range(args.runs):
        for conns in (1, 2):
            srv = start_server(args.quiverd, threads)
            try:
                lib, docs = make_library(srv.base_url, len(bodies))
                index_type = lib["index"]["type"]
                secs = ingest(srv.base_url, lib["id"], docs, bodies, conns)
                ingest_rates[conns].append(len(train) / secs)
                print("run %d: ingest %d conn: %.0f chunks/s" % (run, conns, len(train) / secs),
                      file=sys.stderr)
                if conns == 1:
                    srv.stop()
                    srv.cleanup()
                    continue
                # The 2-connection server keeps its data for search and restart timing.
                r = requests.post(srv.base_url + "/v1/libraries/%s/index" % lib["id"],
                                  params={"wait": "true"}, json={}, timeout=3600)
                r.raise_for_status()
                index_status = r.json()
                if run == 0:
                    recall = recall_at_10(srv.base_url, lib["id"], train, queries, 100)
                for conns_s in (1, 16):
                    st = run_wrk(srv.base_url, lib["id"], qfile, conns_s, args.duration)
                    search[conns_s].append(st)
                    print("run %d: search %d conn: %.0f req/s p50 %.2f ms p99 %.2f ms"
                          % (run, conns_s, st["rps"], st["p50_us"] / 1e3, st["p99_us"] / 1e3),
                          file=sys.stderr)
                rc = srv.stop(timeout=120)
                if rc != 0:
                    raise RuntimeError("quiverd exited %r on SIGTERM" % rc)
                t0 = time.perf_counter()
                srv.start(ready_timeout=600)
                restarts.append(time.perf_counter() - t0)
                got = requests.get(srv.base_url + "/v1/libraries/" + lib["id"], timeout=30).json()
                if got["stats"]["chunk_count"] != len(train):
                    raise RuntimeError("after restart chunk_count=%r" % got["stats"])
                print("run %d: restart %.3f s" % (run, restarts[-1]), file=sys.stderr)
                srv.stop(timeout=120)
            finally:
                srv.cleanup()

    print()
    print("### quiverd HTTP benchmark: Fashion-MNIST %d x 784, l2, index `%s`, medians of %d runs"
          % (len(train), index_type, args.runs))
    print()
    if index_status:
        # Honest context: chunks not yet indexed are served by exact scan.
        print("index_status before search: state %s, indexed_chunks %d, pending_chunks %d; "
              "machine load average %.1f" % (index_status["state"], index_status["indexed_chunks"],
                                             index_status["pending_chunks"], os.getloadavg()[0]))
        print()
    print("| measurement | connections | result |")
    print("| --- | ---: | ---: |")
    for conns in (1, 2):
        print("| ingest (batches of %d) | %d | %.0f chunks/s |"
              % (args.batch, conns, median(ingest_rates[conns])))
    for conns in (1, 16):
        runs = search[conns]
        print("| search k=10 (wrk, %d s) | %d | %.0f req/s |"
              % (args.duration, conns, median([s["rps"] for s in runs])))
        print("| search latency p50 / p99 | %d | %.2f / %.2f ms |"
              % (conns, median([s["p50_us"] for s in runs]) / 1e3,
                 median([s["p99_us"] for s in runs]) / 1e3))
    print("| restart to /readyz 200 (%d chunks stored) | - | %.3f s |"
          % (len(train), median(restarts)))
    if recall is not None:
        print("| recall@10 (first 100 queries vs exact) | - | %.3f |" % recall)


if __name__ == "__main__":
    main()
