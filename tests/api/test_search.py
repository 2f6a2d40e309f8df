"""Search: results against a brute-force numpy answer, validation, include, ties, freshness."""
import numpy as np
import pytest

from quiver_testlib import assert_problem
from quiver_testlib.client import uniq
from util import chunk_path, doc_path


def _search_path(lib_id):
    return "/v1/libraries/%s/search" % lib_id


def brute_force(data, q, metric, k):
    """(ids order, scores) as the contract defines them, in float64 over float32 inputs."""
    x = data.astype(np.float32).astype(np.float64)
    q = np.asarray(q, dtype=np.float32).astype(np.float64)
    if metric == "l2":
        scores = np.sqrt(((x - q) ** 2).sum(axis=1))
        order = np.argsort(scores, kind="stable")
    elif metric == "dot":
        scores = x @ q
        order = np.argsort(-scores, kind="stable")
    else:
        scores = (x @ q) / (np.linalg.norm(x, axis=1) * np.linalg.norm(q))
        order = np.argsort(-scores, kind="stable")
    return order[:k], scores


def assert_matches_brute_force(results, data, ids, q, metric, k):
    order, scores = brute_force(data, q, metric, k)
    assert len(results) == min(k, len(ids))
    got_ids = [r["chunk_id"] for r in results]
    want_ids = [ids[i] for i in order]
    id_to_row = {cid: i for i, cid in enumerate(ids)}
    for pos, r in enumerate(results):
        want = scores[order[pos]]
        assert r["score"] == pytest.approx(want, rel=1e-4, abs=1e-5), (pos, r, want)
        # The score the server reports is the score of the chunk it names.
        assert r["score"] == pytest.approx(scores[id_to_row[r["chunk_id"]]], rel=1e-4, abs=1e-5)
        if got_ids[pos] != want_ids[pos]:
            # Only a float32 near-tie may swap neighbours.
            assert abs(scores[id_to_row[got_ids[pos]]] - want) <= 1e-5 * max(1, abs(want)), \
                (got_ids, want_ids)
    assert len(set(got_ids)) == len(got_ids)


def _fill(api, metric, n=300, dim=16, index=None, seed=1):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, dim)).astype(np.float32)
    lib = api.create_library(dimension=dim, metric=metric, index=index or {"type": "flat"})
    ids = ["c%04d" % i for i in range(n)]
    docs = []
    for start in range(0, n, 100):
        d = api.create_document(lib["id"], chunks=[
            {"id": ids[i], "text": "t%d" % i, "embedding": [float(v) for v in data[i]],
             "metadata": {"page": i}} for i in range(start, min(n, start + 100))])
        docs.append(d["id"])
    return lib, data, ids, docs, rng


@pytest.mark.parametrize("metric", ["l2", "cosine", "dot"])
def test_exact_results_match_brute_force(api, metric):
    lib, data, ids, docs, rng = _fill(api, metric)
    for _ in range(5):
        q = rng.normal(size=data.shape[1]).astype(np.float32)
        for k in (1, 7, 10):
            res = api.search(lib["id"], {"vector": [float(v) for v in q], "k": k})
            assert res["index"] == "flat"
            assert isinstance(res["exact"], bool)
            assert_matches_brute_force(res["results"], data, ids, q, metric, k)
    # Each result carries its document id and, by default, text and metadata but no embedding.
    q = data[42]
    res = api.search(lib["id"], {"vector": [float(v) for v in q], "k": 3})
    top = res["results"][0]
    if metric != "dot":
        assert top["chunk_id"] == "c0042"
    for r in res["results"]:
        row = int(r["chunk_id"][1:])
        assert r["document_id"] == docs[row // 100]
        assert r["text"] == "t%d" % row
        assert r["metadata"]["page"] == row
        assert "embedding" not in r


@pytest.mark.parametrize("itype", ["hnsw", "ivf", "kdtree"])
def test_exact_true_on_approximate_index(api, itype):
    lib, data, ids, _, rng = _fill(api, "l2", n=400, index={"type": itype})
    api.ok(api.post("/v1/libraries/%s/index" % lib["id"], json={}, params={"wait": "true"}))
    for _ in range(3):
        q = rng.normal(size=data.shape[1]).astype(np.float32)
        res = api.search(lib["id"], {"vector": [float(v) for v in q], "k": 10,
                                     "params": {"exact": True}})
        assert res["exact"] is True
        assert res["index"] == itype
        assert_matches_brute_force(res["results"], data, ids, q, "l2", 10)
        # Without exact the index answers; a stored vector still finds itself first.
        res = api.search(lib["id"], {"vector": [float(v) for v in data[7]], "k": 5})
        assert res["index"] == itype
        assert res["results"][0]["chunk_id"] == "c0007"
        assert res["results"][0]["score"] == pytest.approx(0, abs=1e-4)


def test_default_k_is_10_and_k_over_count(api):
    lib, data, ids, _, _ = _fill(api, "l2", n=30, dim=4)
    res = api.search(lib["id"], {"vector": [0, 0, 0, 0]})
    assert_matches_brute_force(res["results"], data, ids, np.zeros(4), "l2", 10)
    small = api.create_library(dimension=2, metric="l2", index={"type": "flat"})
    api.create_document(small["id"], chunks=[{"id": "s%d" % i, "text": "", "embedding": [i, 0]}
                                             for i in range(5)])
    res = api.search(small["id"], {"vector": [0, 0], "k": 50})
    assert [r["chunk_id"] for r in res["results"]] == ["s0", "s1", "s2", "s3", "s4"]
    assert [r["score"] for r in res["results"]] == pytest.approx([0, 1, 2, 3, 4])
    res = api.search(small["id"], {"vector": [0, 0], "k": 1000})
    assert len(res["results"]) == 5
    empty = api.create_library(dimension=2, metric="l2")
    assert api.search(empty["id"], {"vector": [0, 0]})["results"] == []


def test_validation(api):
    lib = api.create_library(dimension=3, metric="cosine")
    p = _search_path(lib["id"])
    for k in (0, 1001, -1):
        assert_problem(api.post(p, json={"vector": [1, 2, 3], "k": k}), 422, field="k")
    assert_problem(api.post(p, json={"vector": [1, 2, 3], "k": "5"}), 422, field="k")
    assert_problem(api.post(p, json={"vector": [1, 2, 3], "k": 2.5}), 422, field="k")
    assert_problem(api.post(p, json={"vector": [1, 2]}), 422, field="vector")
    assert_problem(api.post(p, json={"vector": [1, 2, 3, 4]}), 422, field="vector")
    assert_problem(api.post(p, json={"vector": [1, "2", 3]}), 422, field=("vector", "vector[1]"))
    assert_problem(api.post(p, json={"vector": [1, 2, 3], "text": "hello"}), 422)
    assert_problem(api.post(p, json={"k": 3}), 422)
    assert_problem(api.post(p, json={"text": "hello"}), 422, field="text")
    assert_problem(api.post(p, json={"vector": [1, 2, 3], "include": ["colour"]}), 422,
                   field=("include", "include[0]"))
    assert_problem(api.post(p, json={"vector": [1, 2, 3], "colour": 1}), 422, field="colour")
    assert_problem(api.post(p, json={"vector": [1, 2, 3], "params": {"colour": 1}}), 422,
                   field="params.colour")
    assert_problem(api.post(p, json={"vector": [1, 2, 3], "params": {"exact": "yes"}}), 422,
                   field="params.exact")
    raw = '{"vector": [1, 1e39, 3]}'
    assert_problem(api.post(p, data=raw, headers={"Content-Type": "application/json"}), 422,
                   field=("vector", "vector[1]"))
    assert_problem(api.post(_search_path(uniq("nolib")), json={"vector": [1, 2, 3]}), 404)


def test_include_variations(api):
    lib = api.create_library(dimension=2, metric="l2", index={"type": "flat"})
    d = api.create_document(lib["id"], chunks=[{"id": "i1", "text": "hello", "embedding": [0.1, 2],
                                                "metadata": {"section": "s"}}])
    q = {"vector": [0, 0], "k": 1}
    r = api.search(lib["id"], dict(q, include=[]))["results"][0]
    assert set(r) == {"chunk_id", "document_id", "score"}
    assert r["document_id"] == d["id"]
    r = api.search(lib["id"], dict(q, include=["embedding"]))["results"][0]
    assert set(r) == {"chunk_id", "document_id", "score", "embedding"}
    assert r["embedding"] == [0.1, 2]
    r = api.search(lib["id"], dict(q, include=["text"]))["results"][0]
    assert set(r) == {"chunk_id", "document_id", "score", "text"} and r["text"] == "hello"
    r = api.search(lib["id"], dict(q, include=["metadata"]))["results"][0]
    assert set(r) == {"chunk_id", "document_id", "score", "metadata"}
    assert r["metadata"]["section"] == "s" and r["metadata"]["position"] == 0
    r = api.search(lib["id"], q)["results"][0]
    assert set(r) == {"chunk_id", "document_id", "score", "text", "metadata"}
    r = api.search(lib["id"], dict(q, include=["text", "metadata", "embedding"]))["results"][0]
    assert set(r) == {"chunk_id", "document_id", "score", "text", "metadata", "embedding"}


@pytest.mark.parametrize("metric", ["l2", "cosine", "dot"])
def test_ties_break_by_chunk_id(api, metric):
    lib = api.create_library(dimension=3, metric=metric, index={"type": "flat"})
    scrambled = ["t-07", "t-02", "t-10", "t-01", "t-05", "t-09", "t-03"]
    api.create_document(lib["id"], chunks=[{"id": i, "text": "", "embedding": [1, 2, 3]}
                                           for i in scrambled])
    api.create_document(lib["id"], chunks=[{"id": "far", "text": "", "embedding": [-3, -2, -1]}])
    res = api.search(lib["id"], {"vector": [1, 2, 3], "k": 5})
    assert [r["chunk_id"] for r in res["results"]] == sorted(scrambled)[:5]
    assert len({r["score"] for r in res["results"]}) == 1
    res = api.search(lib["id"], {"vector": [1, 2, 3], "k": 8, "params": {"exact": True}})
    assert [r["chunk_id"] for r in res["results"]] == sorted(scrambled) + ["far"]


def test_updates_and_deletes_visible_in_next_search(api):
    lib, data, ids, docs, rng = _fill(api, "l2", n=200, dim=8, index={"type": "hnsw"})
    api.ok(api.post("/v1/libraries/%s/index" % lib["id"], json={}, params={"wait": "true"}))
    q = [float(v) for v in rng.normal(size=8) * 10]
    # Move a chunk onto the query: it becomes the nearest in the very next search.
    api.ok(api.patch(chunk_path(lib["id"], "c0100"), json={"embedding": q}))
    res = api.search(lib["id"], {"vector": q, "k": 3})
    assert res["results"][0]["chunk_id"] == "c0100"
    assert res["results"][0]["score"] == pytest.approx(0, abs=1e-4)
    res = api.search(lib["id"], {"vector": q, "k": 3, "params": {"exact": True}})
    assert res["results"][0]["chunk_id"] == "c0100"
    # Delete it: gone from the next search.
    assert api.delete(chunk_path(lib["id"], "c0100")).status_code == 204
    for exact in (False, True):
        res = api.search(lib["id"], {"vector": q, "k": 10, "params": {"exact": exact}})
        assert "c0100" not in [r["chunk_id"] for r in res["results"]]
    # New chunks are searchable immediately.
    api.add_chunks(lib["id"], docs[0], [{"id": "fresh", "text": "", "embedding": q}])
    res = api.search(lib["id"], {"vector": q, "k": 1})
    assert res["results"][0]["chunk_id"] == "fresh"
    # Deleting a whole document removes all its chunks from results.
    assert api.delete(doc_path(lib["id"], docs[1])).status_code == 204
    gone = set(ids[100:200])
    res = api.search(lib["id"], {"vector": [float(v) for v in data[150]], "k": 50})
    assert not gone & {r["chunk_id"] for r in res["results"]}


def test_cosine_zero_query_or_ranking_consistency(api):
    # A cosine library ranks by angle only: scaling a stored vector changes nothing.
    lib = api.create_library(dimension=2, metric="cosine", index={"type": "flat"})
    api.create_document(lib["id"], chunks=[
        {"id": "a", "text": "", "embedding": [100, 1]},
        {"id": "b", "text": "", "embedding": [0.5, 0.5]},
        {"id": "c", "text": "", "embedding": [-1, 0]}])
    res = api.search(lib["id"], {"vector": [1, 0], "k": 3})
    assert [r["chunk_id"] for r in res["results"]] == ["a", "b", "c"]
    assert res["results"][2]["score"] == pytest.approx(-1, rel=1e-5)
    assert res["results"][1]["score"] == pytest.approx(2 ** -0.5, rel=1e-5)
