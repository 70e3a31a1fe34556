"""The whole flow on the real clients, pointed at local servers that speak each API's protocol."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.servers.did import FakeDID
from tests.servers.gemini import FakeGemini, valid_script
from tests.servers.stability import FakeStability
from tests.servers.youtube import FakeYouTube
from ytmaker import quota
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.context import Context
from ytmaker.media.probe import probe
from ytmaker.models import ProjectStatus
from ytmaker.pipeline import upload
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.local.script_writer import LocalScriptWriter
from ytmaker.script import Script

pytestmark = pytest.mark.slow
SPENT = ("youtube", "stability", "gemini")


class Services:
    def __init__(self) -> None:
        self.gemini, self.stability = FakeGemini(), FakeStability()
        self.did, self.youtube = FakeDID(), FakeYouTube()

    @property
    def secrets(self) -> list[str]:
        return [
            self.gemini.api_key,
            self.stability.api_key,
            self.did.api_key,
            self.did.api_key.split(":")[-1],
            self.youtube.access_token,
            "refresh-secret-1",
        ]


def _talking_head(path: Path) -> bytes:
    """A real small MP4 for the D-ID stand-in to hand back."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path.read_bytes()


@pytest.fixture
def services(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Services, Settings]]:
    svc = Services()
    with ExitStack() as stack:
        for server in (svc.gemini, svc.stability, svc.did, svc.youtube):
            stack.enter_context(server)
        svc.gemini.script_text = valid_script(segments=3, seconds=6)
        svc.did.result_video = _talking_head(tmp_path / "head.mp4")
        token = tmp_path / "youtube-token.json"
        token.write_text(
            json.dumps(
                {
                    "token": svc.youtube.access_token,
                    "refresh_token": "refresh-secret-1",
                    "client_id": "cid.apps.googleusercontent.com",
                    "client_secret": "shh",
                    "expiry": (datetime.now(UTC) + timedelta(hours=1)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                }
            )
        )
        for name, value in {
            "GEMINI_API_KEY": svc.gemini.api_key,
            "GEMINI_BASE_URL": svc.gemini.url,
            "STABILITY_API_KEY": svc.stability.api_key,
            "STABILITY_BASE_URL": svc.stability.url,
            "DID_API_KEY": svc.did.api_key,
            "DID_BASE_URL": svc.did.url,
            "DID_PRESENTER_IMAGE_URL": f"{svc.did.url}/presenter.jpg",
            "YOUTUBE_TOKEN_FILE": str(token),
            "YOUTUBE_API_ENDPOINT": svc.youtube.url,
            "YTMAKER_RETRY_DELAYS": "0.1,0.1,0.1",
            "YTMAKER_RETRY_JITTER": "0",
        }.items():
            monkeypatch.setenv(name, value)
        yield svc, reload_settings()


def _everything_written(ctx: Context, project_id: int, messages: list[dict]) -> str:
    """All text a user or operator can read after a run: rows, state file, progress."""
    project = ctx.repo.get_project(project_id)
    rows = [
        project.__dict__.get(c)
        for c in (
            "script",
            "error_info",
            "youtube_settings",
            "video_url",
            "upload_session_uri",
            "name",
        )
    ]
    rows += [(a.path, a.error) for a in ctx.repo.assets(project_id)]
    state = (ctx.project_dir(project_id) / "project_state.json").read_text("utf-8")
    return json.dumps([rows, messages], ensure_ascii=False, default=str) + state


def _listen(ctx: Context, project_id: int) -> tuple[list[dict], threading.Event, threading.Thread]:
    messages: list[dict] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=lambda: messages.extend(
            ctx.bus.subscribe(project_id, include_latest=False, stop=stop)
        ),
        daemon=True,
    )
    thread.start()
    return messages, stop, thread


def test_flow_completes_on_real_clients_and_leaks_no_key(
    services: tuple[Services, Settings], prefect_harness: None, caplog: pytest.LogCaptureFixture
) -> None:
    from flows.video import generate_video

    svc, settings = services
    caplog.set_level(logging.DEBUG)
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="夜市", content="台灣夜市的小吃很多。", language="zh-TW")
    messages, stop, thread = _listen(ctx, project.id)
    result = generate_video(project.id)
    stop.set()
    thread.join(5)

    stored = ctx.repo.get_project(project.id)
    assert result["status"] == "COMPLETED" and stored.status is ProjectStatus.COMPLETED
    assert result["video_url"].endswith(stored.youtube_video_id)
    uploaded = svc.youtube.stored(stored.youtube_video_id)
    assert uploaded == Path(result["video_path"]).read_bytes()
    script = Script.model_validate(stored.script)
    assert len(script.segments) == 3 and script.metadata.title == "台灣夜市小吃"
    assert len(svc.stability.requests_to("/v2beta/stable-image/generate", "POST")) == 3
    assert len(svc.did.requests_to("/talks", "POST")) == 2
    info = probe(result["video_path"])
    assert info.duration == pytest.approx(script.realised_duration(), rel=0.02)
    used = {s: quota.counted(ctx.repo, s, datetime.now(UTC) - timedelta(hours=1)) for s in SPENT}
    assert used["youtube"] == {"videos.insert": 1.0, "thumbnails.set": 50.0}
    assert used["stability"] == {"image": 3.0}
    assert used["gemini"]["generateContent"] == 1.0

    written = _everything_written(ctx, project.id, messages) + caplog.text
    for secret in svc.secrets:
        assert secret not in written


def test_an_upload_the_daily_quota_cannot_fit_is_refused_before_any_byte(
    services: tuple[Services, Settings],
) -> None:
    svc, settings = services
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="滿", content="台灣夜市的小吃很多。", language="zh-TW")
    script = LocalScriptWriter().write(project.content, "zh-TW", settings.rules)
    ctx.repo.update_project(project.id, script=script.model_dump(mode="json"))
    quota.record_usage(ctx.repo, "youtube", 9_960, "videos.update")

    with pytest.raises(ServiceError) as refused:
        upload.run(ctx, project.id)

    err = refused.value
    assert err.code == "YOUTUBE_QUOTA_INSUFFICIENT" and not err.retryable
    assert "9960 of 10000 units used and thumbnails.set needs 50" in err.message
    assert "YTMAKER_YOUTUBE_DAILY_UNITS" in err.message and "Taipei" in err.message
    assert svc.youtube.requests == []  # nothing reached YouTube
    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.FAILED
    assert stored.error_info["code"] == "YOUTUBE_QUOTA_INSUFFICIENT"


def test_a_refused_key_fails_clearly_without_leaking_it(
    services: tuple[Services, Settings], prefect_harness: None, caplog: pytest.LogCaptureFixture
) -> None:
    from flows.video import generate_video

    svc, settings = services
    caplog.set_level(logging.DEBUG)
    svc.gemini.api_key = "a-different-key"  # the server now refuses ours
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="x", content="台灣夜市的小吃很多。", language="zh-TW")
    messages, stop, thread = _listen(ctx, project.id)
    with pytest.raises(Exception, match="GEMINI_API_KEY"):
        generate_video(project.id)
    stop.set()
    thread.join(5)

    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.FAILED
    assert stored.error_info["code"].startswith("GEMINI_") and not stored.error_info["retryable"]
    assert messages[-1]["stage"] == "error"
    assert len(svc.gemini.requests) == 1  # a refused key is not retried
    written = _everything_written(ctx, project.id, messages) + caplog.text
    for secret in svc.secrets[1:] + ["test-gemini-key"]:
        assert secret not in written
