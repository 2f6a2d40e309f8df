"""Documents: create (with atomic chunks), get, list, patch, delete (cascade to chunks/search)."""
import pytest

from quiver_testlib import assert_problem
from quiver_testlib.client import uniq
from util import (UUID4_RE, assert_document_shape, assert_etag_matches, chunk_path, chunks_path,
                  doc_path, etag_version, lib_path)


def test_create_without_chunks(api, lib):
    r = api.post(doc_path(lib["id"]), json={"title": "hello",
                                            "metadata": {"source": "http://x", "author": "a",
                                                         "language": "en", "tags": ["t"]}})
    assert r.status_code == 201, r.text
    d = r.json()
    assert_document_shape(d)
    assert_etag_matches(r)
    assert UUID4_RE.match(d["id"])
    assert d["library_id"] == lib["id"]
    assert d["title"] == "hello"
    assert d["chunk_count"] == 0
    assert d["version"] == 1
    m = d["metadata"]
    assert (m["source"], m["author"], m["language"], m["tags"]) == ("http://x", "a", "en", ["t"])
    g = api.get(doc_path(lib["id"], d["id"]))
    assert g.status_code == 200
    assert_etag_matches(g)
    assert g.json() == d


def test_create_minimal_title_null(api, lib):
    d = api.create_document(lib["id"])
    assert d["title"] is None
    assert set(d["metadata"]) == {"created_at", "updated_at"}


def test_create_with_chunks(api, lib):
    did = uniq("doc")
    d = api.create_document(lib["id"], id=did, title="t", chunks=[
        {"id": "a", "text": "one", "embedding": [1, 0, 0, 0]},
        {"text": "two", "embedding": [0, 1, 0, 0], "metadata": {"page": 3, "section": "s"}},
        {"text": "three", "embedding": [0, 0, 1, 0]},
    ])
    assert d["id"] == did and d["chunk_count"] == 3
    got = api.ok(api.get(doc_path(lib["id"], did)))
    assert got["chunk_count"] == 3
    chunks = api.list_all(chunks_path(lib["id"], did))
    assert [c["text"] for c in chunks] == ["one", "two", "three"]
    assert [c["metadata"]["position"] for c in chunks] == [0, 1, 2]
    assert chunks[0]["id"] == "a"
    assert UUID4_RE.match(chunks[1]["id"])
    assert chunks[1]["metadata"]["page"] == 3 and chunks[1]["metadata"]["section"] == "s"
    assert all(c["document_id"] == did for c in chunks)
    stats = api.ok(api.get(lib_path(lib["id"])))["stats"]
    assert stats == {"document_count": 1, "chunk_count": 3}


@pytest.mark.parametrize("bad, field", [
    ({"text": "x", "embedding": [1, 2, 3]}, "chunks[1].embedding"),
    ({"text": "x", "embedding": [1, 2, 3, 4], "colour": 1}, "chunks[1].colour"),
    ({"embedding": [1, 2, 3, 4]}, "chunks[1].text"),
    ({"text": "x", "embedding": [1, 2, 3, "4"]}, ("chunks[1].embedding", "chunks[1].embedding[3]")),
    ({"text": "x", "embedding": [1, 2, 3, 4], "metadata": {"page": -1}}, "chunks[1].metadata.page"),
    ({"text": "x", "embedding": [1, 2, 3, 4], "metadata": {"zzz": 1}}, "chunks[1].metadata.zzz"),
    ({"id": "bad id!", "text": "x", "embedding": [1, 2, 3, 4]}, "chunks[1].id"),
])
def test_create_with_bad_chunk_is_atomic(api, lib, bad, field):
    did = uniq("doc")
    before = api.ok(api.get(lib_path(lib["id"])))["stats"]
    good = {"id": uniq("c"), "text": "ok", "embedding": [1, 1, 1, 1]}
    r = api.post(doc_path(lib["id"]), json={"id": did, "title": "t", "chunks": [good, bad]})
    assert_problem(r, 422, field=field)
    # Nothing was created: no document, no chunk, counts unchanged.
    assert_problem(api.get(doc_path(lib["id"], did)), 404)
    assert_problem(api.get(chunk_path(lib["id"], good["id"])), 404)
    assert did not in [d["id"] for d in api.list_all(doc_path(lib["id"]))]
    assert api.ok(api.get(lib_path(lib["id"])))["stats"] == before
    assert api.search(lib["id"], {"vector": [1, 1, 1, 1], "k": 10, "params": {"exact": True}})[
        "results"] == []


def test_create_with_chunk_id_clash_is_atomic(api, lib):
    d1 = api.create_document(lib["id"], chunks=[{"id": "taken", "text": "x",
                                                 "embedding": [1, 2, 3, 4]}])
    did = uniq("doc")
    r = api.post(doc_path(lib["id"]), json={"id": did, "chunks": [
        {"id": "fresh", "text": "y", "embedding": [1, 1, 1, 1]},
        {"id": "taken", "text": "z", "embedding": [1, 1, 1, 1]}]})
    assert_problem(r, 409)
    assert_problem(api.get(doc_path(lib["id"], did)), 404)
    assert_problem(api.get(chunk_path(lib["id"], "fresh")), 404)
    assert api.ok(api.get(chunk_path(lib["id"], "taken")))["document_id"] == d1["id"]


def test_document_metadata_schema(api, lib):
    for meta, field in (({"owner": "x"}, "metadata.owner"), ({"tags": [1]}, ("metadata.tags",
                        "metadata.tags[0]")), ({"created_at": "x"}, "metadata.created_at"),
                        ({"source": 1}, "metadata.source"), ({"page": 1}, "metadata.page")):
        assert_problem(api.post(doc_path(lib["id"]), json={"metadata": meta}), 422, field=field)
    assert api.list_all(doc_path(lib["id"])) == []


def test_unknown_field_422(api, lib):
    assert_problem(api.post(doc_path(lib["id"]), json={"title": "t", "colour": 1}), 422,
                   field="colour")
    assert_problem(api.post(doc_path(lib["id"]), json={"title": 5}), 422, field="title")


def test_duplicate_id_409(api, lib):
    api.create_document(lib["id"], id="same")
    assert_problem(api.post(doc_path(lib["id"]), json={"id": "same", "title": "again"}), 409,
                   code="already_exists")
    # The same document id in another library is fine.
    other = api.create_library(dimension=4)
    api.create_document(other["id"], id="same")


def test_404s(api, lib):
    nolib = uniq("nolib")
    assert_problem(api.post(doc_path(nolib), json={"title": "t"}), 404)
    assert_problem(api.get(doc_path(nolib)), 404)
    assert_problem(api.get(doc_path(lib["id"], "nodoc")), 404)
    assert_problem(api.patch(doc_path(lib["id"], "nodoc"), json={"title": "x"}), 404)
    assert_problem(api.delete(doc_path(lib["id"], "nodoc")), 404)
    # A document is only reachable through its own library.
    d = api.create_document(lib["id"])
    other = api.create_library(dimension=4)
    assert_problem(api.get(doc_path(other["id"], d["id"])), 404)
    assert_problem(api.delete(doc_path(other["id"], d["id"])), 404)
    assert api.get(doc_path(lib["id"], d["id"])).status_code == 200


def test_list_paginated_creation_order(api, lib):
    # Ids chosen so that creation order differs from lexicographic order.
    ids = ["d-%02d" % i for i in (5, 1, 9, 3, 7, 2, 8)]
    for i in ids:
        api.create_document(lib["id"], id=i, title=i)
    pages, cursor = [], None
    while True:
        params = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.ok(api.get(doc_path(lib["id"]), params=params))
        pages.append([d["id"] for d in page["items"]])
        for d in page["items"]:
            assert_document_shape(d)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [ids[0:3], ids[3:6], ids[6:7]]
    assert_problem(api.get(doc_path(lib["id"]), params={"limit": 0}), 422, field="limit")
    assert_problem(api.get(doc_path(lib["id"]), params={"limit": "x"}), 400, field="limit")
    assert_problem(api.get(doc_path(lib["id"]), params={"cursor": "@@bad@@"}), 400, field="cursor")


def test_patch_title_metadata_if_match(api, lib):
    d = api.create_document(lib["id"], title="a", metadata={"author": "x", "tags": ["t"]},
                            chunks=[{"text": "c", "embedding": [1, 2, 3, 4]}])
    p = doc_path(lib["id"], d["id"])
    assert_problem(api.patch(p, json={"title": "b"}, headers={"If-Match": '"2"'}), 412)
    r = api.patch(p, json={"title": "b", "metadata": {"author": "y"}},
                  headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    got = r.json()
    assert etag_version(r) == 2 and got["version"] == 2
    assert got["title"] == "b"
    assert got["metadata"]["author"] == "y" and got["metadata"]["tags"] == ["t"]
    assert got["chunk_count"] == 1
    assert got["metadata"]["created_at"] == d["metadata"]["created_at"]
    assert api.ok(api.get(p)) == got
    assert_problem(api.patch(p, json={"metadata": {"owner": "z"}}), 422, field="metadata.owner")
    assert_problem(api.patch(p, json={"chunk_count": 5}), 422, field="chunk_count")
    assert api.ok(api.get(p))["version"] == 2


def test_delete_removes_chunks_everywhere(api, lib):
    keep = api.create_document(lib["id"], chunks=[{"id": "keep", "text": "k",
                                                   "embedding": [5, 5, 5, 5]}])
    gone = api.create_document(lib["id"], chunks=[
        {"id": "g%d" % i, "text": "g", "embedding": [1, 1, 1, float(i)]} for i in range(5)])
    # Warm the search path first so that a cached/indexed state exists before the delete.
    res = api.search(lib["id"], {"vector": [1, 1, 1, 0], "k": 10})
    assert {x["chunk_id"] for x in res["results"]} == {"keep", "g0", "g1", "g2", "g3", "g4"}
    assert api.delete(doc_path(lib["id"], gone["id"])).status_code == 204
    res = api.search(lib["id"], {"vector": [1, 1, 1, 0], "k": 10})
    assert [x["chunk_id"] for x in res["results"]] == ["keep"]
    res = api.search(lib["id"], {"vector": [1, 1, 1, 0], "k": 10, "params": {"exact": True}})
    assert [x["chunk_id"] for x in res["results"]] == ["keep"]
    for i in range(5):
        assert_problem(api.get(chunk_path(lib["id"], "g%d" % i)), 404)
    assert_problem(api.get(doc_path(lib["id"], gone["id"])), 404)
    assert_problem(api.get(chunks_path(lib["id"], gone["id"])), 404)
    assert_problem(api.delete(doc_path(lib["id"], gone["id"])), 404)
    assert [d["id"] for d in api.list_all(doc_path(lib["id"]))] == [keep["id"]]
    assert api.ok(api.get(lib_path(lib["id"])))["stats"] == {"document_count": 1,
                                                             "chunk_count": 1}
    # The freed chunk ids can be used again.
    api.add_chunks(lib["id"], keep["id"], [{"id": "g0", "text": "again", "embedding": [0] * 4}])


def test_delete_if_match(api, lib):
    d = api.create_document(lib["id"])
    assert_problem(api.delete(doc_path(lib["id"], d["id"]), headers={"If-Match": '"3"'}), 412)
    assert api.delete(doc_path(lib["id"], d["id"]), headers={"If-Match": '"1"'}).status_code == 204
