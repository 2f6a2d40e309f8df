"""Durability across a graceful restart (SIGTERM, start again on the same data dir)."""
import numpy as np

from quiver_testlib.client import Client
from util import chunk_path, chunks_path, doc_path, lib_path


def _snapshot(c, lib_id, query):
    lib = c.ok(c.get(lib_path(lib_id)))
    docs = c.list_all(doc_path(lib_id))
    chunks = {}
    for d in docs:
        for ch in c.list_all(chunks_path(lib_id, d["id"])):
            full = c.ok(c.get(chunk_path(lib_id, ch["id"]), params={"include": "embedding"}))
            chunks[ch["id"]] = full
    res = c.search(lib_id, {"vector": query, "k": 20, "params": {"exact": True}})
    return lib, docs, chunks, res


def test_everything_survives_graceful_restart(server_factory):
    srv = server_factory(durability="fsync")
    c = Client(srv.base_url)
    rng = np.random.default_rng(7)
    lib = c.create_library(name="restart-lib", dimension=8, metric="cosine",
                           index={"type": "hnsw"}, metadata={"owner": "o", "tags": ["x"]},
                           description="desc")
    for i in range(5):
        c.create_document(lib["id"], id="doc%d" % i, title="title %d" % i,
                          metadata={"author": "a%d" % i},
                          chunks=[{"id": "d%dc%d" % (i, j), "text": "text %d %d" % (i, j),
                                   "embedding": [float(v) for v in rng.normal(size=8)],
                                   "metadata": {"page": j, "tags": ["p"]}} for j in range(20)])
    c.ok(c.patch(doc_path(lib["id"], "doc1"), json={"title": "renamed"}))
    c.ok(c.patch(chunk_path(lib["id"], "d2c3"), json={"text": "patched",
                                                      "embedding": [0.5] * 8}))
    assert c.delete(doc_path(lib["id"], "doc3")).status_code == 204
    assert c.delete(chunk_path(lib["id"], "d4c0")).status_code == 204
    c.ok(c.patch(lib_path(lib["id"]), json={"description": "desc2"}))
    other = c.create_library(name="restart-other", dimension=2)
    assert c.delete(lib_path(other["id"])).status_code == 204
    query = [float(v) for v in rng.normal(size=8)]
    before = _snapshot(c, lib["id"], query)
    libs_before = c.list_all("/v1/libraries")
    c.close()

    assert srv.stop() == 0, srv.all_logs()
    srv.start()
    c = Client(srv.base_url)
    after = _snapshot(c, lib["id"], query)
    # index_status may legitimately differ (an index may be rebuilt after start).
    for snap in (before, after):
        snap[0].pop("index_status")
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert after[2] == before[2]
    assert after[3] == before[3]
    assert [l["id"] for l in c.list_all("/v1/libraries")] == [l["id"] for l in libs_before]
    assert before[0]["stats"] == {"document_count": 4, "chunk_count": 79}
    assert before[2]["d2c3"]["text"] == "patched" and before[2]["d2c3"]["version"] == 2
    assert "d4c0" not in after[2] and "d3c0" not in after[2]
    # Writes keep working after the restart, and ids stay unique.
    assert c.post(doc_path(lib["id"]), json={"id": "doc0"}).status_code == 409
    c.create_document(lib["id"], id="doc9", chunks=[{"text": "", "embedding": [1.0] * 8}])
    c.close()
    assert srv.stop() == 0, srv.all_logs()
