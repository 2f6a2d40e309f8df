"""The one assertion every error response goes through (RFC 9457 problem details + wire.md)."""

_CODES = {
    "malformed", "invalid_argument", "not_found", "already_exists", "conflict",
    "precondition_failed", "resource_exhausted", "unavailable", "storage_full",
    "upstream_error", "upstream_timeout", "internal", "method_not_allowed",
    "unsupported_media_type", "payload_too_large", "route_not_found",
}


def assert_problem(resp, status, field=None, field_prefix=None, code=None, detail_contains=None,
                   message_contains=None):
    """Asserts `resp` is a problem+json error with HTTP `status` and a well-formed body.

    field:         an entry of `errors` must name exactly this field (may be a tuple of
                   acceptable names).
    field_prefix:  an entry of `errors` must start with this (for "chunks[3]." style checks).
    code:          the `<code>` of `urn:quiver:problem:<code>`.
    Returns the parsed body for further checks.
    """
    ctx = "%s %s -> %s %r" % (resp.request.method, resp.request.url, resp.status_code,
                              resp.text[:600])
    assert resp.status_code == status, "expected HTTP %d: %s" % (status, ctx)
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/problem+json", \
        "Content-Type %r: %s" % (ctype, ctx)
    body = resp.json()
    assert isinstance(body, dict), ctx
    for key in ("type", "title", "status", "detail", "errors"):
        assert key in body, "problem lacks %r: %s" % (key, ctx)
    assert body["status"] == status, "problem.status != HTTP status: %s" % ctx
    assert isinstance(body["type"], str) and body["type"].startswith("urn:quiver:problem:"), ctx
    assert body["type"][len("urn:quiver:problem:"):] in _CODES, "unknown problem code: %s" % ctx
    if code is not None:
        assert body["type"] == "urn:quiver:problem:" + code, ctx
    assert isinstance(body["title"], str) and body["title"], ctx
    assert isinstance(body["detail"], str) and body["detail"], ctx
    assert isinstance(body["errors"], list), ctx
    for e in body["errors"]:
        assert isinstance(e, dict) and isinstance(e.get("field"), str) \
            and isinstance(e.get("message"), str), "bad errors[] entry %r: %s" % (e, ctx)
    fields = [e["field"] for e in body["errors"]]
    if field is not None:
        wanted = field if isinstance(field, (tuple, list, set)) else (field,)
        assert any(f in wanted for f in fields), \
            "errors[] names %r, expected one of %r: %s" % (fields, wanted, ctx)
    if field_prefix is not None:
        assert any(f.startswith(field_prefix) for f in fields), \
            "errors[] names %r, expected a field under %r: %s" % (fields, field_prefix, ctx)
    if detail_contains is not None:
        assert detail_contains in body["detail"], ctx
    if message_contains is not None:
        assert any(message_contains in e["message"] for e in body["errors"]), ctx
    return body
