"""Operational endpoints: /healthz, /readyz, /version, /openapi.json."""
import re

from util import chunks_path, doc_path

# Every route of API.md: (method, path template).
CONTRACT_ROUTES = [
    ("POST", "/v1/libraries"),
    ("GET", "/v1/libraries"),
    ("GET", "/v1/libraries/{library_id}"),
    ("PATCH", "/v1/libraries/{library_id}"),
    ("DELETE", "/v1/libraries/{library_id}"),
    ("POST", "/v1/libraries/{library_id}/documents"),
    ("GET", "/v1/libraries/{library_id}/documents"),
    ("GET", "/v1/libraries/{library_id}/documents/{document_id}"),
    ("PATCH", "/v1/libraries/{library_id}/documents/{document_id}"),
    ("DELETE", "/v1/libraries/{library_id}/documents/{document_id}"),
    ("POST", "/v1/libraries/{library_id}/documents/{document_id}/chunks"),
    ("GET", "/v1/libraries/{library_id}/documents/{document_id}/chunks"),
    ("GET", "/v1/libraries/{library_id}/chunks/{chunk_id}"),
    ("PATCH", "/v1/libraries/{library_id}/chunks/{chunk_id}"),
    ("DELETE", "/v1/libraries/{library_id}/chunks/{chunk_id}"),
    ("POST", "/v1/libraries/{library_id}/search"),
    ("GET", "/v1/libraries/{library_id}/index"),
    ("POST", "/v1/libraries/{library_id}/index"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.json"),
    ("GET", "/version"),
]


def _shape(path):
    """Template parameter names do not matter: /v1/libraries/{id} == /v1/libraries/{library_id}."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_healthz_readyz(api):
    r = api.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = api.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


def test_version(api):
    r = api.get("/version")
    assert r.status_code == 200
    v = r.json()
    assert v["version"] == "0.1.0"
    assert isinstance(v["git_sha"], str) and v["git_sha"]


def test_openapi_document(api):
    r = api.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    doc = r.json()
    assert doc["openapi"].startswith("3.1"), doc.get("openapi")
    assert isinstance(doc["info"]["title"], str) and isinstance(doc["info"]["version"], str)
    paths = {_shape(p): ops for p, ops in doc["paths"].items()}
    for method, path in CONTRACT_ROUTES:
        assert _shape(path) in paths, "openapi.json lacks path " + path
        assert method.lower() in paths[_shape(path)], "openapi.json lacks %s %s" % (method, path)


def test_every_openapi_path_is_routed(api):
    """Cross-check: every operation the document lists is served (no route_not_found, no 405)."""
    doc = api.ok(api.get("/openapi.json"))
    lib = api.create_library(dimension=2)
    d = api.create_document(lib["id"])
    ch = api.add_chunks(lib["id"], d["id"], [{"text": "x", "embedding": [1, 2]}])[0]
    real = {"library": lib["id"], "document": d["id"], "chunk": ch["id"]}

    def fill(path, fake):
        def sub(m):
            name = m.group(1)
            if fake:
                return "does-not-exist"
            for key, val in real.items():
                if key in name:
                    return val
            return real["library"] if name == "id" else "x"
        return re.sub(r"\{([^}]*)\}", sub, path)

    for path, ops in doc["paths"].items():
        for method in ops:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if method == "get":
                r = api.get(fill(path, fake=False))
                assert 200 <= r.status_code < 300 or path == "/readyz", (path, r.status_code,
                                                                         r.text[:300])
            else:
                r = api.request(method.upper(), fill(path, fake="{" in path),
                                json={} if method != "delete" else None)
                assert r.status_code not in (405,), (method, path, r.text[:300])
                if r.status_code == 404:
                    assert r.json()["type"] != "urn:quiver:problem:route_not_found", (method, path)
    # The probing above did not delete anything real.
    assert api.get(doc_path(lib["id"], d["id"])).status_code == 200
    assert [c["id"] for c in api.list_all(chunks_path(lib["id"], d["id"]))] == [ch["id"]]
