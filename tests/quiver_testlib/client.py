"""A thin HTTP client for tests: one keep-alive requests.Session, a timeout on every call."""
import uuid

import requests

from .server import timeout_scale


def uniq(prefix="t"):
    """A unique, contract-valid library name / id."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


class Client:
    def __init__(self, base_url, timeout=20.0):
        self.base_url = base_url
        self.session = requests.Session()
        self.timeout = timeout * timeout_scale()

    def request(self, method, path, json=None, data=None, headers=None, params=None,
                timeout=None):
        h = dict(headers or {})
        return self.session.request(method, self.base_url + path, json=json, data=data,
                                    headers=h, params=params,
                                    timeout=timeout or self.timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        self.session.close()

    # ---- convenience wrappers that assert success --------------------------------------------
    def ok(self, resp, status=(200,)):
        statuses = status if isinstance(status, (tuple, list)) else (status,)
        assert resp.status_code in statuses, "%s %s -> %d %s" % (
            resp.request.method, resp.request.url, resp.status_code, resp.text[:800])
        return resp.json() if resp.content else None

    def create_library(self, **body):
        body.setdefault("name", uniq("lib"))
        return self.ok(self.post("/v1/libraries", json=body), 201)

    def create_document(self, lib_id, **body):
        return self.ok(self.post("/v1/libraries/%s/documents" % lib_id, json=body), 201)

    def add_chunks(self, lib_id, doc_id, chunks):
        return self.ok(self.post("/v1/libraries/%s/documents/%s/chunks" % (lib_id, doc_id),
                                 json={"chunks": chunks}), 201)["chunks"]

    def list_all(self, path, limit=1000):
        """Follows next_cursor to the end; returns every item."""
        items, cursor = [], None
        for _ in range(100000):
            params = {"limit": limit}
            if cursor is not None:
                params["cursor"] = cursor
            page = self.ok(self.get(path, params=params))
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("pagination never ended: " + path)

    def search(self, lib_id, body, status=200):
        return self.ok(self.post("/v1/libraries/%s/search" % lib_id, json=body), status)
