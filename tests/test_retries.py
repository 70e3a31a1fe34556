"""A retry is not a failure: while Prefect will try a stage again, the project keeps its running
status, progress does not drop, and `ytmaker watch` never says FAILED."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.helpers import cli_env
from tests.servers.gemini import FakeGemini, gemini_writes_the_script
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.context import Context
from ytmaker.models import Project, ProjectStatus
from ytmaker.summary import project_summary

ROOT = Path(__file__).resolve().parent.parent
GENERATE = ":generateContent"


@pytest.fixture
def gemini(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    # Channels of their own: every test's first project is `progress:1`, so another test's
    # listener (or a leftover one) would count as the `watch` this test waits for.
    monkeypatch.setenv("YTMAKER_PROGRESS_PREFIX", f"t{uuid.uuid4().hex[:8]}:")
    with gemini_writes_the_script(monkeypatch, YTMAKER_RETRY_DELAYS="2") as server:
        yield server


class Recorder(threading.Thread):
    """Every progress message of a project, with the project's status and summary at each
    retry message (read the moment it arrives, while the retry is pending)."""

    def __init__(self, ctx: Context, project_id: int) -> None:
        super().__init__(daemon=True)
        self.ctx, self.project_id, self.stop = ctx, project_id, threading.Event()
        self.messages: list[dict[str, Any]] = []
        self.at_retry: list[tuple[ProjectStatus, dict[str, Any]]] = []

    def run(self) -> None:
        for message in self.ctx.bus.subscribe(
            self.project_id, include_latest=False, stop=self.stop
        ):
            self.messages.append(message)
            if (message.get("data") or {}).get("retry_in") is not None:
                project = self.ctx.repo.get_project(self.project_id)
                self.at_retry.append((project.status, project_summary(self.ctx, self.project_id)))


def _started(gemini: FakeGemini, failures: int) -> tuple[Context, Project, Recorder]:
    """A project whose script request fails `failures` times with 503, and its recorder."""
    ctx = bootstrap(reload_settings())
    project = ctx.repo.create_project(name="早餐", content="台灣的早餐店很熱鬧。", language="zh-TW")
    gemini.fail_next(503, times=failures, path_contains=GENERATE)
    recorder = Recorder(ctx, project.id)
    recorder.start()
    return ctx, project, recorder


def _subscribers(ctx: Context, project_id: int) -> int:
    client: redis.Redis = ctx.bus.client
    name = ctx.bus.channel(project_id)
    return dict(client.pubsub_numsub(name))[name.encode()]


def _until(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_two_503s_then_success_are_retries_not_a_failure(
    gemini: FakeGemini, prefect_harness: None, settings: Settings, tmp_path: Path
) -> None:
    from flows.video import generate_video

    ctx, project, recorder = _started(gemini, failures=2)
    env = cli_env(settings.data_dir)
    watch = subprocess.Popen(
        [sys.executable, "-m", "ytmaker_cli", "watch", str(project.id), "--timeout", "120"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _until("watch and the recorder listening", lambda: _subscribers(ctx, project.id) == 2)

    result = generate_video(project.id)
    printed, _ = watch.communicate(timeout=120)
    recorder.stop.set()
    recorder.join(timeout=10)

    assert result["status"] == "COMPLETED"
    assert len(gemini.requests_to(GENERATE)) == 3
    assert watch.returncode == 0, printed
    assert "FAILED" not in printed and "失敗" not in printed.replace("嘗試失敗", "")
    assert "retrying (attempt 2 of 4) in 2 s" in printed
    assert "retrying (attempt 3 of 4) in 2 s" in printed

    retries = [m for m in recorder.messages if (m.get("data") or {}).get("retry_in") is not None]
    assert [m["data"]["attempt"] for m in retries] == [1, 2]
    for message in retries:
        assert message["stage"] == "script_generation"
        assert message["data"]["max_attempts"] == 4 and message["data"]["retry_in"] == 2.0
        assert message["data"]["error"]["code"] == "GEMINI_UNAVAILABLE"
        assert "retried" not in message["data"]["error"]["message"]
    assert not [m for m in recorder.messages if m["stage"] == "error"]
    script = [m["progress"] for m in recorder.messages if m["stage"] == "script_generation"]
    assert script == sorted(script)  # never lower on a retry

    assert [status for status, _ in recorder.at_retry] == [ProjectStatus.SCRIPT_GENERATING] * 2
    pending = [summary["retrying"] for _, summary in recorder.at_retry]
    assert [(r["stage"], r["attempt"], r["max_attempts"]) for r in pending] == [
        ("script", 1, 4),
        ("script", 2, 4),
    ]
    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.COMPLETED and stored.error_info is None


@pytest.mark.slow
def test_the_last_attempt_fails_the_project_without_promising_a_retry(
    gemini: FakeGemini, prefect_harness: None, settings: Settings
) -> None:
    from flows.video import generate_video

    ctx, project, recorder = _started(gemini, failures=4)
    _until("the recorder listening", lambda: _subscribers(ctx, project.id) == 1)
    with pytest.raises(Exception, match="Gemini"):
        generate_video(project.id)
    _until("the error message", lambda: any(m["stage"] == "error" for m in recorder.messages))
    recorder.stop.set()
    recorder.join(timeout=10)

    assert len(gemini.requests_to(GENERATE)) == 4
    retries = [m for m in recorder.messages if (m.get("data") or {}).get("retry_in") is not None]
    assert [m["data"]["attempt"] for m in retries] == [1, 2, 3]
    errors = [m for m in recorder.messages if m["stage"] == "error"]
    assert len(errors) == 1 and "retr" not in errors[0]["message"]
    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.FAILED
    assert (
        stored.error_info["code"] == "GEMINI_UNAVAILABLE" and stored.error_info["stage"] == "script"
    )


def test_watch_ignores_an_earlier_runs_last_message(settings: Settings) -> None:
    """A database that was reset gives ids out again; Redis still holds the old run's end."""
    from ytmaker_cli.watching import follow

    ctx = bootstrap(reload_settings())
    project = ctx.repo.create_project(name="早餐", content="台灣的早餐店很熱鬧。", language="zh-TW")
    ctx.bus.publish(project.id, "youtube_upload", 100, "影片上傳完成")  # an earlier run's
    assert follow(ctx, project.id, timeout=1.0) is None  # not COMPLETED: nothing ran yet
    ctx.repo.update_project(project.id, status=ProjectStatus.COMPLETED)
    assert follow(ctx, project.id, timeout=1.0) == "COMPLETED"


def test_watch_into_a_file_prints_every_retry_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Output that is not a terminal (a log read later) gets each retry on a line of its own,
    however close together they come."""
    import io

    from rich.console import Console

    from ytmaker_cli.watching import follow

    monkeypatch.setenv("YTMAKER_PROGRESS_PREFIX", f"t{uuid.uuid4().hex[:8]}:")
    ctx = bootstrap(reload_settings())
    project = ctx.repo.create_project(name="早餐", content="台灣的早餐店很熱鬧。", language="zh-TW")
    out = io.StringIO()
    console = Console(file=out, width=200)
    assert not console.is_terminal
    error = {"code": "GEMINI_UNAVAILABLE", "message": "Gemini is unavailable (503)"}

    def publish() -> None:
        _until("watch listening", lambda: _subscribers(ctx, project.id) == 1)
        for attempt in (1, 2, 3):
            data = {"retry_in": 2.0, "attempt": attempt, "max_attempts": 4, "error": error}
            ctx.bus.publish(project.id, "script_generation", 10, "retry", data=data)
        ctx.repo.update_project(project.id, status=ProjectStatus.FAILED)
        ctx.bus.publish(project.id, "error", 0, "Gemini is unavailable (503)")

    sender = threading.Thread(target=publish)
    sender.start()
    assert follow(ctx, project.id, timeout=60, console=console) == "FAILED"
    sender.join()
    printed = out.getvalue()
    for attempt in (2, 3, 4):
        assert printed.count(f"script: retrying (attempt {attempt} of 4) in 2 s") == 1, printed
