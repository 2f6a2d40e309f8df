"""Client-side model of what a crash-test worker wrote, and the check against the server.

Each worker owns its documents (ids prefixed with the worker name), so its model is exact
without cross-thread coordination. A request that got a 2xx is applied to the model; one that
failed with an HTTP error must have changed nothing; the single request a worker had in flight
at the kill is "uncertain": the server must show either the state before it or after it.
"""
import copy

import numpy as np

ABSENT = None


class DocModel:
    """Expected state of one document (None in the maps below means: must not exist)."""

    def __init__(self, title, meta, chunks, version=1):
        self.title = title
        self.meta = meta            # user metadata fields only
        self.chunks = chunks        # chunk id -> {"text", "embedding", "meta", "version"}
        self.version = version
        self.version_exact = True   # False once a chunk op may have bumped the doc version

    def clone(self):
        return copy.deepcopy(self)


def _user_meta(meta):
    return {k: v for k, v in meta.items() if k not in ("created_at", "updated_at")}


def f32(values):
    """The server stores float32 and prints the shortest decimal that round-trips in float32,
    so embeddings are compared after rounding both sides to float32."""
    return np.asarray(values, dtype=np.float64).astype(np.float32).tolist()


def fetch_doc(c, lib_id, doc_id, with_embeddings=True):
    """The server's view of one document, or ABSENT; raises on anything unexpected.
    Without embeddings only the listing is read (one request per page, not per chunk)."""
    r = c.get("/v1/libraries/%s/documents/%s" % (lib_id, doc_id))
    if r.status_code == 404:
        return ABSENT, None
    assert r.status_code == 200, (doc_id, r.status_code, r.text[:300])
    doc = r.json()
    listed = c.list_all("/v1/libraries/%s/documents/%s/chunks" % (lib_id, doc_id))
    chunks = {}
    for ch in listed:
        entry = {"text": ch["text"], "meta": _user_meta(ch["metadata"]), "version": ch["version"]}
        if with_embeddings:
            full = c.ok(c.get("/v1/libraries/%s/chunks/%s" % (lib_id, ch["id"]),
                              params={"include": "embedding"}))
            entry["embedding"] = f32(full["embedding"])
            for k in ("text", "metadata", "version"):
                assert full[k] == ch[k], "GET chunk and list disagree on %s: %r" % (k, ch["id"])
        chunks[ch["id"]] = entry
    positions = [ch["metadata"]["position"] for ch in listed]
    return doc, {"chunks": chunks, "positions": positions}


def diff_doc(expected, actual_doc, actual_extra):
    """'' when the server's document matches `expected` (a DocModel or ABSENT), else why not."""
    if expected is ABSENT:
        return "" if actual_doc is ABSENT else "exists but must not"
    if actual_doc is ABSENT:
        return "missing"
    problems = []
    if actual_doc["title"] != expected.title:
        problems.append("title %r != %r" % (actual_doc["title"], expected.title))
    if _user_meta(actual_doc["metadata"]) != expected.meta:
        problems.append("metadata %r != %r" % (_user_meta(actual_doc["metadata"]), expected.meta))
    if expected.version_exact and actual_doc["version"] != expected.version:
        problems.append("version %r != %r" % (actual_doc["version"], expected.version))
    if not expected.version_exact and actual_doc["version"] < expected.version:
        problems.append("version %r < %r" % (actual_doc["version"], expected.version))
    got = actual_extra["chunks"]
    if actual_doc["chunk_count"] != len(got):
        problems.append("chunk_count %d != %d listed" % (actual_doc["chunk_count"], len(got)))
    if set(got) != set(expected.chunks):
        problems.append("chunk ids: missing %r, unexpected %r" % (
            sorted(set(expected.chunks) - set(got))[:5], sorted(set(got) - set(expected.chunks))[:5]))
    else:
        for cid, want in expected.chunks.items():
            want = dict(want, embedding=f32(want["embedding"]))
            if "embedding" not in got[cid]:
                del want["embedding"]
            if got[cid] != want:
                problems.append("chunk %s: %r != %r" % (cid, got[cid], want))
                break
    pos = actual_extra["positions"]
    if pos != sorted(pos):
        problems.append("chunk listing not ordered by position: %r" % pos)
    return "; ".join(problems)
