"""Assertions shared by the API test modules (shapes from API.md + /tmp wire decisions)."""
import re

UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339_MS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
INDEX_TYPES = {"flat", "kdtree", "hnsw", "ivf"}


def lib_path(lib_id):
    return "/v1/libraries/%s" % lib_id


def doc_path(lib_id, doc_id=None):
    base = "/v1/libraries/%s/documents" % lib_id
    return base if doc_id is None else "%s/%s" % (base, doc_id)


def chunks_path(lib_id, doc_id):
    return "/v1/libraries/%s/documents/%s/chunks" % (lib_id, doc_id)


def chunk_path(lib_id, chunk_id):
    return "/v1/libraries/%s/chunks/%s" % (lib_id, chunk_id)


def etag_version(resp):
    et = resp.headers.get("ETag")
    assert et is not None, "no ETag on %s %s" % (resp.request.method, resp.request.url)
    m = re.fullmatch(r'"(\d+)"', et)
    assert m, "ETag %r is not \"<version>\"" % et
    return int(m.group(1))


def assert_etag_matches(resp):
    body = resp.json()
    assert etag_version(resp) == body["version"], (resp.headers.get("ETag"), body["version"])


def assert_timestamps(meta):
    assert RFC3339_MS_RE.match(meta["created_at"]), meta
    assert RFC3339_MS_RE.match(meta["updated_at"]), meta
    assert meta["updated_at"] >= meta["created_at"], meta


def assert_library_shape(lib):
    for k in ("id", "name", "description", "dimension", "metric", "index", "embedder",
              "metadata", "version", "stats", "index_status"):
        assert k in lib, "library lacks %r: %r" % (k, lib)
    assert lib["metric"] in ("cosine", "l2", "dot")
    assert lib["index"]["type"] in INDEX_TYPES
    assert isinstance(lib["index"]["params"], dict)
    assert isinstance(lib["version"], int) and lib["version"] >= 1
    assert set(lib["stats"]) >= {"document_count", "chunk_count"}
    assert_index_status_shape(lib["index_status"])
    assert_timestamps(lib["metadata"])


def assert_index_status_shape(st):
    for k in ("type", "state", "indexed_chunks", "pending_chunks"):
        assert k in st, "index_status lacks %r: %r" % (k, st)
    assert st["type"] in INDEX_TYPES
    assert st["state"] in ("ready", "building")
    assert isinstance(st["indexed_chunks"], int) and st["indexed_chunks"] >= 0
    assert isinstance(st["pending_chunks"], int) and st["pending_chunks"] >= 0


def assert_document_shape(doc):
    for k in ("id", "library_id", "title", "metadata", "chunk_count", "version"):
        assert k in doc, "document lacks %r: %r" % (k, doc)
    assert_timestamps(doc["metadata"])


def assert_chunk_shape(ch, with_embedding=False):
    for k in ("id", "library_id", "document_id", "text", "metadata", "version"):
        assert k in ch, "chunk lacks %r: %r" % (k, ch)
    assert isinstance(ch["metadata"].get("position"), int), ch
    assert_timestamps(ch["metadata"])
    if with_embedding:
        assert isinstance(ch.get("embedding"), list), ch
    else:
        assert "embedding" not in ch, "embedding returned without include: %r" % ch


def vec(*xs):
    return [float(x) for x in xs]
