#!/usr/bin/python3
"""Reads the host's apt sources (one-line .list files and deb822 .sources files) and prints
what the Debian base images need: the mirror for debootstrap, or a sources.list for the
rootfs, so the image's apt reaches the same mirror as the host without a hard-coded host.

Usage: apt_sources.py mirror SUITE        -> the URI serving SUITE (e.g. bookworm)
       apt_sources.py sources-list SUITE  -> one-line entries for SUITE, -updates, -security
"""
import glob
import os
import sys

ROOT = os.environ.get("APT_ROOT", "/etc/apt")


def one_line_entries(path):
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line.startswith("deb "):
                continue
            words = line.split()[1:]
            if words and words[0].startswith("["):
                # Options such as [signed-by=...]; they may span several words.
                while words and not words[0].endswith("]"):
                    words.pop(0)
                words.pop(0)
            if len(words) >= 2:
                yield words[0], [words[1]], words[2:]


def deb822_entries(path):
    with open(path, encoding="utf-8") as f:
        stanzas = f.read().split("\n\n")
    for stanza in stanzas:
        fields = {}
        key = None
        for raw in stanza.splitlines():
            if raw.startswith("#") or not raw.strip():
                continue
            if raw[0].isspace() and key:
                fields[key] += " " + raw.strip()
                continue
            key, _, value = raw.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split(), fields.get("components", "").split()


def entries():
    paths = [os.path.join(ROOT, "sources.list")]
    paths += sorted(glob.glob(os.path.join(ROOT, "sources.list.d", "*.list")))
    deb822 = sorted(glob.glob(os.path.join(ROOT, "sources.list.d", "*.sources")))
    for path in paths:
        if os.path.isfile(path):
            yield from one_line_entries(path)
    for path in deb822:
        yield from deb822_entries(path)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("mirror", "sources-list"):
        sys.exit(__doc__)
    mode, suite = sys.argv[1], sys.argv[2]
    wanted = {suite: 0, suite + "-updates": 1, suite + "-security": 2}
    lines = []
    mirror = None
    for uri, suites, components in entries():
        for s in suites:
            if s not in wanted:
                continue
            if s == suite and mirror is None:
                mirror = uri
            comps = [c for c in components if c == "main"] or ["main"]
            lines.append((wanted[s], f"deb {uri} {s} {' '.join(comps)}"))
    if mode == "mirror":
        if mirror is None:
            sys.exit(f"apt_sources.py: no apt source on this host serves '{suite}'")
        print(mirror)
    else:
        if not lines:
            sys.exit(f"apt_sources.py: no apt source on this host serves '{suite}'")
        seen = set()
        for _, line in sorted(lines):
            if line not in seen:
                seen.add(line)
                print(line)


if __name__ == "__main__":
    main()
