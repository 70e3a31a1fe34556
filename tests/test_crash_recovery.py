"""A hard kill never blocks the next video: image slots of a dead run come back, on the
embedded default (the CLI's in-process API) and on `make up`'s server after a restart.

The kills are whole process groups (a power cut: the in-process API dies too), while images are
being made at the local Stability server; the concurrency is the same before and after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tasks.limits import IMAGES_IN_FLIGHT, MAX_POLL_SECONDS, WAIT_NOTICE_SECONDS
from tests.helpers import cli_env, unmeasured
from tests.servers.stability import FakeStability
from tests.stack import free_port, healthy
from tests.test_resilience import content
from ytmaker.bootstrap import bootstrap

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
ROOT = Path(__file__).resolve().parent.parent
IMAGES = "/v2beta/stable-image/generate"
CONCURRENCY = "2"


@pytest.fixture
def stability() -> Iterator[FakeStability]:
    with FakeStability() as server:
        server.slow(0.3, path_contains=IMAGES)
        yield server


def _env(data_dir: Path, server: FakeStability, **extra: str) -> dict[str, str]:
    return cli_env(
        data_dir,
        STABILITY_API_KEY=server.api_key,
        STABILITY_BASE_URL=server.url,
        YTMAKER_IMAGE_CONCURRENCY=CONCURRENCY,
        **extra,
    )


def _ytmaker(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ytmaker_cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"ytmaker {' '.join(args)}:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


def _create(env: dict[str, str], tmp_path: Path, name: str) -> int:
    article = tmp_path / f"{name}.md"
    article.write_text(content(), encoding="utf-8")
    out = _ytmaker(env, "project", "create", "--name", name, "--content-file", str(article))
    return int(out.strip().splitlines()[-1])


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed as a whole
    )


def _kill_group_when(proc: subprocess.Popen, ready: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + 240
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            _killpg(proc)
            pytest.fail(f"ended or stalled before the kill:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    time.sleep(1.0)  # the saved images' task results are written just after
    _killpg(proc)


def _killpg(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _active_slots(prefect_db: Path) -> int:
    with contextlib.closing(sqlite3.connect(prefect_db)) as db:
        row = db.execute(
            "SELECT active_slots FROM concurrency_limit_v2 WHERE name = ?", (IMAGES_IN_FLIGHT,)
        ).fetchone()
    return row[0]


def _longest_wait(data: Path) -> float:
    """About the longest an image waited for a slot: its timings row (which counts the wait)
    less the quickest image's, which did not wait."""
    with contextlib.closing(sqlite3.connect(data / "ytmaker.db")) as db:
        row = db.execute(
            "SELECT MAX(seconds) - MIN(seconds) FROM timings"
            " WHERE asset LIKE 'image:%' AND outcome = 'ok'"
        ).fetchone()
    return row[0] or 0.0


def _prompts(server: FakeStability) -> Counter:
    return Counter(r.form.get("prompt") for r in server.requests_to(IMAGES, "POST"))


def _kill_during_images(
    stability: FakeStability, env: dict[str, str], project_id: int, log: Path
) -> None:
    """`ytmaker generate` killed whole while two images are at the provider, once the two
    made before them are saved (an image made but not yet saved would be paid again)."""
    stability.hold_after(2, path_contains=IMAGES)
    images = Path(env["YTMAKER_DATA_DIR"]) / "projects" / str(project_id) / "images"

    def ready() -> bool:
        return stability.held >= 2 and len(list(images.glob("*.png"))) >= 2

    child = _spawn([sys.executable, "-m", "ytmaker_cli", "generate", str(project_id)], env, log)
    _kill_group_when(child, ready, log)
    stability.release()
    stability.hold_after(10_000)


def test_embedded_default_recovers_after_a_hard_kill_at_the_same_concurrency(
    stability: FakeStability, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = _env(data, stability)
    project_id = _create(env, tmp_path, "夜市")
    _kill_during_images(stability, env, project_id, tmp_path / "killed.log")
    assert _active_slots(data / "prefect" / "prefect.db") == 2  # what blocked every later run

    messages = _listen(env, project_id)
    started = time.monotonic()
    _ytmaker(env, "recover", timeout=400)
    waited = time.monotonic() - started
    time.sleep(0.5)
    said = [m for m in messages if (m.get("data") or {}).get("waiting_for") == "image slot"]
    # Said when the recovering run waits past the notice (plus a poll and a call of the slot
    # API); a run that starts after the dead run's leases ended does not wait at all.
    if _longest_wait(data) >= WAIT_NOTICE_SECONDS + 2 * MAX_POLL_SECONDS:
        assert said, "the wait for the dead run's slots was not shown"
    status = _ytmaker(env, "status", str(project_id))
    assert "COMPLETED" in status
    counts = _prompts(stability)
    assert len(counts) == 6 and set(counts.values()) == {1}  # no image paid twice
    assert _active_slots(data / "prefect" / "prefect.db") == 0
    assert waited < 240, f"recover took {waited:.0f} s"


def _listen(env: dict[str, str], project_id: int) -> list[dict]:
    """Progress messages of a project from now on, as `ytmaker watch` would get them."""
    from ytmaker.config import Settings

    ctx = bootstrap(Settings(_env_file=None, YTMAKER_DATA_DIR=env["YTMAKER_DATA_DIR"]))
    messages: list[dict] = []
    subscription = ctx.bus.subscribe(project_id, include_latest=False)
    threading.Thread(target=lambda: messages.extend(subscription), daemon=True).start()
    time.sleep(0.5)
    return messages


def _start_server(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`make up`'s server, with the settings deployments/common.sh gives it."""
    script = (
        'source deployments/common.sh && mkdir -p "$PREFECT_HOME" && '
        'exec "$PREFECT" server start --host "$HOST" --port "$PORT"'
    )
    server = _spawn(["bash", "-c", script], unmeasured(env), log)
    try:
        healthy(server, f"http://127.0.0.1:{env['PREFECT_SERVER_PORT']}/api", log, timeout=180)
    except AssertionError:
        _stop(server)
        raise
    return server


def _stop(server: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        _killpg(server)


def test_make_up_server_restarted_after_a_kill_gives_the_slots_back(
    stability: FakeStability, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    port = str(free_port())
    api = f"http://127.0.0.1:{port}/api"
    env = _env(data, stability, PREFECT_API_URL=api, PREFECT_SERVER_PORT=port)
    server_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    server = _start_server(server_env, tmp_path / "server.log")
    try:
        first = _create(env, tmp_path, "夜市")
        _kill_during_images(stability, env, first, tmp_path / "killed.log")
        _stop(server)
        server = _start_server(server_env, tmp_path / "server.log")
        limit = httpx.get(f"{api}/v2/concurrency_limits/{IMAGES_IN_FLIGHT}").json()
        assert limit["active_slots"] == 2  # still counted after the restart: leases kept

        second = _create(env, tmp_path, "早餐")
        _ytmaker(env, "generate", str(second), timeout=400)
        _ytmaker(env, "generate", str(first), timeout=400)
        counts = _prompts(stability)
        # each project's six pictures (their descriptions name the project), none paid twice
        assert len(counts) == 12 and set(counts.values()) == {1}, counts
        limit = httpx.get(f"{api}/v2/concurrency_limits/{IMAGES_IN_FLIGHT}").json()
        assert limit["active_slots"] == 0
    finally:
        _stop(server)
