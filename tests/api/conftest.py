"""Fixtures for the black-box API suite: one real quiverd for the whole session."""
import os
import sys

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from quiver_testlib import QuiverServer, find_quiverd  # noqa: E402
from quiver_testlib.client import Client, uniq  # noqa: E402
from quiver_testlib.server import STARTED  # noqa: E402


def start_server(**kw):
    """Starts an extra server (tests that need their own flags); caller must stop()/cleanup().
    Registered so that its log is attached to any failing test's report."""
    binary = find_quiverd()
    if not binary:
        pytest.fail("QUIVERD is not set and no build/*/src/server/quiverd exists")
    srv = QuiverServer(binary=binary, **kw)
    srv.start()
    return srv


@pytest.fixture(scope="session")
def server():
    srv = start_server()
    yield srv
    rc = srv.stop()
    log = srv.all_logs()
    srv.cleanup()
    assert rc == 0, "quiverd did not shut down gracefully on SIGTERM (exit %r)\n%s" % (rc, log)


@pytest.fixture(scope="session")
def api(server):
    c = Client(server.base_url)
    yield c
    c.close()


@pytest.fixture
def server_factory():
    """Starts extra servers with their own flags; stops and removes them after the test."""
    started = []

    def make(**kw):
        srv = start_server(**kw)
        started.append(srv)
        return srv
    yield make
    for srv in started:
        srv.cleanup()


@pytest.fixture
def lib(api):
    """A fresh l2 library of dimension 4 (flat index, so results are exact)."""
    return api.create_library(name=uniq("lib"), dimension=4, metric="l2",
                              index={"type": "flat"})


@pytest.fixture
def doc(api, lib):
    return api.create_document(lib["id"], title="doc")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for srv in STARTED:
            if srv.log_path and srv.proc is not None:
                rep.sections.append(("quiverd log " + srv.workdir, srv.log_text()[-6000:]))


__all__ = ["start_server", "uniq"]
