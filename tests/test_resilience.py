"""Crash-proof runs: retries by error class, resume after SIGKILL without paying twice,
partial success, exactly-once upload. Real Prefect, real clients, local provider servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect import flow, task

from tests.servers.stability import FakeStability
from tests.servers.youtube import FakeYouTube
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.context import Context
from ytmaker.media.probe import probe
from ytmaker.models import AssetStatus, AssetType, ProjectStatus
from ytmaker.pipeline.script import run as generate_script
from ytmaker.providers.stability import StabilityImages
from ytmaker.state import read_state
from ytmaker.summary import project_summary

ROOT = Path(__file__).resolve().parent.parent
IMAGES = "/v2beta/stable-image/generate"
SENTENCES = [
    "夜市的燈光亮起來了。",
    "攤販開始準備各種小吃。",
    "烤香腸的香味飄散在空氣中。",
    "孩子們在遊戲攤前排隊。",
    "珍珠奶茶是最受歡迎的飲料。",
    "逛完夜市大家都很滿足。",
]


def content(*marked: int) -> str:
    """Six short sentences (six segments); the `marked` ones carry a word Stability refuses."""
    return "夜市一晚\n" + "\n".join(
        s.replace("。", "禁區。") if i in marked else s for i, s in enumerate(SENTENCES, 1)
    )


@pytest.fixture
def stability(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStability]:
    with FakeStability() as server:
        server.moderated_words = {"禁區"}
        monkeypatch.setenv("STABILITY_API_KEY", server.api_key)
        monkeypatch.setenv("STABILITY_BASE_URL", server.url)
        monkeypatch.setenv("YTMAKER_RETRY_DELAYS", "0.3,0.6")
        monkeypatch.setenv("YTMAKER_RETRY_JITTER", "0")
        reload_settings()
        yield server


def prompts(server: FakeStability) -> Counter:
    return Counter(r.form.get("prompt") for r in server.requests_to(IMAGES, "POST"))


# --- retries by error class ------------------------------------------------------------------


@task
def fetch_image(base_url: str, key: str, out: str) -> str:
    return str(StabilityImages(key, base_url=base_url).make("夜市 night market", 7, Path(out)))


@flow
def fetch_one(base_url: str, key: str, out: str) -> dict:
    from tasks.policy import configured
    from ytmaker.config import get_settings

    state = configured(fetch_image, get_settings())(base_url, key, out, return_state=True)
    return {"type": state.type.value, "message": state.message or ""}


def _timed(server: FakeStability, tmp_path: Path, key: str | None = None) -> tuple[dict, float]:
    started = time.monotonic()
    state = fetch_one(server.url, key or server.api_key, str(tmp_path / "x.png"))
    return state, time.monotonic() - started


def test_503_twice_then_success_completes_after_three_attempts(
    stability: FakeStability, prefect_harness: None, tmp_path: Path
) -> None:
    stability.fail_next(503, times=2)
    state, elapsed = _timed(stability, tmp_path)
    assert state["type"] == "COMPLETED"
    assert len(stability.requests_to(IMAGES)) == 3
    assert elapsed >= 0.3 + 0.6  # the configured delays, in order


def test_401_fails_after_one_attempt(
    stability: FakeStability, prefect_harness: None, tmp_path: Path
) -> None:
    state, _ = _timed(stability, tmp_path, key="sk-wrong")
    assert state["type"] == "FAILED"
    assert len(stability.requests_to(IMAGES)) == 1
    assert "STABILITY_API_KEY" in state["message"]


def test_429_waits_at_least_retry_after(
    stability: FakeStability, prefect_harness: None, tmp_path: Path
) -> None:
    stability.fail_next(429, headers={"Retry-After": "2"})
    state, elapsed = _timed(stability, tmp_path)
    assert state["type"] == "COMPLETED" and len(stability.requests_to(IMAGES)) == 2
    assert elapsed >= 2.0


# --- partial success -------------------------------------------------------------------------


def _run(
    ctx: Context, text: str, messages: list[dict] | None = None
) -> tuple[int, Exception | None]:
    """Make a video; `messages` collects its progress messages."""
    from flows.video import generate_video

    project = ctx.repo.create_project(name="夜市", content=text, language="zh-TW")
    stop = threading.Event()
    listener = threading.Thread(
        target=lambda: (messages if messages is not None else []).extend(
            ctx.bus.subscribe(project.id, include_latest=False, stop=stop)
        ),
        daemon=True,
    )
    listener.start()
    time.sleep(0.3)
    try:
        generate_video(project.id)
    except Exception as exc:  # noqa: BLE001 - the test reads what the user would
        return project.id, exc
    finally:
        stop.set()
        listener.join(timeout=10)
    return project.id, None


def _channel_uploads(settings: Settings) -> list[Path]:
    return list(settings.channel_dir.glob("*/*.mp4")) if settings.channel_dir.exists() else []


@pytest.mark.slow
def test_one_refused_image_of_six_is_held_before_upload_then_published(
    stability: FakeStability, prefect_harness: None, settings: Settings
) -> None:
    from flows.video import generate_video
    from ytmaker import review

    ctx = bootstrap(reload_settings())
    messages: list[dict] = []
    project_id, error = _run(ctx, content(3), messages)
    assert error is None
    assert ctx.repo.get_project(project_id).status is ProjectStatus.AWAITING_REVIEW
    images = {a.segment_index: a for a in ctx.repo.assets(project_id) if a.type is AssetType.IMAGE}
    assert images[3].status is AssetStatus.FAILED
    assert images[3].error["code"] == "STABILITY_CONTENT_FILTERED"
    assert images[3].error["retryable"] is False
    assert Path(images[3].path).exists()  # a placeholder keeps the video whole
    assert all(images[i].status is AssetStatus.COMPLETED for i in (1, 2, 4, 5, 6))
    result = read_state(ctx.project_dir(project_id))["stages"]["assets"]["result"]
    assert result["status"] == "partial_success"
    assert [(e["asset_type"], e["segment_index"]) for e in result["errors"]] == [("IMAGE", 3)]
    summary = project_summary(ctx, project_id)
    assert summary["partial"] is True
    assert [(r["segment_index"], r["code"]) for r in summary["replaced"]] == [
        (3, "STABILITY_CONTENT_FILTERED")
    ]
    said = [m for m in messages if (m.get("data") or {}).get("partial")]
    assert said and said[0]["stage"] == "asset_generation"
    held = [m for m in messages if (m.get("data") or {}).get("status") == "AWAITING_REVIEW"]
    assert held and held[0]["data"]["reason"] == "partial"
    assert _channel_uploads(settings) == []  # nothing published while it waits

    review.approve(ctx, project_id)  # what `ytmaker publish ID` does before running again
    published = generate_video(project_id)
    assert published["status"] == "COMPLETED" and published["partial"] is True
    assert len(_channel_uploads(settings)) == 1
    assert len(prompts(stability)) == 6  # the five good images were not made again


@pytest.mark.slow
def test_on_partial_publish_uploads_and_says_partial(
    stability: FakeStability,
    prefect_harness: None,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YTMAKER_ON_PARTIAL", "publish")
    stability.moderated_words, stability.unavailable_words = set(), {"禁區"}  # 503s, no refusal
    ctx = bootstrap(reload_settings())
    project_id, error = _run(ctx, content(4))
    assert error is None
    summary = project_summary(ctx, project_id)
    assert summary["status"] == "COMPLETED" and summary["partial"] is True
    assert [(r["segment_index"], r["code"]) for r in summary["replaced"]] == [
        (4, "STABILITY_UNAVAILABLE")
    ]
    refused = [r for r in stability.requests_to(IMAGES) if "禁區" in r.form.get("prompt", "")]
    assert len(refused) == 4  # one try and YTMAKER_RETRIES (3) more
    assert len(_channel_uploads(settings)) == 1


@pytest.mark.slow
def test_two_refused_images_of_six_fail_the_stage(
    stability: FakeStability, prefect_harness: None, settings: Settings
) -> None:
    ctx = bootstrap(reload_settings())
    project_id, error = _run(ctx, content(2, 5))
    assert error is not None and "2 of 6 images failed" in str(error)
    project = ctx.repo.get_project(project_id)
    assert project.status is ProjectStatus.FAILED
    assert project.error_info["code"] == "IMAGES_FAILED" and project.error_info["stage"] == "assets"


# --- SIGKILL and resume ----------------------------------------------------------------------


def _child(project_id: int, log: Path) -> subprocess.Popen:
    """Run the flow in another process, against this test's Prefect API, as a worker would."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    code = "import sys; from flows.video import generate_video; generate_video(int(sys.argv[1]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, str(project_id)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], log: Path, timeout=180) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"child ended or stalled before the kill point:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    time.sleep(0.5)  # let the finished items persist their results
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_sigkill_during_images_then_resume_pays_for_each_image_once(
    stability: FakeStability, prefect_harness: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("YTMAKER_IMAGE_CONCURRENCY", "1")
    ctx = bootstrap(reload_settings())
    project = ctx.repo.create_project(name="夜市", content=content(), language="zh-TW")
    stability.slow(0.3, path_contains=IMAGES)
    stability.hold_after(3, path_contains=IMAGES)
    child = _child(project.id, tmp_path / "child.log")

    def three_made() -> bool:
        """Three images served and saved (the image slot is given back before the picture is
        saved, so a held fourth request alone does not mean the third is finished)."""
        done = [a for a in ctx.repo.assets(project.id) if a.type is AssetType.IMAGE]
        return stability.held >= 1 and sum(a.status is AssetStatus.COMPLETED for a in done) == 3

    _kill_when(child, three_made, tmp_path / "child.log")
    served = prompts(stability)
    assert len(served) == 3 and ctx.repo.get_project(project.id).status.value == "ASSETS_GENERATING"

    stability.release()
    stability.hold_after(100)
    from flows.video import generate_video  # same concurrency: the dead run's slot comes back

    result = generate_video(project.id)
    assert result["status"] == "COMPLETED"
    counts = prompts(stability)
    assert len(counts) == 6 and set(counts.values()) == {1}  # every image made once in all
    assert probe(result["video_path"]).video.codec == "h264"


@pytest.mark.slow
def test_sigkill_during_pexels_downloads_then_resume_downloads_each_saved_clip_once(
    settings: Settings, prefect_harness: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.servers.pexels import FakePexels
    from ytmaker.script import Script

    monkeypatch.setenv("YTMAKER_IMAGE_CONCURRENCY", "1")
    monkeypatch.setenv("YTMAKER_IMAGE_PROVIDER", "pexels")
    monkeypatch.setenv("PEXELS_API_KEY", "pexels-kill-key")
    (tmp_path / "served").mkdir()
    with FakePexels(tmp_path / "served", "pexels-kill-key") as pexels:
        monkeypatch.setenv("PEXELS_BASE_URL", pexels.url)
        ctx = bootstrap(reload_settings())
        project = ctx.repo.create_project(name="夜市", content=content(), language="zh-TW")
        generate_script(ctx, project.id)
        script = Script.model_validate(ctx.repo.get_project(project.id).script)
        clips = list(range(1, len(script.segments) + 1))
        for video_id in clips:
            pexels.add_video(video_id, f"Author {video_id}")
        for segment in script.segments:  # any term finds every clip; each is used once
            pexels.library[segment.search_terms[0].lower()] = clips
        pexels.slow(0.3, path_contains="/download/")
        pexels.hold_after(2, path_contains="/download/")
        cache = settings.data_dir / "cache" / "pexels"
        child = _child(project.id, tmp_path / "child.log")

        def saved() -> list[str]:
            return sorted(p.name for p in cache.glob("videos-*.mp4")) if cache.is_dir() else []

        _kill_when(child, lambda: pexels.held >= 1 and len(saved()) == 2, tmp_path / "child.log")
        before = saved()
        pexels.release()
        pexels.hold_after(100)
        from flows.video import generate_video

        result = generate_video(project.id)
    assert result["status"] == "COMPLETED", result
    fetched = Counter(r.path.rsplit("/", 1)[-1] for r in pexels.requests_to("/download/"))
    assert len(before) == 2 and all(fetched[f"video-{name[7:-4]}-hd.mp4"] == 1 for name in before)
    assert len(fetched) == len(script.segments) and set(fetched.values()) == {1}, fetched
    assert len(saved()) == len(script.segments)
    assert probe(result["video_path"]).video.codec == "h264"


@pytest.mark.slow
def test_sigkill_during_upload_then_resume_sends_the_rest_once(
    settings: Settings, prefect_harness: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with FakeYouTube() as youtube:
        token = tmp_path / "token.json"
        token.write_text(
            json.dumps(
                {
                    "token": youtube.access_token,
                    "refresh_token": "r",
                    "client_id": "c",
                    "client_secret": "s",
                    "expiry": (datetime.now(UTC) + timedelta(hours=1)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                }
            )
        )
        monkeypatch.setenv("YOUTUBE_TOKEN_FILE", str(token))
        monkeypatch.setenv("YOUTUBE_API_ENDPOINT", youtube.url)
        monkeypatch.setenv("YOUTUBE_UPLOAD_CHUNK_SIZE", str(256 * 1024))
        ctx = bootstrap(reload_settings())
        project = ctx.repo.create_project(name="夜市", content=content(), language="zh-TW")
        youtube.hold_after(3, path_contains="/upload/youtube/v3/videos")  # start + 2 chunks
        child = _child(project.id, tmp_path / "child.log")
        _kill_when(child, lambda: youtube.held >= 1, tmp_path / "child.log")
        assert ctx.repo.get_project(project.id).upload_session_uri

        youtube.release()
        youtube.hold_after(1000)
        from flows.video import generate_video

        result = generate_video(project.id)
        video = Path(result["video_path"]).read_bytes()
        assert result["status"] == "COMPLETED" and len(youtube.videos) == 1
        assert youtube.stored(result["video_id"]) == video
        assert len(youtube.requests_to("/upload/youtube/v3/videos", "POST")) == 1  # one session
        sent = sum(entry.received for entry in youtube.chunk_log)
        assert sent == len(video)  # no confirmed byte went twice
        assert youtube.status_queries >= 1  # it asked the server where to go on
