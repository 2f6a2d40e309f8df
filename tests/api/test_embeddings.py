"""Server-side embeddings, end to end (API.md: `embedder`, chunks with text only, text search).

The `hash` embedder is built in. Remote providers are exercised against
tests/embed/fake_provider.py, a local fake OpenAI/Cohere server whose behaviour (ok, always 500,
slow, ...) is chosen by the path of the embedder's base_url.
"""
import math
import os
import subprocess

import pytest

from conftest import uniq
from quiver_testlib import assert_problem
import quiver_testlib.server as server_module
from util import chunk_path, chunks_path, doc_path

FAKE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "embed", "fake_provider.py"))

KEY_VALUE = "sk-fake-DO-NOT-LEAK-42"


@pytest.fixture(scope="module")
def fake():
    proc = subprocess.Popen(["/usr/bin/python3", FAKE], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    assert line.startswith("PORT "), "fake provider did not start: %r" % line
    base = "http://127.0.0.1:%d" % int(line.split()[1])
    yield base
    proc.terminate()
    proc.wait(10)


def _server_with_env(server_factory, monkeypatch, env):
    """An extra quiverd whose environment includes `env` (the shared fixture strips QUIVER_*
    variables, and the embedding timeout is only settable through QUIVER_EMBED_TIMEOUT_MS)."""
    real_popen = subprocess.Popen

    def popen(args, **kw):
        e = dict(kw.get("env") or os.environ)
        e.update(env)
        kw["env"] = e
        return real_popen(args, **kw)

    monkeypatch.setattr(server_module.subprocess, "Popen", popen)
    try:
        srv = server_factory()
    finally:
        monkeypatch.setattr(server_module.subprocess, "Popen", real_popen)
    from quiver_testlib.client import Client
    return Client(srv.base_url)


def _hash_library(api, dim=256, **kw):
    return api.create_library(name=uniq("emb"), metric="cosine", index={"type": "flat"},
                              embedder={"provider": "hash", "dimension": dim}, **kw)


def _get_embedding(api, lib_id, chunk_id):
    return api.ok(api.get(chunk_path(lib_id, chunk_id), params={"include": "embedding"}))[
        "embedding"]


def _norm(v):
    return math.sqrt(sum(x * x for x in v))


def _cos(a, b):
    return sum(x * y for x, y in zip(a, b)) / (_norm(a) * _norm(b))


TEXTS = [
    "The cat sat on the mat and purred quietly.",
    "Stock markets fell sharply after the central bank raised interest rates.",
    "A recipe for chocolate cake with butter, sugar and cocoa.",
    "HNSW is a graph index for approximate nearest neighbour vector search.",
    "The football team won the championship final on penalties.",
]


def test_hash_embedder_gives_dimension_and_text_only_chunks(api):
    lib = _hash_library(api, dim=128)
    assert lib["dimension"] == 128
    assert lib["embedder"]["provider"] == "hash"
    assert lib["embedder"]["dimension"] == 128
    doc = api.create_document(lib["id"], title="d", chunks=[{"text": t} for t in TEXTS])
    assert doc["chunk_count"] == len(TEXTS)
    chunks = api.list_all(chunks_path(lib["id"], doc["id"]))
    assert [c["text"] for c in chunks] == TEXTS
    vecs = [_get_embedding(api, lib["id"], c["id"]) for c in chunks]
    for v in vecs:
        assert len(v) == 128
        assert abs(_norm(v) - 1.0) < 1e-4
    # Deterministic: the same text in another library of the same dimension -> same vector.
    lib2 = _hash_library(api, dim=128)
    doc2 = api.create_document(lib2["id"], title="d2")
    again = api.add_chunks(lib2["id"], doc2["id"], [{"text": TEXTS[3]}])
    v2 = _get_embedding(api, lib2["id"], again[0]["id"])
    assert max(abs(a - b) for a, b in zip(v2, vecs[3])) < 1e-6


@pytest.mark.parametrize("query,expected", [
    ("graph index for vector search", 3),
    ("chocolate cake recipe", 2),
    ("the cat on the mat", 0),
    ("interest rates and stock markets", 1),
])
def test_text_search_finds_the_chunk_sharing_words(api, query, expected):
    lib = _hash_library(api)
    doc = api.create_document(lib["id"], title="d", chunks=[{"text": t} for t in TEXTS])
    chunks = api.list_all(chunks_path(lib["id"], doc["id"]))
    res = api.search(lib["id"], {"text": query, "k": 3})
    assert res["results"], res
    assert res["results"][0]["chunk_id"] == chunks[expected]["id"], res
    assert res["results"][0]["text"] == TEXTS[expected]


def test_patch_text_reembeds(api):
    lib = _hash_library(api)
    doc = api.create_document(lib["id"], title="d", chunks=[{"text": t} for t in TEXTS])
    chunks = api.list_all(chunks_path(lib["id"], doc["id"]))
    target = chunks[4]
    before = _get_embedding(api, lib["id"], target["id"])
    new_text = "Quantum computers use qubits and superposition."
    patched = api.ok(api.patch(chunk_path(lib["id"], target["id"]), json={"text": new_text}))
    assert patched["text"] == new_text
    after = _get_embedding(api, lib["id"], target["id"])
    assert after != before
    # The new vector is what the embedder gives for the new text (a fresh chunk with it).
    fresh = api.add_chunks(lib["id"], doc["id"], [{"text": new_text}])[0]
    assert max(abs(a - b) for a, b in zip(after, _get_embedding(api, lib["id"], fresh["id"]))) \
        < 1e-6
    res = api.search(lib["id"], {"text": "qubits superposition quantum", "k": 2})
    assert {r["chunk_id"] for r in res["results"]} == {target["id"], fresh["id"]}
    res = api.search(lib["id"], {"text": "football championship penalties", "k": 1})
    assert res["results"][0]["chunk_id"] != target["id"]


def test_given_embedding_wins_over_embedder(api):
    lib = _hash_library(api, dim=4)
    doc = api.create_document(lib["id"], title="d")
    c = api.add_chunks(lib["id"], doc["id"], [{"text": "x", "embedding": [0.5, 0.5, 0.5, 0.5]}])
    assert _get_embedding(api, lib["id"], c[0]["id"]) == [0.5, 0.5, 0.5, 0.5]


def test_text_search_without_embedder_is_422(api, lib):
    r = api.post("/v1/libraries/%s/search" % lib["id"], json={"text": "hello", "k": 1})
    assert_problem(r, 422)


def test_invalid_embedder_configs_are_422(api):
    cases = [
        ({"provider": "word2vec", "dimension": 8}, "embedder.provider"),
        ({"provider": "hash", "dimension": 0}, "embedder.dimension"),
        ({"provider": "openai", "dimension": 8}, "embedder.model"),
        ({"provider": "openai", "model": "m", "dimension": 8, "base_url": "ftp://x"},
         "embedder.base_url"),
        ({"provider": "openai", "model": "m", "dimension": 8, "api_key_env": "sk-live-abc"},
         "embedder.api_key_env"),
    ]
    for emb, field in cases:
        r = api.post("/v1/libraries", json={"name": uniq("bad"), "embedder": emb})
        assert_problem(r, 422, field=field)


def _openai_library(api, base_url, dim=8, **extra):
    emb = {"provider": "openai", "model": "fake-model", "dimension": dim, "base_url": base_url}
    emb.update(extra)
    return api.create_library(name=uniq("oai"), metric="cosine", index={"type": "flat"},
                              embedder=emb)


def test_openai_provider_end_to_end_with_key_from_env(fake, server_factory, monkeypatch):
    c = _server_with_env(server_factory, monkeypatch, {"EMBED_FAKE_KEY": KEY_VALUE})
    try:
        lib = _openai_library(c, fake + "/mode/ok/dim/16/tag/e2e", dim=16,
                              api_key_env="EMBED_FAKE_KEY")
        assert lib["dimension"] == 16
        assert lib["embedder"]["api_key_env"] == "EMBED_FAKE_KEY"
        assert KEY_VALUE not in str(lib)
        doc = c.create_document(lib["id"], title="d", chunks=[{"text": t} for t in TEXTS])
        chunks = c.list_all(chunks_path(lib["id"], doc["id"]))
        res = c.search(lib["id"], {"text": "chocolate cake butter", "k": 1})
        assert res["results"][0]["chunk_id"] == chunks[2]["id"]
        reqs = c.session.post(fake + "/_requests").json()
        mine = [r for r in reqs if "/tag/e2e/" in r["path"]]
        assert len(mine) >= 2  # the document's chunks, then the query
        assert all(r["authorization"] == "Bearer " + KEY_VALUE for r in mine)
        assert mine[0]["body"]["input"] == TEXTS
        assert mine[0]["body"]["model"] == "fake-model"
    finally:
        c.close()


def test_failing_provider_is_502_and_writes_nothing(api, fake):
    lib = _openai_library(api, fake + "/mode/500/tag/fail")
    doc = api.create_document(lib["id"], title="d")
    r = api.post(chunks_path(lib["id"], doc["id"]), json={"chunks": [{"text": "a"}, {"text": "b"}]})
    body = assert_problem(r, 502, code="upstream_error")
    assert "openai" in body["detail"]
    assert api.list_all(chunks_path(lib["id"], doc["id"])) == []
    assert api.ok(api.get(doc_path(lib["id"], doc["id"])))["chunk_count"] == 0

    # A document created with chunks is all-or-nothing too.
    r = api.post(doc_path(lib["id"]), json={"title": "x", "chunks": [{"text": "c"}]})
    assert_problem(r, 502, code="upstream_error")
    docs = api.list_all(doc_path(lib["id"]))
    assert [d["id"] for d in docs] == [doc["id"]]

    # Text search needs the provider too.
    r = api.post("/v1/libraries/%s/search" % lib["id"], json={"text": "a", "k": 1})
    assert_problem(r, 502, code="upstream_error")


def test_missing_key_variable_is_502_naming_the_variable(api, fake):
    lib = _openai_library(api, fake + "/mode/ok/tag/nokey",
                          api_key_env="QUIVER_TEST_SURELY_UNSET_VARIABLE")
    doc = api.create_document(lib["id"], title="d")
    r = api.post(chunks_path(lib["id"], doc["id"]), json={"chunks": [{"text": "a"}]})
    body = assert_problem(r, 502, code="upstream_error")
    assert "QUIVER_TEST_SURELY_UNSET_VARIABLE" in body["detail"]
    assert api.list_all(chunks_path(lib["id"], doc["id"])) == []


def test_slow_provider_is_504(fake, server_factory, monkeypatch):
    c = _server_with_env(server_factory, monkeypatch, {"QUIVER_EMBED_TIMEOUT_MS": "400"})
    try:
        lib = _openai_library(c, fake + "/mode/slow/sleep/5/tag/slow")
        doc = c.create_document(lib["id"], title="d")
        r = c.post(chunks_path(lib["id"], doc["id"]), json={"chunks": [{"text": "a"}]})
        body = assert_problem(r, 504, code="upstream_timeout")
        assert "openai" in body["detail"]
        assert c.list_all(chunks_path(lib["id"], doc["id"])) == []
    finally:
        c.close()
