"""Shared fixtures: a fresh data dir and settings per test, real Redis, SQLite and PostgreSQL."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="ytmaker-prefect-"))
atexit.register(shutil.rmtree, _PREFECT_HOME, True)  # one per test process: none left in /tmp
os.environ.update(
    {
        "PREFECT_HOME": str(_PREFECT_HOME),
        "PREFECT_LOCAL_STORAGE_PATH": str(_PREFECT_HOME / "results"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "240",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        # as the CLI runs Prefect (tasks/prefect_env.py): slot leases on disk
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": (
            "prefect.server.concurrency.lease_storage.filesystem"
        ),
    }
)
_OWN_REDIS = os.environ.get("YTMAKER_TEST_REDIS_URL")  # test runs side by side: one each
for _name in list(os.environ):  # a developer's .env or shell must not leak into tests
    if _name.startswith("YTMAKER_") or _name in ("DATABASE_URL", "REDIS_URL"):
        del os.environ[_name]
if _OWN_REDIS:
    os.environ["REDIS_URL"] = _OWN_REDIS

from tests.helpers import FAST_RULES, coverage_hook_off, postgres_url  # noqa: E402
from tests.stack import Server, running_server  # noqa: E402
from ytmaker import db, redis_conn  # noqa: E402
from ytmaker.config import Settings, reload_settings  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings pointing at a fresh data dir and SQLite file, with fast script rules."""
    monkeypatch.setenv("YTMAKER_DATA_DIR", str(data_dir))
    for name, value in FAST_RULES.items():
        monkeypatch.setenv(name, value)
    yield reload_settings()
    db.dispose_engines()
    reload_settings()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else postgres_url()
    yield url
    db.dispose_engines()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One ephemeral Prefect API for the whole session (its first start takes ~20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with contextlib.ExitStack() as stack:
        with coverage_hook_off():  # its API server runs none of our code: not traced
            stack.enter_context(prefect_test_harness(server_startup_timeout=240))
        yield


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`make up`'s server (pool and deployments included), one per test process, started when a
    stack test first asks for it; each stack test brings its own queue and worker to it."""
    with running_server(tmp_path_factory.mktemp("prefect-server")) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_redis_clients() -> Iterator[None]:
    yield
    redis_conn.reset()


# `make test` runs the tests on pytest-xdist workers (tests/conftest.py's scheduler below): a
# module with a module-scoped fixture (a Prefect stack, a batch run or a rendered project, built
# once) runs whole on one worker, in file order; every other test is a work unit of its own, so a
# module of several stack tests (each its own queue and worker on its process's shared server,
# tests/stack.py) spreads over the workers. So a test never
# relies on what another test did, and makes its own data dir (`settings`), database
# (`database_url`), free ports and, when it counts Redis subscribers, its own channel prefix
# (YTMAKER_PROGRESS_PREFIX). (`--dist loadgroup` would say this with marks, but pytest-xdist 3.8
# cannot set the group on pytest 9.2's node ids: it ran grouped tests anywhere.)


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules with the most slow (end-to-end) tests first, each kept in its order: xdist hands
    the work out in this order (`--no-loadscope-reorder`), so the long ones start at once and the
    short ones fill the workers' last minutes."""
    slow: dict[str, int] = {}
    for item in items:
        slow[_module(item)] = slow.get(_module(item), 0) + bool(item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[_module(item)])


_SHARED_FIXTURE = re.compile(r"""scope\s*=\s*["']module["']""")


@functools.cache
def _kept_whole(module: str) -> bool:
    """Whether a test module builds something once for all its tests (a module-scoped fixture)."""
    path = Path(__file__).resolve().parent.parent / module
    return path.suffix == ".py" and bool(_SHARED_FIXTURE.search(path.read_text(encoding="utf-8")))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class OneTestOrOneModule(LoadScopeScheduling):
        """`--dist loadscope` whose units are whole modules only where a module shares a
        fixture. A worker is given its next unit when it has one test left (it holds its last
        test until it knows the next): xdist's own rule (three left) let one worker queue three
        slow stack tests while the other ran out of work."""

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if _kept_whole(module) else nodeid

        def _reschedule(self, node: Any) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) <= 1:
                self._assign_work_unit(node)

    return OneTestOrOneModule(config, log)
