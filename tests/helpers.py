"""What many tests share: fast script rules, the PostgreSQL address, a user's environment, and
the command line — in-process through Click's test runner, or as a real process for the smoke
test and the checks that a command gives up instead of hanging."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("YTMAKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Rules small enough for fast end-to-end videos; the defaults are tested on their own.
FAST_RULES = {
    "YTMAKER_SEGMENT_MIN_SECONDS": "1",
    "YTMAKER_SEGMENT_MAX_SECONDS": "20",
    "YTMAKER_TOTAL_MIN_SECONDS": "5",
    "YTMAKER_TOTAL_MAX_SECONDS": "600",
    "YTMAKER_X264_PRESET": "ultrafast",
}
TEST_PREFECT = ("PREFECT_HOME", "PREFECT_LOCAL_STORAGE_PATH", "PREFECT_API_URL")


def outside_env() -> dict[str, str]:
    """This process's environment without Prefect, YTMaker, database or Redis settings: the
    start of a stack's own environment (a server and workers set every one of them)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "YTMAKER_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }


def unmeasured(env: dict[str, str]) -> dict[str, str]:
    """`env` without coverage's start-up hook, for a Prefect server: it runs none of our code,
    and tracing it cost the suite about a fifth of the servers' CPU time."""
    return {k: v for k, v in env.items() if not k.startswith("COVERAGE_")}


@contextlib.contextmanager
def coverage_hook_off() -> Iterator[None]:
    """Processes started inside run unmeasured (as with `unmeasured(env)`): for a Prefect server
    started by a library, which takes this process's environment."""
    hook = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("COVERAGE_")}
    try:
        yield
    finally:
        os.environ.update(hook)


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a user running `ytmaker` on `data_dir`: fast rules, and Prefect's
    home, API and results left to the CLI (the data dir's own in-process API)."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_PREFECT}
    return {**env, **FAST_RULES, "YTMAKER_DATA_DIR": str(data_dir), **extra}


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_cli(data_dir: Path, *args: str, **env: str) -> Ran:
    """`ytmaker ARGS` in this process, through the same `main` as the installed command (typed
    errors as one line). For commands that start no flow: a flow would need the CLI's own
    Prefect home, which this process (with its test harness) cannot switch to."""
    from ytmaker.config import get_settings
    from ytmaker_cli import main

    overrides = {**FAST_RULES, "YTMAKER_DATA_DIR": str(data_dir), **env}
    get_settings.cache_clear()
    code = 0
    try:
        with CliRunner().isolation(env=overrides) as (out, err, _):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    finally:
        get_settings.cache_clear()
    return Ran(code, stdout, stderr)


# Commands that start the data dir's in-process Prefect API (its home: data_dir/prefect).
STARTS_PREFECT = {"generate", "recover", "demo", "batch", "review"}
_template: list[Path] = []
_template_lock = threading.Lock()


def migrated_prefect_db() -> Path:
    """A Prefect SQLite database with every migration applied, made once per test process: a
    server on an empty home spent about 8 s migrating before it answered (18 s to a failed
    `generate` instead of 11 s), in every CLI test and stack. Copies of it start new homes;
    a first start on an empty home stays tested where a test does not seed one."""
    with _template_lock:
        if not _template:
            home = Path(tempfile.mkdtemp(prefix="ytmaker-prefect-template-"))
            atexit.register(shutil.rmtree, home, True)
            env = {**outside_env(), "PREFECT_HOME": str(home)}
            env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
            prefect = Path(sys.executable).with_name("prefect")
            done = subprocess.run(
                [str(prefect), "server", "database", "upgrade", "-y"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            _template.append(home / "prefect.db")
        return _template[0]


def seed_prefect_home(home: Path) -> Path:
    """`home` with a migrated Prefect database, unless it has one already."""
    database = home / "prefect.db"
    if not database.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_prefect_db(), database)
    return home


def real_cli(data_dir: Path, *args: str, timeout: float = 600, **env: str) -> Ran:
    """`python -m ytmaker_cli ARGS` as a user runs it, in its own process (a command that
    starts Prefect in an existing data dir finds its database migrated)."""
    if args and args[0] in STARTS_PREFECT and data_dir.is_dir() and "PREFECT_HOME" not in env:
        seed_prefect_home(data_dir / "prefect")
    result = subprocess.run(
        [sys.executable, "-m", "ytmaker_cli", *args],
        cwd=ROOT,
        env=cli_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Ran(result.returncode, result.stdout, result.stderr)


def timed_real_cli(data_dir: Path, *args: str, **env: str) -> tuple[int, str, float]:
    """Exit code, stderr + stdout, and seconds: for commands that must give up, not hang."""
    started = time.monotonic()
    ran = real_cli(data_dir, *args, timeout=120, **env)
    return ran.returncode, ran.stderr + ran.stdout, time.monotonic() - started


def postgres_url() -> str:
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


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width`x`height` (a decompression bomb's header) with one tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))  # fmt: skip
