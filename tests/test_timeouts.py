"""Nothing waits for ever: a stage past its limit ends with a code naming the setting to raise,
its FFmpeg is killed, its image slots come back, and it is retried only where that can help."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.limits import IMAGES_IN_FLIGHT, slot_client
from tests.servers.gemini import FakeGemini, gemini_writes_the_script
from tests.servers.stability import FakeStability
from tests.test_resilience import content
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.context import Context
from ytmaker.models import ProjectStatus
from ytmaker.state import read_state

IMAGES = "/v2beta/stable-image/generate"


def _children(name: str) -> list[int]:
    """Processes called `name` whose parent is this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(os.getpid()) and name in fields.get("Name", ""):
            found.append(int(entry.name))
    return found


def _run_failing(ctx: Context) -> tuple[int, float]:
    from flows.video import generate_video

    project = ctx.repo.create_project(name="夜市", content=content(), language="zh-TW")
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - the test reads what the user would
        generate_video(project.id)
    return project.id, time.monotonic() - started


@pytest.mark.slow
def test_a_render_past_its_limit_is_killed_not_retried_and_names_the_setting(
    settings: Settings, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YTMAKER_TIMEOUT_RENDER", "1")
    ctx = bootstrap(reload_settings())
    project_id, _ = _run_failing(ctx)
    project = ctx.repo.get_project(project_id)
    assert project.status is ProjectStatus.FAILED
    info = project.error_info
    assert (info["code"], info["stage"], info["retryable"]) == ("RENDER_TIMEOUT", "render", False)
    assert "YTMAKER_TIMEOUT_RENDER" in info["message"]
    assert _children("ffmpeg") == []  # killed and reaped, none left behind
    assert "attempt" not in read_state(ctx.project_dir(project_id))["stages"]["render"]  # 1st


@pytest.fixture
def gemini(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    settings = {"YTMAKER_RETRY_DELAYS": "0.2", "YTMAKER_TIMEOUT_REQUEST": "1"}
    with gemini_writes_the_script(monkeypatch, **settings) as server:
        yield server


def test_a_service_that_never_answers_times_out_and_is_retried(
    gemini: FakeGemini, prefect_harness: None
) -> None:
    gemini.slow(5, path_contains=":generateContent")  # accepts, and answers far too late
    ctx = bootstrap(reload_settings())
    project_id, elapsed = _run_failing(ctx)
    info = ctx.repo.get_project(project_id).error_info
    assert info["code"] == "GEMINI_TIMEOUT" and "YTMAKER_TIMEOUT_REQUEST" in info["message"]
    assert ctx.repo.get_project(project_id).status is ProjectStatus.FAILED
    state = read_state(ctx.project_dir(project_id))["stages"]["script"]
    assert (state["status"], state["attempt"]) == ("failed", 4)  # a retry can help here
    assert elapsed < 4 * 1 + 3 * 0.2 + 20


@pytest.fixture
def stability(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStability]:
    with FakeStability() as server:
        monkeypatch.setenv("STABILITY_API_KEY", server.api_key)
        monkeypatch.setenv("STABILITY_BASE_URL", server.url)
        monkeypatch.setenv("YTMAKER_TIMEOUT_ASSETS", "4")
        reload_settings()
        yield server
        server.release()


@pytest.mark.slow
def test_images_that_hang_end_the_asset_stage_and_give_their_slots_back(
    stability: FakeStability, prefect_harness: None
) -> None:
    stability.hold_after(0, path_contains=IMAGES)  # every image request hangs
    ctx = bootstrap(reload_settings())
    project_id, elapsed = _run_failing(ctx)
    info = ctx.repo.get_project(project_id).error_info
    assert (info["code"], info["retryable"]) == ("ASSETS_TIMEOUT", False)
    assert "YTMAKER_TIMEOUT_ASSETS" in info["message"]
    assert elapsed < 30, f"the flow took {elapsed:.0f} s to give up"
    limit = slot_client().read_global_concurrency_limit_by_name(IMAGES_IN_FLIGHT)
    assert limit.active_slots == 0
