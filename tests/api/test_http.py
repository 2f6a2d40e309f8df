"""The HTTP layer: routing, methods, media types, body limits, JSON parse errors, keep-alive."""
import http.client
import json
import re

from quiver_testlib import assert_problem
from quiver_testlib.client import Client, uniq


def _raw_post(api, path, data, ctype="application/json"):
    headers = {} if ctype is None else {"Content-Type": ctype}
    return api.post(path, data=data, headers=headers)


def test_unknown_route_404(api):
    for path in ("/v1/nope", "/nope", "/v1/libraries/x/y/z/w", "/v2/libraries"):
        assert_problem(api.get(path), 404, code="route_not_found")
    assert_problem(api.post("/v1/nope", json={}), 404, code="route_not_found")


def test_wrong_method_405_with_allow(api):
    cases = [
        ("DELETE", "/v1/libraries", {"GET", "POST"}),
        ("PUT", "/v1/libraries/x", {"GET", "PATCH", "DELETE"}),
        ("GET", "/v1/libraries/x/search", {"POST"}),
        ("DELETE", "/v1/libraries/x/documents", {"GET", "POST"}),
        ("PUT", "/v1/libraries/x/documents/y/chunks", {"GET", "POST"}),
        ("POST", "/v1/libraries/x/chunks/y", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/v1/libraries/x/index", {"GET", "POST"}),
        ("POST", "/healthz", {"GET"}),
    ]
    for method, path, allowed in cases:
        r = api.request(method, path, json={} if method in ("POST", "PUT") else None)
        assert_problem(r, 405, code="method_not_allowed")
        allow = {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}
        assert allowed <= allow, (method, path, r.headers.get("Allow"))
        assert method not in allow


def test_malformed_json_400_with_byte_offset(api):
    body = assert_problem(_raw_post(api, "/v1/libraries", '{"name": "x",, "dimension": 2}'), 400,
                          field="", code="malformed")
    m = re.search(r"byte (\d+)", body["detail"])
    assert m, body["detail"]
    assert 10 <= int(m.group(1)) <= 16, body["detail"]
    for bad in ('{"name": ', '{', '', 'nul', '{"a": 1} trailing', "{'name': 'x'}"):
        assert_problem(_raw_post(api, "/v1/libraries", bad), 400)


def test_invalid_utf8_400(api):
    name = uniq("u")
    r = _raw_post(api, "/v1/libraries", b'{"name": "' + name.encode() + b'\xff\xfe", "dimension": 2}')
    assert_problem(r, 400)
    assert name not in [l["name"] for l in api.list_all("/v1/libraries")]


def test_wrong_content_type_415(api):
    body = json.dumps({"name": uniq("ct"), "dimension": 2})
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/xml", None):
        assert_problem(_raw_post(api, "/v1/libraries", body, ctype), 415,
                       code="unsupported_media_type")
    lib = api.create_library(dimension=2)
    assert_problem(api.patch("/v1/libraries/" + lib["id"], data='{"description": "x"}',
                             headers={"Content-Type": "text/plain"}), 415)
    # Parameters on the media type are fine, and so is the case of the type.
    r = _raw_post(api, "/v1/libraries", body, "application/json; charset=utf-8")
    assert r.status_code == 201, r.text
    r = _raw_post(api, "/v1/libraries", json.dumps({"name": uniq("ct"), "dimension": 2}),
                  "Application/JSON")
    assert r.status_code == 201, r.text


def test_non_object_body_422(api):
    for bad in ("[1, 2]", '"str"', "42", "null", "true"):
        assert_problem(_raw_post(api, "/v1/libraries", bad), 422, field="")


def test_deep_nesting_400(api):
    deep = '{"name": "x", "dimension": 2, "metadata": {"tags": ' + "[" * 100 + "]" * 100 + "}}"
    assert_problem(_raw_post(api, "/v1/libraries", deep), 400)
    deeper = "[" * 10000 + "]" * 10000
    assert_problem(_raw_post(api, "/v1/libraries", deeper), 400)
    # The server is still fine.
    assert api.get("/healthz").status_code == 200


def test_body_over_limit_413(server_factory):
    srv = server_factory(extra_args=["--max-body-bytes", "1024"])
    c = Client(srv.base_url)
    try:
        lib = c.create_library(dimension=2, description="x" * 100)
        big = {"name": uniq("big"), "dimension": 2, "description": "x" * 2000}
        assert_problem(c.post("/v1/libraries", json=big), 413, code="payload_too_large")
        chunks = [{"text": "t" * 50, "embedding": [1, 2]} for _ in range(50)]
        d = c.create_document(lib["id"])
        assert_problem(c.post("/v1/libraries/%s/documents/%s/chunks" % (lib["id"], d["id"]),
                              json={"chunks": chunks}), 413)
        assert c.ok(c.get("/v1/libraries/" + lib["id"]))["stats"]["chunk_count"] == 0
        # The connection/server keeps working after a 413.
        assert c.get("/healthz").status_code == 200
        c.create_library(dimension=2)
    finally:
        c.close()
    assert srv.stop() == 0, srv.all_logs()


def test_keep_alive_several_requests_one_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        conn.connect()
        sock = conn.sock
        for i in range(6):
            if i % 2:
                body = json.dumps({"name": uniq("ka"), "dimension": 2})
                conn.request("POST", "/v1/libraries", body=body,
                             headers={"Content-Type": "application/json"})
                want = 201
            else:
                conn.request("GET", "/healthz")
                want = 200
            r = conn.getresponse()
            r.read()
            assert r.status == want
            assert conn.sock is sock, "server closed the keep-alive connection"
        # An error response does not close the connection either.
        conn.request("GET", "/v1/nope")
        r = conn.getresponse()
        r.read()
        assert r.status == 404
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        assert r.status == 200 and conn.sock is sock
    finally:
        conn.close()


def test_head_and_json_content_type_on_success(api):
    r = api.get("/v1/libraries")
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
