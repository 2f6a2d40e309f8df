#!/usr/bin/python3
"""Checks apt_sources.py on made-up apt configurations: one-line .list entries with
options, deb822 .sources stanzas (disabled ones, other suites, deb-src), and the files it
must ignore. Prints PASS/FAIL lines; exits 1 on any failure."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
results = []


def check(name, ok, why=""):
    results.append(bool(ok))
    print(f"PASS {name}" if ok else f"FAIL {name}: {why}")


def run(root, *args):
    return subprocess.run([sys.executable, os.path.join(HERE, "apt_sources.py"), *args],
                          env={**os.environ, "APT_ROOT": root}, capture_output=True, text=True)


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


with tempfile.TemporaryDirectory() as root:
    write(root, "sources.list", "# deb http://old.example/debian bookworm main\n"
          "deb-src http://src.example/debian bookworm main\n"
          "deb [arch=amd64 signed-by=/k.gpg] http://mirror-a.example/debian bookworm main contrib\n")
    write(root, "sources.list.d/security.sources",
          "Types: deb\nURIs: http://mirror-a.example/debian-security\n"
          "Suites: bookworm-security\nComponents: main\n\n"
          "Types: deb\nURIs: http://disabled.example/debian\nSuites: bookworm-updates\n"
          "Components: main\nEnabled: no\n")
    write(root, "sources.list.d/node.sources",
          "Types: deb\nURIs: https://nodes.example/node\nSuites: nodistro\nComponents: main\n")
    write(root, "sources.list.d/x.list.disabled", "deb http://ignored.example/debian bookworm main\n")
    r = run(root, "mirror", "bookworm")
    check("apt_sources: mirror from a one-line entry with options",
          r.stdout.strip() == "http://mirror-a.example/debian", r.stdout + r.stderr)
    r = run(root, "sources-list", "bookworm")
    want = ["deb http://mirror-a.example/debian bookworm main",
            "deb http://mirror-a.example/debian-security bookworm-security main"]
    check("apt_sources: sources.list keeps bookworm + security, drops disabled/other suites",
          r.stdout.split("\n")[:-1] == want, repr(r.stdout))

with tempfile.TemporaryDirectory() as root:
    write(root, "sources.list.d/debian.sources",
          "Types: deb deb-src\nURIs: http://mirror-b.example/debian\n"
          "Suites: bookworm bookworm-updates\nComponents: main\n"
          "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    r = run(root, "mirror", "bookworm")
    check("apt_sources: mirror from a deb822 stanza",
          r.stdout.strip() == "http://mirror-b.example/debian", r.stdout + r.stderr)
    r = run(root, "mirror", "trixie")
    check("apt_sources: a suite no source serves is an error", r.returncode != 0, r.stdout)

sys.exit(1 if results.count(False) else 0)
