"""Libraries: POST/GET/PATCH/DELETE /v1/libraries[/id] against API.md."""
import pytest

from quiver_testlib import assert_problem
from quiver_testlib.client import uniq
from util import (UUID4_RE, INDEX_TYPES, assert_etag_matches, assert_library_shape, chunk_path,
                  doc_path, etag_version, lib_path)


def test_create_defaults(api):
    name = uniq("lib")
    r = api.post("/v1/libraries", json={"name": name, "dimension": 3})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    lib = r.json()
    assert_library_shape(lib)
    assert_etag_matches(r)
    assert UUID4_RE.match(lib["id"]), lib["id"]
    assert lib["name"] == name
    assert lib["dimension"] == 3
    assert lib["metric"] == "cosine"
    assert lib["description"] is None
    assert lib["embedder"] is None
    assert lib["version"] == 1
    assert lib["index"]["type"] in INDEX_TYPES
    assert lib["stats"] == {"document_count": 0, "chunk_count": 0}
    assert lib["index_status"]["type"] == lib["index"]["type"]
    assert set(lib["metadata"]) == {"created_at", "updated_at"}


def test_create_full_body_and_client_id(api):
    lid = uniq("my.lib:id")
    body = {"id": lid, "name": uniq("n"), "description": "d", "dimension": 8, "metric": "dot",
            "index": {"type": "hnsw", "params": {"m": 8}},
            "metadata": {"tags": ["a", "b"], "owner": "me"}}
    r = api.post("/v1/libraries", json=body)
    assert r.status_code == 201, r.text
    lib = r.json()
    assert lib["id"] == lid
    assert lib["description"] == "d"
    assert lib["metric"] == "dot"
    assert lib["index"]["type"] == "hnsw"
    # Every knob is reported with its value; the one we sent is kept.
    assert lib["index"]["params"]["m"] == 8
    assert len(lib["index"]["params"]) > 1, lib["index"]
    assert lib["metadata"]["tags"] == ["a", "b"]
    assert lib["metadata"]["owner"] == "me"
    g = api.get(lib_path(lid))
    assert g.status_code == 200
    assert g.json()["index"] == lib["index"]


@pytest.mark.parametrize("metric", ["cosine", "l2", "dot"])
def test_create_each_metric(api, metric):
    lib = api.create_library(dimension=2, metric=metric)
    assert lib["metric"] == metric


@pytest.mark.parametrize("itype", sorted(INDEX_TYPES))
def test_create_each_index_type(api, itype):
    lib = api.create_library(dimension=2, index={"type": itype})
    assert lib["index"]["type"] == itype
    assert lib["index_status"]["type"] == itype


def test_duplicate_id_409(api):
    lid = uniq("dup")
    api.create_library(id=lid, dimension=2)
    r = api.post("/v1/libraries", json={"id": lid, "name": uniq("other"), "dimension": 2})
    assert_problem(r, 409, code="already_exists")


def test_duplicate_name_409(api):
    name = uniq("dupname")
    api.create_library(name=name, dimension=2)
    r = api.post("/v1/libraries", json={"name": name, "dimension": 2})
    assert_problem(r, 409)


@pytest.mark.parametrize("name", ["", "has space", "slash/no", "colon:no", "x" * 129, "é"])
def test_name_syntax_422(api, name):
    r = api.post("/v1/libraries", json={"name": name, "dimension": 2})
    assert_problem(r, 422, field="name", code="invalid_argument")


def test_name_max_length_ok(api):
    name = uniq("n") + "x" * (128 - 14)
    assert len(name) == 128
    assert api.create_library(name=name, dimension=2)["name"] == name


@pytest.mark.parametrize("lid", ["", "bad id", "a/b", "x" * 129])
def test_id_syntax_422(api, lid):
    r = api.post("/v1/libraries", json={"id": lid, "name": uniq("n"), "dimension": 2})
    assert_problem(r, 422, field="id")


def test_name_missing_422(api):
    r = api.post("/v1/libraries", json={"dimension": 2})
    assert_problem(r, 422, field="name")


@pytest.mark.parametrize("dim", [None, 0, 16385, -1])
def test_dimension_invalid_422(api, dim):
    body = {"name": uniq("n")}
    if dim is not None:
        body["dimension"] = dim
    r = api.post("/v1/libraries", json=body)
    assert_problem(r, 422, field="dimension")


def test_dimension_wrong_type_422(api):
    r = api.post("/v1/libraries", json={"name": uniq("n"), "dimension": "4"})
    assert_problem(r, 422, field="dimension")
    r = api.post("/v1/libraries", json={"name": uniq("n"), "dimension": 4.5})
    assert_problem(r, 422, field="dimension")


def test_dimension_bounds_ok(api):
    assert api.create_library(dimension=1)["dimension"] == 1
    assert api.create_library(dimension=16384)["dimension"] == 16384


def test_metric_invalid_422(api):
    r = api.post("/v1/libraries", json={"name": uniq("n"), "dimension": 2, "metric": "hamming"})
    assert_problem(r, 422, field="metric")


def test_index_type_invalid_422(api):
    r = api.post("/v1/libraries", json={"name": uniq("n"), "dimension": 2,
                                        "index": {"type": "btree"}})
    assert_problem(r, 422, field="index.type")


def test_index_param_unknown_422(api):
    r = api.post("/v1/libraries", json={"name": uniq("n"), "dimension": 2,
                                        "index": {"type": "hnsw", "params": {"colour": 1}}})
    assert_problem(r, 422, field="index.params.colour")


def test_unknown_field_422_names_it(api):
    name = uniq("n")
    r = api.post("/v1/libraries", json={"name": name, "dimension": 2, "colour": "red"})
    assert_problem(r, 422, field="colour")
    # Nothing was created.
    assert name not in [l["name"] for l in api.list_all("/v1/libraries")]


def test_metadata_fixed_schema(api):
    cases = [
        ({"foo": "bar"}, "metadata.foo"),
        ({"created_at": "2026-01-01T00:00:00.000Z"}, "metadata.created_at"),
        ({"updated_at": "2026-01-01T00:00:00.000Z"}, "metadata.updated_at"),
        ({"tags": "notalist"}, "metadata.tags"),
        ({"owner": 5}, "metadata.owner"),
    ]
    for meta, field in cases:
        r = api.post("/v1/libraries", json={"name": uniq("n"), "dimension": 2, "metadata": meta})
        assert_problem(r, 422, field=field)
    r = api.post("/v1/libraries", json={"name": uniq("n"), "dimension": 2,
                                        "metadata": {"tags": ["a", 1]}})
    assert_problem(r, 422, field=("metadata.tags", "metadata.tags[1]"))
    r = api.post("/v1/libraries", json={"name": uniq("n"), "dimension": 2, "metadata": [1]})
    assert_problem(r, 422, field="metadata")


def test_get_with_stats_and_index_status(api):
    lib = api.create_library(dimension=2, metric="l2")
    d = api.create_document(lib["id"], title="t",
                            chunks=[{"text": "a", "embedding": [0, 1]},
                                    {"text": "b", "embedding": [1, 0]}])
    api.create_document(lib["id"], title="empty")
    api.add_chunks(lib["id"], d["id"], [{"text": "c", "embedding": [1, 1]}])
    r = api.get(lib_path(lib["id"]))
    assert r.status_code == 200
    assert_etag_matches(r)
    got = r.json()
    assert_library_shape(got)
    assert got["stats"] == {"document_count": 2, "chunk_count": 3}
    st = got["index_status"]
    assert st["indexed_chunks"] + st["pending_chunks"] == 3, st


def test_get_unknown_404(api):
    assert_problem(api.get(lib_path(uniq("nope"))), 404, code="not_found")


def test_list_pagination_and_order(api):
    mine = [api.create_library(dimension=2)["id"] for _ in range(5)]
    everything = api.list_all("/v1/libraries", limit=1000)
    ids = [l["id"] for l in everything]
    assert len(ids) == len(set(ids)), "duplicate ids in list"
    for l in everything:
        assert_library_shape(l)
    # Creation order is stable: ours appear in the order we created them, at the end.
    assert [i for i in ids if i in mine] == mine
    assert ids[-5:] == mine
    # Walking with limit=2 gives the same sequence, no page larger than the limit.
    walked, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.ok(api.get("/v1/libraries", params=params))
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 2
        walked += [l["id"] for l in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
        assert len(page["items"]) == 2
    assert walked == ids
    # next_cursor is null on the page that reaches the end: no trailing empty page.
    assert pages == (len(ids) + 1) // 2


def test_list_limit_one_then_end(api):
    page = api.ok(api.get("/v1/libraries", params={"limit": 1}))
    assert len(page["items"]) == 1
    # A page that reaches the end has next_cursor null.
    page = api.ok(api.get("/v1/libraries", params={"limit": 1000}))
    assert page["next_cursor"] is None


def test_list_default_limit_is_100(api):
    total = len(api.list_all("/v1/libraries"))
    for _ in range(max(0, 101 - total)):
        api.create_library(dimension=1)
    page = api.ok(api.get("/v1/libraries"))
    assert len(page["items"]) == 100
    assert page["next_cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "1001", "-1"])
def test_list_limit_out_of_range_422(api, limit):
    assert_problem(api.get("/v1/libraries", params={"limit": limit}), 422, field="limit")


@pytest.mark.parametrize("limit", ["abc", "1.5", ""])
def test_list_limit_not_integer_400(api, limit):
    assert_problem(api.get("/v1/libraries", params={"limit": limit}), 400, field="limit")


def test_list_garbage_cursor_400(api):
    api.create_library(dimension=1)
    for cur in ("@@garbage@@", "\u00ff\u00fe"):
        assert_problem(api.get("/v1/libraries", params={"cursor": cur}), 400, field="cursor")


def test_list_unknown_query_param_ignored(api):
    assert api.get("/v1/libraries", params={"colour": "red"}).status_code == 200


def test_patch_name_description_version_etag(api):
    lib = api.create_library(dimension=2, description="old")
    new_name = uniq("renamed")
    r = api.patch(lib_path(lib["id"]), json={"name": new_name, "description": "new"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert_library_shape(got)
    assert got["name"] == new_name and got["description"] == "new"
    assert got["version"] == 2
    assert etag_version(r) == 2
    assert got["metadata"]["created_at"] == lib["metadata"]["created_at"]
    assert got["metadata"]["updated_at"] >= lib["metadata"]["updated_at"]
    # The old name is free again, the new one is taken.
    api.create_library(name=lib["name"], dimension=2)
    assert_problem(api.post("/v1/libraries", json={"name": new_name, "dimension": 2}), 409)
    assert api.ok(api.get(lib_path(lib["id"])))["name"] == new_name


def test_patch_description_null_clears(api):
    lib = api.create_library(dimension=2, description="old")
    got = api.ok(api.patch(lib_path(lib["id"]), json={"description": None}))
    assert got["description"] is None


def test_patch_name_conflict_409(api):
    a = api.create_library(dimension=2)
    b = api.create_library(dimension=2)
    assert_problem(api.patch(lib_path(b["id"]), json={"name": a["name"]}), 409)
    assert api.ok(api.get(lib_path(b["id"])))["version"] == 1


def test_patch_metadata_merge(api):
    lib = api.create_library(dimension=2, metadata={"tags": ["a"], "owner": "x"})
    got = api.ok(api.patch(lib_path(lib["id"]), json={"metadata": {"owner": "y"}}))
    assert got["metadata"]["tags"] == ["a"] and got["metadata"]["owner"] == "y"
    got = api.ok(api.patch(lib_path(lib["id"]), json={"metadata": {"tags": ["b", "c"]}}))
    assert got["metadata"]["tags"] == ["b", "c"] and got["metadata"]["owner"] == "y"
    assert got["version"] == 3
    # JSON Merge Patch: null removes the field.
    got = api.ok(api.patch(lib_path(lib["id"]), json={"metadata": {"owner": None}}))
    assert "owner" not in got["metadata"] and got["metadata"]["tags"] == ["b", "c"]


def test_patch_metadata_invalid_422_changes_nothing(api):
    lib = api.create_library(dimension=2, metadata={"owner": "x"})
    for meta, field in (({"foo": 1}, "metadata.foo"), ({"created_at": "x"}, "metadata.created_at"),
                        ({"tags": 3}, "metadata.tags")):
        assert_problem(api.patch(lib_path(lib["id"]), json={"metadata": meta, "name": uniq("z")}),
                       422, field=field)
    got = api.ok(api.get(lib_path(lib["id"])))
    assert got["version"] == 1 and got["name"] == lib["name"] and got["metadata"]["owner"] == "x"


def test_patch_unknown_field_422(api):
    lib = api.create_library(dimension=2)
    assert_problem(api.patch(lib_path(lib["id"]), json={"colour": 1}), 422, field="colour")
    assert_problem(api.patch(lib_path(lib["id"]), json={"id": "other"}), 422, field="id")


def test_patch_if_match(api):
    lib = api.create_library(dimension=2)
    p = lib_path(lib["id"])
    assert_problem(api.patch(p, json={"description": "x"}, headers={"If-Match": '"7"'}), 412,
                   code="precondition_failed")
    assert api.ok(api.get(p))["version"] == 1
    r = api.patch(p, json={"description": "a"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and etag_version(r) == 2
    r = api.patch(p, json={"description": "b"}, headers={"If-Match": "2"})
    assert r.status_code == 200 and etag_version(r) == 3
    r = api.patch(p, json={"description": "c"}, headers={"If-Match": 'W/"3"'})
    assert r.status_code == 200 and etag_version(r) == 4
    r = api.patch(p, json={"description": "d"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and etag_version(r) == 5
    assert_problem(api.patch(p, json={"description": "e"}, headers={"If-Match": "abc"}), 400,
                   field="If-Match")
    assert api.ok(api.get(p))["description"] == "d"


def test_if_match_on_missing_resource_is_404(api):
    assert_problem(api.patch(lib_path(uniq("nope")), json={"description": "x"},
                             headers={"If-Match": '"5"'}), 404)
    assert_problem(api.delete(lib_path(uniq("nope")), headers={"If-Match": '"5"'}), 404)


def test_patch_dimension_metric_without_chunks(api):
    lib = api.create_library(dimension=2, metric="cosine")
    api.create_document(lib["id"], title="no chunks yet")
    got = api.ok(api.patch(lib_path(lib["id"]), json={"dimension": 5, "metric": "l2"}))
    assert got["dimension"] == 5 and got["metric"] == "l2"
    d = api.create_document(lib["id"], chunks=[{"text": "a", "embedding": [1, 2, 3, 4, 5]}])
    assert d["chunk_count"] == 1


def test_patch_dimension_metric_with_chunks_409(api):
    lib = api.create_library(dimension=2, metric="cosine")
    api.create_document(lib["id"], chunks=[{"text": "a", "embedding": [1, 2]}])
    assert_problem(api.patch(lib_path(lib["id"]), json={"dimension": 3}), 409, code="conflict")
    assert_problem(api.patch(lib_path(lib["id"]), json={"metric": "l2"}), 409)
    got = api.ok(api.get(lib_path(lib["id"])))
    assert got["dimension"] == 2 and got["metric"] == "cosine" and got["version"] == 1


def test_patch_index_change(api):
    lib = api.create_library(dimension=2, metric="l2", index={"type": "flat"})
    api.create_document(lib["id"], chunks=[{"text": str(i), "embedding": [i, 0]} for i in range(20)])
    got = api.ok(api.patch(lib_path(lib["id"]), json={"index": {"type": "kdtree"}}))
    assert got["index"]["type"] == "kdtree"
    # Searches keep working during and after the rebuild.
    res = api.search(lib["id"], {"vector": [3.2, 0], "k": 1})
    assert res["results"][0]["score"] == pytest.approx(0.2, rel=1e-4)


def test_delete_then_404_and_cascade(api):
    lib = api.create_library(dimension=2)
    d = api.create_document(lib["id"], chunks=[{"id": "c1", "text": "a", "embedding": [1, 2]}])
    r = api.delete(lib_path(lib["id"]))
    assert r.status_code == 204 and r.content == b""
    assert_problem(api.get(lib_path(lib["id"])), 404)
    assert_problem(api.get(doc_path(lib["id"], d["id"])), 404)
    assert_problem(api.get(doc_path(lib["id"])), 404)
    assert_problem(api.get(chunk_path(lib["id"], "c1")), 404)
    assert_problem(api.post("/v1/libraries/%s/search" % lib["id"], json={"vector": [1, 2]}), 404)
    assert_problem(api.delete(lib_path(lib["id"])), 404)
    assert lib["id"] not in [l["id"] for l in api.list_all("/v1/libraries")]
    # Same id and name can be reused and start empty.
    again = api.create_library(id=lib["id"], name=lib["name"], dimension=2)
    assert again["stats"] == {"document_count": 0, "chunk_count": 0}
    assert again["version"] == 1
    assert api.list_all(doc_path(lib["id"])) == []
    assert_problem(api.get(chunk_path(lib["id"], "c1")), 404)


def test_delete_if_match(api):
    lib = api.create_library(dimension=2)
    assert_problem(api.delete(lib_path(lib["id"]), headers={"If-Match": '"2"'}), 412)
    assert api.get(lib_path(lib["id"])).status_code == 200
    assert api.delete(lib_path(lib["id"]), headers={"If-Match": '"1"'}).status_code == 204
