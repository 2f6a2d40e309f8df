"""Search, updates and deletes over *indexed* data.

quiverd serves fresh rows by exact scan and indexes them once a segment is sealed
(`--seal-threshold`, 20,000 rows by default), so the main suite's small libraries never reach
an approximate index. This module starts a server with a tiny threshold so that most rows live
in sealed, indexed segments.
"""
import subprocess
import time

import numpy as np
import pytest

from quiver_testlib import QuiverServer, find_quiverd
from quiver_testlib.client import Client
from test_search import assert_matches_brute_force
from util import chunk_path, doc_path, lib_path

SEAL = 64


@pytest.fixture(scope="module")
def sealed_api(tmp_path_factory):
    binary = find_quiverd()
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    if "--seal-threshold" not in help_text:
        pytest.skip("quiverd has no --seal-threshold flag")
    srv = QuiverServer(binary=binary, extra_args=["--seal-threshold", str(SEAL)])
    srv.start()
    c = Client(srv.base_url)
    yield srv, c
    c.close()
    rc = srv.stop()
    logs = srv.all_logs()
    srv.cleanup()
    assert rc == 0, logs


def _wait_indexed(c, lib_id, min_indexed, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        st = c.ok(c.get("/v1/libraries/%s/index" % lib_id))
        if st["indexed_chunks"] >= min_indexed and st["state"] == "ready":
            return st
        assert time.monotonic() < deadline, "index never caught up: %r" % st
        time.sleep(0.05)


@pytest.mark.parametrize("itype", ["hnsw", "ivf", "kdtree", "flat"])
def test_indexed_search_updates_deletes_restart(sealed_api, itype):
    srv, c = sealed_api
    rng = np.random.default_rng(11)
    n, dim = 600, 16
    data = rng.normal(size=(n, dim)).astype(np.float32)
    ids = ["s%04d" % i for i in range(n)]
    lib = c.create_library(dimension=dim, metric="l2", index={"type": itype})
    docs = []
    for start in range(0, n, 100):
        docs.append(c.create_document(lib["id"], chunks=[
            {"id": ids[i], "text": "", "embedding": [float(v) for v in data[i]]}
            for i in range(start, start + 100)])["id"])
    st = _wait_indexed(c, lib["id"], n - 2 * SEAL)
    assert st["indexed_chunks"] + st["pending_chunks"] == n

    queries = rng.normal(size=(20, dim)).astype(np.float32)
    hits = 0
    for q in queries:
        body = {"vector": [float(v) for v in q], "k": 10, "include": []}
        exact = c.search(lib["id"], dict(body, params={"exact": True}))
        assert_matches_brute_force(exact["results"], data, ids, q, "l2", 10)
        approx = c.search(lib["id"], body)
        assert approx["index"] == itype
        assert len(approx["results"]) == 10
        want = {r["chunk_id"] for r in exact["results"]}
        hits += len(want & {r["chunk_id"] for r in approx["results"]})
        # Whatever the index returns, scores are true distances, ascending.
        scores = [r["score"] for r in approx["results"]]
        assert scores == sorted(scores)
        for r in approx["results"]:
            row = int(r["chunk_id"][1:])
            assert r["score"] == pytest.approx(float(np.linalg.norm(data[row] - q)), rel=1e-4)
    assert hits / 200 >= 0.8, "recall@10 %.2f of %s over indexed rows" % (hits / 200, itype)

    # An update of an indexed row moves it; its old position no longer finds it.
    old = data[10].copy()
    target = [float(v) for v in rng.normal(size=dim) * 20]
    c.ok(c.patch(chunk_path(lib["id"], "s0010"), json={"embedding": target}))
    for exact in (False, True):
        res = c.search(lib["id"], {"vector": target, "k": 1, "params": {"exact": exact}})
        assert res["results"][0]["chunk_id"] == "s0010"
        res = c.search(lib["id"], {"vector": [float(v) for v in old], "k": 10,
                                   "params": {"exact": exact}})
        for r in res["results"]:
            if r["chunk_id"] == "s0010":
                assert r["score"] > 10, r  # only at its new distance, never the stale one
    # Deletes of indexed rows (one chunk, one whole document) are never returned again.
    assert c.delete(chunk_path(lib["id"], "s0020")).status_code == 204
    assert c.delete(doc_path(lib["id"], docs[1])).status_code == 204  # rows 100..199
    gone = {"s0020"} | {ids[i] for i in range(100, 200)}
    for q in [data[20], data[150], data[199]] + list(queries[:5]):
        for exact in (False, True):
            res = c.search(lib["id"], {"vector": [float(v) for v in q], "k": 50,
                                       "params": {"exact": exact}})
            assert not gone & {r["chunk_id"] for r in res["results"]}
    assert c.ok(c.get(lib_path(lib["id"])))["stats"]["chunk_count"] == n - 101

    # After a graceful restart the same exact answers come back.
    q = [float(v) for v in queries[0]]
    before = c.search(lib["id"], {"vector": q, "k": 20, "params": {"exact": True}})
    assert srv.stop() == 0, srv.all_logs()
    srv.start()
    c.session.close()
    c.base_url = srv.base_url
    after = c.search(lib["id"], {"vector": q, "k": 20, "params": {"exact": True}})
    assert after == before
    res = c.search(lib["id"], {"vector": target, "k": 1})
    assert res["results"][0]["chunk_id"] == "s0010"
