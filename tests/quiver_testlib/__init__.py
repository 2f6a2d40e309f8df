"""Shared helpers for Quiver's black-box suites (tests/api, tests/crash) and bench/http_bench.py.

Everything here talks to a real `quiverd` process over HTTP; nothing imports server code.
"""
from .server import QuiverServer, find_quiverd, sanitizer_build, timeout_scale  # noqa: F401
from .problem import assert_problem  # noqa: F401
