"""Shared fixtures: a fresh data dir and settings per test, real Redis, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="ytmaker-prefect-"))
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

from tests.helpers import FAST_RULES, postgres_url  # noqa: E402
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

    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture(autouse=True)
def _fresh_redis_clients() -> Iterator[None]:
    yield
    redis_conn.reset()
