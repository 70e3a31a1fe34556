"""Shared fixtures: a fresh data dir and settings per test, real Redis, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
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

from ytmaker import db, redis_conn  # noqa: E402
from ytmaker.config import Settings, reload_settings  # noqa: E402

PG_URL = os.environ.get("YTMAKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Rules small enough for fast end-to-end videos; the defaults are tested on their own.
FAST_RULES = {
    "YTMAKER_SEGMENT_MIN_SECONDS": "1",
    "YTMAKER_SEGMENT_MAX_SECONDS": "20",
    "YTMAKER_TOTAL_MIN_SECONDS": "5",
    "YTMAKER_TOTAL_MAX_SECONDS": "600",
    "YTMAKER_X264_PRESET": "ultrafast",
}


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a user running `ytmaker` on `data_dir`: fast rules, and Prefect's
    home, API and results left to the CLI (the data dir's own in-process API)."""
    env = {k: v for k, v in os.environ.items() if k not in _TEST_PREFECT}
    return {**env, **FAST_RULES, "YTMAKER_DATA_DIR": str(data_dir), **extra}


_TEST_PREFECT = ("PREFECT_HOME", "PREFECT_LOCAL_STORAGE_PATH", "PREFECT_API_URL")


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


def _postgres_url() -> str:
    """A throwaway schema in the test database, so runs never see each other's rows."""
    import sqlalchemy

    schema = f"ytm_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    except sqlalchemy.exc.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.orig}")
    finally:
        engine.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else _postgres_url()
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
