"""GET/POST /v1/libraries/{id}/index."""
import time

from quiver_testlib import assert_problem
from quiver_testlib.client import uniq
from util import assert_index_status_shape, lib_path


def _index_path(lib_id):
    return "/v1/libraries/%s/index" % lib_id


def _fill(api, lib_id, n):
    api.create_document(lib_id, chunks=[{"text": "", "embedding": [float(i), float(i % 7)]}
                                        for i in range(n)])


def test_get_index_status_shape(api):
    lib = api.create_library(dimension=2, metric="l2", index={"type": "hnsw", "params": {"m": 12}})
    _fill(api, lib["id"], 50)
    r = api.get(_index_path(lib["id"]))
    assert r.status_code == 200, r.text
    st = r.json()
    assert_index_status_shape(st)
    assert st["type"] == "hnsw"
    assert st["params"] == api.ok(api.get(lib_path(lib["id"])))["index"]["params"]
    assert st["params"]["m"] == 12
    assert st["indexed_chunks"] + st["pending_chunks"] == 50


def test_post_index_wait_true_200(api):
    lib = api.create_library(dimension=2, metric="l2", index={"type": "flat"})
    _fill(api, lib["id"], 100)
    r = api.post(_index_path(lib["id"]), json={"type": "hnsw", "params": {"ef_search": 32}},
                 params={"wait": "true"})
    assert r.status_code == 200, r.text
    st = r.json()
    assert_index_status_shape(st)
    assert st["type"] == "hnsw" and st["state"] == "ready"
    assert st["indexed_chunks"] == 100 and st["pending_chunks"] == 0
    assert st["params"]["ef_search"] == 32
    got = api.ok(api.get(lib_path(lib["id"])))
    assert got["index"]["type"] == "hnsw"
    assert got["index_status"]["type"] == "hnsw"
    res = api.search(lib["id"], {"vector": [10, 3], "k": 1})
    assert res["index"] == "hnsw"
    assert res["results"][0]["score"] < 1e-4


def test_post_index_async_202(api):
    lib = api.create_library(dimension=2, metric="l2", index={"type": "flat"})
    _fill(api, lib["id"], 200)
    r = api.post(_index_path(lib["id"]), json={"type": "ivf"})
    assert r.status_code == 202, r.text
    st = r.json()
    assert_index_status_shape(st)
    assert st["type"] == "ivf"
    # Searches keep working while it builds, and it eventually becomes ready.
    deadline = time.monotonic() + 30
    while True:
        res = api.search(lib["id"], {"vector": [5, 5], "k": 1})
        assert res["results"][0]["score"] < 1e-4
        st = api.ok(api.get(_index_path(lib["id"])))
        if st["state"] == "ready" and st["pending_chunks"] == 0:
            break
        assert time.monotonic() < deadline, st
        time.sleep(0.1)
    assert st["indexed_chunks"] == 200


def test_post_index_empty_body_rebuilds_same_type(api):
    lib = api.create_library(dimension=2, metric="l2", index={"type": "kdtree"})
    _fill(api, lib["id"], 30)
    st = api.ok(api.post(_index_path(lib["id"]), json={}, params={"wait": "true"}))
    assert st["type"] == "kdtree" and st["indexed_chunks"] == 30
    # No body at all (the body is optional).
    r = api.post(_index_path(lib["id"]), params={"wait": "true"})
    assert r.status_code == 200, r.text
    r = api.post(_index_path(lib["id"]), params={"wait": "false"})
    assert r.status_code == 202, r.text


def test_post_index_invalid(api):
    lib = api.create_library(dimension=2)
    assert_problem(api.post(_index_path(lib["id"]), json={"type": "btree"}), 422,
                   field=("type", "index.type"))
    assert_problem(api.post(_index_path(lib["id"]), json={"type": "hnsw",
                                                          "params": {"colour": 1}}), 422,
                   field=("params.colour", "index.params.colour"))
    assert_problem(api.post(_index_path(lib["id"]), json={"type": "hnsw", "colour": 1}), 422,
                   field="colour")
    assert_problem(api.post(_index_path(lib["id"]), json={}, params={"wait": "maybe"}), 400,
                   field="wait")
    assert api.ok(api.get(lib_path(lib["id"])))["index"] == lib["index"]
    assert_problem(api.get(_index_path(uniq("nolib"))), 404)
    assert_problem(api.post(_index_path(uniq("nolib")), json={}), 404)
