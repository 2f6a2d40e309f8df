#!/usr/bin/python3
"""Runs the built Quiver image the way users do and checks it end to end.

Usage: test_image.py IMAGE

podman (daemonless, vfs storage) starts quiverd from IMAGE with a fresh named volume on
/data, under the same restrictions as the Helm chart's securityContext (read-only root,
/tmp tmpfs, no capabilities, no-new-privileges). From the host the test creates a library,
adds chunks, checks a search against brute force, stops the container with SIGTERM
(exit code 0 required), starts a new container on the same volume and finds the data.
The container gets its own network namespace (slirp4netns, no host firewall changes) with
the port published on 127.0.0.1 only, like `docker run -p 127.0.0.1:PORT:8080`.

Prints one "PASS name" / "FAIL name: why" line per check; exits 1 if any failed.
"""
import json
import math
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import time

import requests

results = []
NAME = f"quiver-pkgtest-{os.getpid()}"
VOLUME = f"quiver-pkgtest-data-{os.getpid()}"


def check(name, ok, why=""):
    results.append(bool(ok))
    print(f"PASS {name}" if ok else f"FAIL {name}: {why}", flush=True)
    return bool(ok)


def podman_base():
    base = ["podman", "--storage-driver", "vfs"]
    # crun refuses hosts with a hybrid cgroup v1/v2 layout (like this one); runc copes.
    if shutil.which("runc"):
        base += ["--runtime", "runc"]
    return base


def podman(*args, check_rc=True, timeout=120):
    proc = subprocess.run(podman_base() + list(args), capture_output=True, text=True,
                          timeout=timeout)
    if check_rc and proc.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def ulimit_args():
    # The runtime may not raise limits above this process's own hard limits, and podman's
    # defaults (1048576 open files) are higher than this sandbox allows.
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65536)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 8192)
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(image, port):
    network = os.environ.get("PKG_NETWORK", "slirp4netns")
    args = ["run", "-d", "--name", NAME, "-v", f"{VOLUME}:/data",
            "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges"] + ulimit_args()
    if network == "host":
        # Host network: quiverd itself must then listen on loopback only.
        args += ["--network", "host", "-e", f"QUIVER_PORT={port}", "-e",
                 "QUIVER_ADDRESS=127.0.0.1"]
    else:
        args += ["--network", f"{network}:port_handler=slirp4netns",
                 "-p", f"127.0.0.1:{port}:8080"]
    podman(*args, image)
    return f"http://127.0.0.1:{port}"


def wait_ready(base, seconds=90):
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            r = requests.get(base + "/readyz", timeout=2)
            if r.status_code == 200:
                return True
            last = f"/readyz {r.status_code}"
        except requests.RequestException as e:
            last = str(e)
        state = podman("inspect", "-f", "{{.State.Status}}", NAME, check_rc=False).stdout.strip()
        if state not in ("running", "created", "configured", ""):
            last = f"container {state}"
            break
        time.sleep(0.5)
    print(f"  not ready: {last}", flush=True)
    print(podman("logs", NAME, check_rc=False).stderr[-3000:], flush=True)
    return False


def stop_with_sigterm():
    """podman stop sends the image's STOPSIGNAL (SIGTERM) to PID 1 (tini), which forwards
    it to quiverd; returns quiverd's exit code as the container's."""
    podman("stop", "-t", "30", NAME, timeout=60)
    code = podman("inspect", "-f", "{{.State.ExitCode}}", NAME).stdout.strip()
    logs = podman("logs", NAME, check_rc=False)
    podman("rm", "-f", NAME, check_rc=False)
    return int(code), logs.stdout + logs.stderr


def process_uids():
    """Real and effective uids of the container's PID 1 (tini) and its children (quiverd),
    read from the host's /proc."""
    pid = podman("inspect", "-f", "{{.State.Pid}}", NAME).stdout.strip()
    out = {}
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            pids += f.read().split()
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            with open(f"/proc/{p}/comm", encoding="ascii") as f:
                comm = f.read().strip()
            out[comm] = [int(x) for x in status["Uid"].split()[:2]]
        except OSError:
            continue
    return out


def l2(a, b):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def check_image_config(image):
    info = json.loads(podman("image", "inspect", image).stdout)[0]
    cfg = info.get("Config", {})
    labels = info.get("Labels") or cfg.get("Labels") or {}
    env = dict(e.split("=", 1) for e in cfg.get("Env", []))
    check("image: runs as uid 10001 by default", cfg.get("User") in ("10001", "10001:10001"),
          cfg.get("User"))
    check("image: entrypoint is tini -> quiverd",
          cfg.get("Entrypoint") == ["/usr/bin/tini", "--", "/usr/local/bin/quiverd"],
          str(cfg.get("Entrypoint")))
    check("image: QUIVER_ADDRESS=0.0.0.0 and QUIVER_DATA_DIR=/data",
          env.get("QUIVER_ADDRESS") == "0.0.0.0" and env.get("QUIVER_DATA_DIR") == "/data",
          str(env))
    check("image: exposes 8080/tcp and declares the /data volume",
          "8080/tcp" in (cfg.get("ExposedPorts") or {}) and "/data" in (cfg.get("Volumes") or {}),
          f"{cfg.get('ExposedPorts')} {cfg.get('Volumes')}")
    hc = info.get("Healthcheck") or cfg.get("Healthcheck") or {}
    check("image: HEALTHCHECK probes /healthz", "/healthz" in " ".join(hc.get("Test", [])),
          str(hc))
    want = ("version", "source", "licenses", "title", "description")
    missing = [k for k in want if not labels.get(f"org.opencontainers.image.{k}")]
    check("image: OCI labels present", not missing, f"missing {missing}")
    check("image: version label is the project version",
          labels.get("org.opencontainers.image.version") == os.environ.get("QUIVER_VERSION",
                                                                           "0.1.0"),
          labels.get("org.opencontainers.image.version"))
    size = int(info.get("Size", 0))
    print(f"  image size: {size / 1e6:.1f} MB", flush=True)
    return size


def exercise(base):
    rng = random.Random(7)
    dim, n = 8, 40
    vectors = {f"c{i:03d}": [rng.uniform(-1, 1) for _ in range(dim)] for i in range(n)}
    r = requests.post(base + "/v1/libraries", timeout=10, json={
        "id": "pkgtest", "name": "pkgtest", "dimension": dim, "metric": "l2"})
    check("API: create a library -> 201", r.status_code == 201, f"{r.status_code} {r.text[:300]}")
    r = requests.post(base + "/v1/libraries/pkgtest/documents", timeout=10,
                      json={"id": "doc1", "title": "packaging"})
    check("API: create a document -> 201", r.status_code == 201, f"{r.status_code} {r.text[:300]}")
    chunks = [{"id": cid, "text": f"chunk {cid}", "embedding": v} for cid, v in vectors.items()]
    r = requests.post(base + "/v1/libraries/pkgtest/documents/doc1/chunks", timeout=30,
                      json={"chunks": chunks})
    check("API: add 40 chunks -> 201", r.status_code == 201, f"{r.status_code} {r.text[:300]}")
    query = [rng.uniform(-1, 1) for _ in range(dim)]
    expected = sorted(vectors, key=lambda cid: (l2(vectors[cid], query), cid))[:5]
    return query, expected


def search_ids(base, query):
    r = requests.post(base + "/v1/libraries/pkgtest/search", timeout=10,
                      json={"vector": query, "k": 5, "params": {"exact": True}})
    if r.status_code != 200:
        return f"{r.status_code} {r.text[:300]}"
    return [x["chunk_id"] for x in r.json().get("results", [])]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    image = sys.argv[1]
    check_image_config(image)
    podman("volume", "create", VOLUME)
    try:
        port = free_port()
        base = start(image, port)
        if not check("run 1: quiverd becomes ready", wait_ready(base)):
            return 1
        uids = process_uids()
        check("run 1: tini and quiverd run as uid 10001, not root",
              uids.get("quiverd") == [10001, 10001] and uids.get("tini") == [10001, 10001],
              str(uids))
        r = requests.get(base + "/healthz", timeout=5)
        check("run 1: /healthz -> 200", r.status_code == 200, str(r.status_code))
        health = podman("healthcheck", "run", NAME, check_rc=False)
        check("run 1: the image HEALTHCHECK passes", health.returncode == 0,
              (health.stdout + health.stderr).strip())
        query, expected = exercise(base)
        got = search_ids(base, query)
        check("run 1: search returns the brute-force 5 nearest", got == expected,
              f"{got} != {expected}")
        code, logs = stop_with_sigterm()
        check("run 1: SIGTERM -> quiverd exits 0", code == 0, f"exit {code}\n{logs[-2000:]}")

        port = free_port()
        base = start(image, port)
        if not check("run 2: quiverd restarts on the same volume", wait_ready(base)):
            return 1
        r = requests.get(base + "/v1/libraries/pkgtest", timeout=10)
        stats = r.json().get("stats", {}) if r.status_code == 200 else {}
        check("run 2: the library and its 40 chunks survived the restart",
              r.status_code == 200 and stats.get("chunk_count") == 40,
              f"{r.status_code} {r.text[:300]}")
        got = search_ids(base, query)
        check("run 2: search still returns the brute-force 5 nearest", got == expected,
              f"{got} != {expected}")
        code, logs = stop_with_sigterm()
        check("run 2: SIGTERM -> quiverd exits 0", code == 0, f"exit {code}\n{logs[-2000:]}")
    finally:
        podman("rm", "-f", NAME, check_rc=False)
        podman("volume", "rm", "-f", VOLUME, check_rc=False)
    failed = results.count(False)
    print(f"test_image: {len(results) - failed} passed, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
