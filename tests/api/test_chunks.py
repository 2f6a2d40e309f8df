"""Chunks: batch create, get (with/without embedding), list by position, patch, delete."""
import json

import pytest

from quiver_testlib import assert_problem
from quiver_testlib.client import uniq
from util import (UUID4_RE, assert_chunk_shape, assert_etag_matches, chunk_path, chunks_path,
                  doc_path, etag_version, lib_path)


def _count(api, lib_id):
    return api.ok(api.get(lib_path(lib_id)))["stats"]["chunk_count"]


def test_post_chunks_shape_and_order(api, lib, doc):
    r = api.post(chunks_path(lib["id"], doc["id"]), json={"chunks": [
        {"id": "x1", "text": "first", "embedding": [1, 2, 3, 4], "metadata": {"tags": ["a"]}},
        {"text": "second", "embedding": [4, 3, 2, 1]},
    ]})
    assert r.status_code == 201, r.text
    out = r.json()
    assert set(out) == {"chunks"}
    a, b = out["chunks"]
    for c in (a, b):
        assert_chunk_shape(c)
        assert c["library_id"] == lib["id"] and c["document_id"] == doc["id"]
        assert c["version"] == 1
    assert a["id"] == "x1" and a["text"] == "first" and a["metadata"]["tags"] == ["a"]
    assert UUID4_RE.match(b["id"]) and b["text"] == "second"
    assert (a["metadata"]["position"], b["metadata"]["position"]) == (0, 1)
    assert api.ok(api.get(doc_path(lib["id"], doc["id"])))["chunk_count"] == 2


def test_batch_size_limits(api):
    lib = api.create_library(dimension=1, metric="l2")
    d = api.create_document(lib["id"])
    p = chunks_path(lib["id"], d["id"])
    assert_problem(api.post(p, json={"chunks": []}), 422, field="chunks")
    too_many = [{"text": "", "embedding": [float(i)]} for i in range(10001)]
    assert_problem(api.post(p, json={"chunks": too_many}), 422, field="chunks")
    assert _count(api, lib["id"]) == 0
    r = api.post(p, json={"chunks": too_many[:10000]}, timeout=120)
    assert r.status_code == 201, r.text[:500]
    assert len(r.json()["chunks"]) == 10000
    assert _count(api, lib["id"]) == 10000
    assert api.ok(api.get(doc_path(lib["id"], d["id"])))["chunk_count"] == 10000
    assert_problem(api.post(p, json={}), 422, field="chunks")
    assert_problem(api.post(p, json={"chunks": {"text": "x"}}), 422, field="chunks")


@pytest.mark.parametrize("emb", [[1, 2, 3], [1, 2, 3, 4, 5], []])
def test_embedding_wrong_length_422(api, lib, doc, emb):
    r = api.post(chunks_path(lib["id"], doc["id"]), json={"chunks": [
        {"text": "ok", "embedding": [1, 2, 3, 4]}, {"text": "bad", "embedding": emb}]})
    assert_problem(r, 422, field="chunks[1].embedding")
    assert _count(api, lib["id"]) == 0


def test_embedding_overflowing_float_422(api, lib, doc):
    raw = '{"chunks": [{"text": "big", "embedding": [1, 2, 1e39, 4]}]}'
    r = api.post(chunks_path(lib["id"], doc["id"]), data=raw,
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 422, field=("chunks[0].embedding", "chunks[0].embedding[2]"))
    raw = '{"chunks": [{"text": "big", "embedding": [1, 2, -3.5e38, 4]}]}'
    r = api.post(chunks_path(lib["id"], doc["id"]), data=raw,
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 422, field=("chunks[0].embedding", "chunks[0].embedding[2]"))
    assert _count(api, lib["id"]) == 0


def test_embedding_non_numbers_422(api, lib, doc):
    for emb in ([1, 2, None, 4], [1, 2, True, 4], "1,2,3,4", [[1], 2, 3, 4]):
        r = api.post(chunks_path(lib["id"], doc["id"]),
                     json={"chunks": [{"text": "t", "embedding": emb}]})
        assert_problem(r, 422, field=("chunks[0].embedding", "chunks[0].embedding[0]",
                                      "chunks[0].embedding[2]"))
    assert _count(api, lib["id"]) == 0


def test_text_missing_422(api, lib, doc):
    r = api.post(chunks_path(lib["id"], doc["id"]), json={"chunks": [{"embedding": [1, 2, 3, 4]}]})
    body = assert_problem(r, 422, field="chunks[0].text")
    assert any("required" in e["message"] for e in body["errors"]), body


def test_embedding_missing_without_embedder_422(api, lib, doc):
    r = api.post(chunks_path(lib["id"], doc["id"]), json={"chunks": [{"text": "hello"}]})
    assert_problem(r, 422, field="chunks[0].embedding")


def test_empty_text_allowed_with_embedding(api, lib, doc):
    c = api.add_chunks(lib["id"], doc["id"], [{"text": "", "embedding": [1, 2, 3, 4]}])[0]
    assert c["text"] == ""
    assert api.ok(api.get(chunk_path(lib["id"], c["id"])))["text"] == ""


def test_unknown_field_and_metadata_422(api, lib, doc):
    p = chunks_path(lib["id"], doc["id"])
    good = {"text": "t", "embedding": [1, 2, 3, 4]}
    cases = [
        (dict(good, colour="red"), "chunks[1].colour"),
        (dict(good, metadata={"position": -1}), "chunks[1].metadata.position"),
        (dict(good, metadata={"position": "1"}), "chunks[1].metadata.position"),
        (dict(good, metadata={"page": 1.5}), "chunks[1].metadata.page"),
        (dict(good, metadata={"author": "x"}), "chunks[1].metadata.author"),
        (dict(good, metadata={"updated_at": "x"}), "chunks[1].metadata.updated_at"),
        (dict(good, text=5), "chunks[1].text"),
    ]
    for bad, field in cases:
        assert_problem(api.post(p, json={"chunks": [good, bad]}), 422, field=field)
    assert_problem(api.post(p, json={"chunks": [good], "extra": 1}), 422, field="extra")
    assert _count(api, lib["id"]) == 0


def test_duplicate_chunk_id(api, lib, doc):
    p = chunks_path(lib["id"], doc["id"])
    api.add_chunks(lib["id"], doc["id"], [{"id": "dup", "text": "a", "embedding": [1, 1, 1, 1]}])
    r = api.post(p, json={"chunks": [{"id": "new1", "text": "b", "embedding": [2, 2, 2, 2]},
                                     {"id": "dup", "text": "c", "embedding": [3, 3, 3, 3]}]})
    assert_problem(r, 409, code="already_exists")
    # Within one request: 409 or 422 are both acceptable, but nothing is written.
    r = api.post(p, json={"chunks": [{"id": "twin", "text": "b", "embedding": [2, 2, 2, 2]},
                                     {"id": "twin", "text": "c", "embedding": [3, 3, 3, 3]}]})
    assert r.status_code in (409, 422), r.text
    assert_problem(r, r.status_code)
    assert_problem(api.get(chunk_path(lib["id"], "new1")), 404)
    assert_problem(api.get(chunk_path(lib["id"], "twin")), 404)
    assert _count(api, lib["id"]) == 1
    assert api.ok(api.get(chunk_path(lib["id"], "dup")))["text"] == "a"
    # Chunk ids are unique per library, not per document.
    d2 = api.create_document(lib["id"])
    assert_problem(api.post(chunks_path(lib["id"], d2["id"]), json={"chunks": [
        {"id": "dup", "text": "d", "embedding": [1, 1, 1, 1]}]}), 409)


def test_positions_assigned_and_listing_order(api, lib, doc):
    p = chunks_path(lib["id"], doc["id"])
    a = api.add_chunks(lib["id"], doc["id"], [{"id": "p0", "text": "0", "embedding": [0] * 4},
                                               {"id": "p1", "text": "1", "embedding": [0] * 4}])
    assert [c["metadata"]["position"] for c in a] == [0, 1]
    b = api.add_chunks(lib["id"], doc["id"], [{"id": "p2", "text": "2", "embedding": [0] * 4}])
    assert b[0]["metadata"]["position"] == 2
    # Explicit positions out of order: the listing follows position, not creation.
    api.add_chunks(lib["id"], doc["id"], [
        {"id": "p20", "text": "20", "embedding": [0] * 4, "metadata": {"position": 20}},
        {"id": "p10", "text": "10", "embedding": [0] * 4, "metadata": {"position": 10}}])
    nxt = api.add_chunks(lib["id"], doc["id"], [{"id": "pn", "text": "n", "embedding": [0] * 4}])
    assert nxt[0]["metadata"]["position"] > 20
    listed = api.list_all(p)
    assert [c["id"] for c in listed] == ["p0", "p1", "p2", "p10", "p20", "pn"]
    positions = [c["metadata"]["position"] for c in listed]
    assert positions == sorted(positions)
    for c in listed:
        assert_chunk_shape(c)
    # Pagination over chunks keeps the position order.
    walked, cursor = [], None
    while True:
        params = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = api.ok(api.get(p, params=params))
        walked += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == [c["id"] for c in listed]


def test_get_with_and_without_embedding(api):
    lib = api.create_library(dimension=5, metric="cosine")
    d = api.create_document(lib["id"])
    sent = [0.1, -0.2, 3.0, 1e-7, 123456.5]
    c = api.add_chunks(lib["id"], d["id"], [{"id": "e", "text": "t", "embedding": sent}])[0]
    assert "embedding" not in c
    r = api.get(chunk_path(lib["id"], "e"))
    assert r.status_code == 200
    assert_etag_matches(r)
    assert_chunk_shape(r.json())
    r = api.get(chunk_path(lib["id"], "e"), params={"include": "embedding"})
    assert r.status_code == 200
    got = r.json()
    assert_chunk_shape(got, with_embedding=True)
    # Returned exactly as sent (cosine libraries store the vector un-normalized).
    assert got["embedding"] == sent, got["embedding"]
    # Listing never includes embeddings by default.
    for ch in api.list_all(chunks_path(lib["id"], d["id"])):
        assert "embedding" not in ch


def test_patch_chunk(api, lib, doc):
    c = api.add_chunks(lib["id"], doc["id"], [{"id": "pc", "text": "old", "embedding": [1, 1, 1, 1],
                                               "metadata": {"section": "s", "page": 1}}])[0]
    p = chunk_path(lib["id"], "pc")
    assert_problem(api.patch(p, json={"text": "x", "embedding": [0, 0, 0, 0]},
                             headers={"If-Match": '"9"'}), 412)
    r = api.patch(p, json={"text": "new", "embedding": [0.5, 0.25, 0, -1]},
                  headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    got = r.json()
    assert_chunk_shape(got)
    assert etag_version(r) == 2 and got["version"] == 2
    assert got["text"] == "new"
    assert got["metadata"]["section"] == "s" and got["metadata"]["position"] == 0
    assert got["metadata"]["created_at"] == c["metadata"]["created_at"]
    full = api.ok(api.get(p, params={"include": "embedding"}))
    assert full["embedding"] == [0.5, 0.25, 0, -1]
    got = api.ok(api.patch(p, json={"metadata": {"page": 7, "section": None}}))
    assert got["metadata"]["page"] == 7 and "section" not in got["metadata"]
    assert got["version"] == 3
    # Embedding alone keeps the text.
    got = api.ok(api.patch(p, json={"embedding": [2, 2, 2, 2]}))
    assert got["text"] == "new"


def test_patch_chunk_invalid(api, lib, doc):
    api.add_chunks(lib["id"], doc["id"], [{"id": "pi", "text": "old", "embedding": [1, 1, 1, 1]}])
    p = chunk_path(lib["id"], "pi")
    # New text without new embedding on a library without an embedder.
    assert_problem(api.patch(p, json={"text": "changed"}), 422, field=("text", "embedding"))
    assert_problem(api.patch(p, json={"embedding": [1, 2]}), 422, field="embedding")
    assert_problem(api.patch(p, json={"colour": 1}), 422, field="colour")
    assert_problem(api.patch(p, json={"metadata": {"foo": 1}}), 422, field="metadata.foo")
    assert_problem(api.patch(p, json={"document_id": "x"}), 422, field="document_id")
    got = api.ok(api.get(p, params={"include": "embedding"}))
    assert got["text"] == "old" and got["embedding"] == [1, 1, 1, 1] and got["version"] == 1


def test_delete_chunk(api, lib, doc):
    api.add_chunks(lib["id"], doc["id"], [{"id": "d1", "text": "a", "embedding": [1, 0, 0, 0]},
                                           {"id": "d2", "text": "b", "embedding": [0, 1, 0, 0]}])
    assert_problem(api.delete(chunk_path(lib["id"], "d1"), headers={"If-Match": '"5"'}), 412)
    r = api.delete(chunk_path(lib["id"], "d1"))
    assert r.status_code == 204 and r.content == b""
    assert_problem(api.get(chunk_path(lib["id"], "d1")), 404)
    assert_problem(api.delete(chunk_path(lib["id"], "d1")), 404)
    assert [c["id"] for c in api.list_all(chunks_path(lib["id"], doc["id"]))] == ["d2"]
    assert api.ok(api.get(doc_path(lib["id"], doc["id"])))["chunk_count"] == 1
    res = api.search(lib["id"], {"vector": [1, 0, 0, 0], "k": 5})
    assert [x["chunk_id"] for x in res["results"]] == ["d2"]


def test_chunk_404s(api, lib, doc):
    nolib = uniq("nolib")
    body = {"chunks": [{"text": "a", "embedding": [1, 2, 3, 4]}]}
    assert_problem(api.post(chunks_path(nolib, doc["id"]), json=body), 404)
    assert_problem(api.post(chunks_path(lib["id"], "nodoc"), json=body), 404)
    assert_problem(api.get(chunks_path(lib["id"], "nodoc")), 404)
    assert_problem(api.get(chunk_path(lib["id"], "nochunk")), 404)
    assert_problem(api.patch(chunk_path(lib["id"], "nochunk"), json={"text": "x",
                                                                      "embedding": [0] * 4}), 404)
    assert_problem(api.delete(chunk_path(lib["id"], "nochunk")), 404)
    api.add_chunks(lib["id"], doc["id"], [{"id": "mine", "text": "a", "embedding": [0] * 4}])
    other = api.create_library(dimension=4)
    assert_problem(api.get(chunk_path(other["id"], "mine")), 404)
    assert_problem(api.get(chunk_path(nolib, "mine")), 404)


def test_dimension_is_per_library(api):
    lib = api.create_library(dimension=3, metric="dot")
    d = api.create_document(lib["id"])
    assert_problem(api.post(chunks_path(lib["id"], d["id"]), json={"chunks": [
        {"text": "a", "embedding": [1, 2, 3, 4]}]}), 422, field="chunks[0].embedding")
    api.add_chunks(lib["id"], d["id"], [{"text": "a", "embedding": [1, 2, 3]}])


def test_raw_json_number_forms_accepted(api, lib, doc):
    raw = json.dumps({"chunks": [{"id": "nf", "text": "t", "embedding": [1, 2, 3, 4]}]})
    raw = raw.replace("[1, 2, 3, 4]", "[1, -0.0, 2.5E+1, 4e-1]")
    r = api.post(chunks_path(lib["id"], doc["id"]), data=raw,
                 headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text
    got = api.ok(api.get(chunk_path(lib["id"], "nf"), params={"include": "embedding"}))
    assert got["embedding"] == [1, 0, 25, 0.4]
