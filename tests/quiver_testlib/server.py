"""Start, stop and kill a real quiverd process for black-box tests.

The binary comes from $QUIVERD (the Makefile sets it). The server is started on an ephemeral
port (`--port 0`) and the real port is read from its `listening on <addr>:<port>` log line, so
parallel suites never collide on ports.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

# Every server started in this process, so that test hooks can attach their logs to failures.
STARTED = []

_LISTEN_RE = re.compile(r"listening on \[?([0-9A-Za-z.:]*?)\]?:(\d+)")


def sanitizer_build():
    return os.environ.get("QUIVER_TEST_SANITIZER") == "1"


def timeout_scale():
    """Instrumented builds (ASan) are several times slower; every timeout is multiplied by this."""
    return 5.0 if sanitizer_build() else 1.0


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_quiverd():
    path = os.environ.get("QUIVERD")
    if path:
        return path
    # Convenience for running pytest by hand: the newest quiverd under build/.
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    candidates = []
    build = os.path.join(root, "build")
    if os.path.isdir(build):
        for d in os.listdir(build):
            p = os.path.join(build, d, "src", "server", "quiverd")
            if os.path.isfile(p) and os.access(p, os.X_OK):
                candidates.append(p)
    if not candidates:
        return None
    return max(candidates, key=os.path.getmtime)


class QuiverServer:
    """One quiverd process on its own data dir (created here unless given).

    start() may be called again after stop()/kill() to restart on the same data dir.
    Not thread-safe: one owner drives the lifecycle; other threads only send requests.
    """

    def __init__(self, binary=None, data_dir=None, extra_args=None, log_level="info",
                 durability=None, threads=None):
        self.binary = binary or find_quiverd()
        if not self.binary:
            raise RuntimeError("QUIVERD is not set and no build/*/src/server/quiverd exists")
        self._own_dir = data_dir is None
        self.workdir = tempfile.mkdtemp(prefix="quiver-test-")
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        self.extra_args = list(extra_args or [])
        self.log_level = log_level
        self.durability = durability
        self.threads = threads
        self.proc = None
        self.port = None
        self.base_url = None
        self.log_path = None
        self._log_file = None
        self._starts = 0

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self, ready_timeout=30.0):
        assert self.proc is None, "server already running"
        self._starts += 1
        self.log_path = os.path.join(self.workdir, "quiverd.%d.log" % self._starts)
        self._log_file = open(self.log_path, "wb")
        # The 'listening on' line is an info-level log; below that level we pick the port
        # ourselves (a small race with other processes, acceptable for tests/benchmarks).
        quiet = self.log_level in ("warn", "error", "critical", "off")
        fixed_port = _free_port() if quiet else 0
        args = [self.binary, "--address", "127.0.0.1", "--port", str(fixed_port),
                "--data-dir", self.data_dir, "--log-level", self.log_level]
        if self.durability:
            args += ["--durability=" + self.durability]
        if self.threads:
            args += ["--threads", str(self.threads)]
        args += self.extra_args
        env = dict(os.environ)
        # The server must not pick up a developer's QUIVER_* settings from the shell.
        for k in list(env):
            if k.startswith("QUIVER_") and k not in ("QUIVER_TEST_SANITIZER",):
                del env[k]
        if self not in STARTED:
            STARTED.append(self)
        self.proc = subprocess.Popen(args, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        self.port = fixed_port or self._wait_for_port(ready_timeout * timeout_scale())
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.wait_ready(ready_timeout * timeout_scale())
        return self

    def _wait_for_port(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_text()
            m = _LISTEN_RE.search(text)
            if m and int(m.group(2)) != 0:
                return int(m.group(2))
            if self.proc.poll() is not None:
                raise RuntimeError("quiverd exited with %s before listening:\n%s"
                                   % (self.proc.returncode, text))
            time.sleep(0.02)
        raise RuntimeError("quiverd printed no 'listening on' line within %.0fs:\n%s"
                           % (timeout, self.log_text()))

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("quiverd exited with %s while starting:\n%s"
                                   % (self.proc.returncode, self.log_text()))
            try:
                r = requests.get(self.base_url + "/readyz", timeout=2 * timeout_scale())
                last = r.status_code
                if r.status_code == 200:
                    return
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.02)
        raise RuntimeError("quiverd not ready within %.0fs (last: %s):\n%s"
                           % (timeout, last, self.log_text()))

    def stop(self, timeout=30.0):
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout * timeout_scale())
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self._close()
        return rc

    def kill(self):
        """SIGKILL: no chance to flush anything."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._close()

    def _close(self):
        self.proc = None
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def cleanup(self):
        if self.proc is not None:
            self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- diagnostics -----------------------------------------------------------------------
    def log_text(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def all_logs(self, tail_chars=20000):
        out = []
        for i in range(1, self._starts + 1):
            p = os.path.join(self.workdir, "quiverd.%d.log" % i)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                out.append("---- quiverd log (start %d) ----\n%s" % (i, text[-tail_chars:]))
        return "\n".join(out)

    def url(self, path):
        return self.base_url + path
