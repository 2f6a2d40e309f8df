#!/usr/bin/python3
"""A fake embedding provider for Quiver's tests: speaks OpenAI's POST /v1/embeddings and
Cohere's POST /v2/embed, and misbehaves on request.

Start: `python3 fake_provider.py` -> prints `PORT <n>` (an ephemeral port) on stdout, then
serves until SIGTERM or until its stdin closes (so it dies with the test that started it).

The behaviour is chosen by the URL path *before* the API path, so a test picks it through the
embedder's base_url and concurrent tests never share state by accident:

    http://127.0.0.1:<port>/mode/<mode>/dim/<d>/tag/<anything>   + /v1/embeddings | /v2/embed

  mode  ok (default) | 429 (always, with Retry-After: <retryafter>, default 0) | 429once (first call per prefix -> 429 Retry-After: 0, then ok) |
        503once | 500 (always) | slow (sleeps `sleep` seconds, default 5, then ok) |
        wrongdim (dim+1 numbers) | short (one embedding too few) | badjson | 401 (echoes the
        bearer token back, like providers that quote the key: the client must not leak it)
  dim   vector size when the request carries no "dimensions" (default 8)
  sleep seconds for mode slow
  retryafter  the Retry-After value for mode 429

Vectors are a deterministic bag-of-words hash of the text (same word -> same bucket), so a
text search over fake vectors finds the chunk that shares words with the query.

Control: GET (or POST) /_requests -> JSON list of every embeddings request seen (path, authorization
header, parsed body); POST /_reset clears it.
"""
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_requests = []
_calls_per_prefix = {}


def fake_vector(text, dim):
    v = [0.0] * dim
    v[0] = 0.01  # never the zero vector
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        h = int(hashlib.md5(word.encode()).hexdigest(), 16)
        v[h % dim] += 1.0 if (h >> 64) & 1 else -1.0
    return v


def parse_prefix(prefix):
    opts = {"mode": "ok", "dim": "8", "sleep": "5", "retryafter": "0"}
    parts = [p for p in prefix.split("/") if p]
    for i in range(0, len(parts) - 1, 2):
        opts[parts[i]] = parts[i + 1]
    return opts


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection reuse is exercised

    def log_message(self, fmt, *args):  # quiet: the test output is for the test
        pass

    def _send(self, status, obj=None, raw=None, headers=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def do_GET(self):
        if self.path == "/_requests":
            with _lock:
                self._send(200, list(_requests))
        else:
            self._send(404, {"error": {"message": "no route"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path == "/_requests":  # POST too, so a client that only POSTs can read it
            self.do_GET()
            return
        if self.path == "/_reset":
            with _lock:
                _requests.clear()
                _calls_per_prefix.clear()
            self._send(200, {})
            return
        m = re.fullmatch(r"(.*)/(v1/embeddings|v2/embed)", self.path)
        if not m:
            self._send(404, {"error": {"message": "no route " + self.path}})
            return
        prefix, api = m.group(1), m.group(2)
        opts = parse_prefix(prefix)
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, {"error": {"message": "request is not JSON"}})
            return
        auth = self.headers.get("Authorization")
        with _lock:
            _requests.append({"path": self.path, "authorization": auth, "body": body})
            n_call = _calls_per_prefix.get(prefix, 0)
            _calls_per_prefix[prefix] = n_call + 1

        mode = opts["mode"]
        if mode == "500":
            self._send(500, {"error": {"message": "fake provider failure"}})
            return
        if mode == "429":
            self._send(429, {"error": {"message": "rate limited"}},
                       headers={"Retry-After": opts["retryafter"]})
            return
        if mode == "429once" and n_call == 0:
            self._send(429, {"error": {"message": "rate limited"}}, headers={"Retry-After": "0"})
            return
        if mode == "503once" and n_call == 0:
            self._send(503, {"message": "overloaded"})
            return
        if mode == "401":
            self._send(401, {"error": {"message": "Incorrect API key provided: %s" % auth}})
            return
        if mode == "badjson":
            self._send(200, raw=b'{"data": [')
            return
        if mode == "slow":
            time.sleep(float(opts["sleep"]))

        dim = int(body.get("dimensions") or opts["dim"])
        if mode == "wrongdim":
            dim += 1
        texts = body.get("input") if api == "v1/embeddings" else body.get("texts")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not body.get("model"):
            self._send(400, {"error": {"message": "model and input/texts are required"}})
            return
        vecs = [fake_vector(t, dim) for t in texts]
        if mode == "short":
            vecs = vecs[:-1]
        if api == "v1/embeddings":
            # Reverse order on purpose: clients must place results by "index".
            data = [{"object": "embedding", "index": i, "embedding": v}
                    for i, v in reversed(list(enumerate(vecs)))]
            self._send(200, {"object": "list", "data": data, "model": body["model"],
                             "usage": {"prompt_tokens": 0, "total_tokens": 0}})
        else:
            self._send(200, {"id": "fake", "embeddings": {"float": vecs}, "texts": texts,
                             "meta": {"api_version": {"version": "2"}}})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)

    def watch_stdin():
        # Exit when whoever started us goes away (stdin closes), even if it crashed.
        try:
            while sys.stdin.read(1):
                pass
        except Exception:
            pass
        server.shutdown()

    if "--no-stdin-watch" not in sys.argv:
        threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
