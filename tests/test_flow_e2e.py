"""The whole five-stage flow under Prefect, against real Redis and SQLite: nothing mocked."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings
from ytmaker.context import Context
from ytmaker.media.probe import frame_at, probe
from ytmaker.models import AssetStatus, AssetType, ProjectStatus
from ytmaker.script import Script
from ytmaker.state import read_state

pytestmark = pytest.mark.slow
STAGES = [
    "script_generation",
    "asset_generation",
    "video_rendering",
    "thumbnail_generation",
    "youtube_upload",
]
CONTENT_ZH = """台灣的早餐店
台灣的早餐店是許多人一天的開始，蛋餅、蘿蔔糕和豆漿都是常見的選擇。
清晨的街角總是飄著煎台的香氣，老闆一邊招呼客人，一邊熟練地翻動鍋鏟。
有人習慣外帶一杯奶茶趕去上班，也有人坐下來慢慢享受熱騰騰的鐵板麵。
"""


class Subscriber:
    """Listens on a project's progress channel in a thread, as `ytmaker watch` would."""

    def __init__(self, ctx: Context, project_id: int) -> None:
        self.messages: list[dict] = []
        self.stop = threading.Event()
        ready = threading.Event()

        def listen() -> None:
            ready.set()
            self.messages.extend(
                ctx.bus.subscribe(project_id, include_latest=False, stop=self.stop)
            )

        self.thread = threading.Thread(target=listen, daemon=True)
        self.thread.start()
        ready.wait()
        time.sleep(0.3)

    def close(self) -> list[dict]:
        self.stop.set()
        self.thread.join(timeout=10)
        return self.messages


def check_landscape_video(result: dict, script: Script, project_dir: Path) -> None:
    """What a user checks of a finished landscape video: its streams, length, a picture per
    segment with subtitles burned in, and the thumbnail."""
    video = Path(result["video_path"])
    info = probe(video)
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 1920, 1080)
    assert info.video.fps == pytest.approx(30, abs=0.01)
    assert info.audio.codec == "aac" and info.video_streams == 1 and info.audio_streams == 1
    assert info.duration == pytest.approx(script.realised_duration(), rel=0.02)
    first, second = script.segments[0], script.segments[1]
    start = script.intro.spoken_duration
    frame_one = np.asarray(frame_at(video, start + first.spoken_duration / 2), dtype=float)
    frame_two = np.asarray(
        frame_at(video, start + first.spoken_duration + second.spoken_duration / 2), dtype=float
    )
    assert np.abs(frame_one - frame_two).mean() > 10  # a different picture per segment
    image_one = np.asarray(
        Image.open(project_dir / "images" / "segment_001.png").convert("RGB"),
        dtype=float,
    )
    band = slice(int(1080 * 0.8), 1080)
    assert np.abs(frame_one[band] - image_one[band]).mean() > 2  # subtitles burned in
    with Image.open(result["thumbnail_path"]) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (1280, 720))


def test_flow_makes_a_narrated_video_with_rows_state_and_progress(
    settings: Settings, prefect_harness: None
) -> None:
    from flows.video import generate_video

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="早餐店", content=CONTENT_ZH, language="zh-TW")
    subscriber = Subscriber(ctx, project.id)
    result = generate_video(project.id)
    messages = subscriber.close()

    # what the flow returns and the database holds
    assert result["status"] == "COMPLETED", result
    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.COMPLETED and stored.youtube_video_id
    script = Script.model_validate(stored.script)
    assets = ctx.repo.assets(project.id)
    counts = {kind: sum(a.type is kind for a in assets) for kind in AssetType}
    assert counts[AssetType.AUDIO] == len(script.segments) + 2
    assert counts[AssetType.IMAGE] == len(script.segments)
    assert all(
        counts[k] == 1
        for k in (
            AssetType.AVATAR_INTRO,
            AssetType.AVATAR_OUTRO,
            AssetType.FINAL_VIDEO,
            AssetType.THUMBNAIL,
        )
    )
    assert {a.status for a in assets} == {AssetStatus.COMPLETED}

    # the video a user opens
    check_landscape_video(result, script, ctx.project_dir(project.id))

    # the state file and the local channel
    state = read_state(ctx.project_dir(project.id))
    assert state["status"] == "completed"
    assert {s["status"] for s in state["stages"].values()} == {"completed"}
    assert len(state["assets"]) == len(assets)
    published = settings.channel_dir / stored.youtube_video_id / "metadata.json"
    assert json.loads(published.read_text("utf-8"))["title"] == script.metadata.title

    # the progress a subscriber saw
    stages = [m["stage"] for m in messages]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == STAGES
    assert messages[0]["message"] == "開始生成腳本..."
    for stage in STAGES:
        values = [m["progress"] for m in messages if m["stage"] == stage]
        assert values[0] == 0 and values[-1] == 100 and values == sorted(values)


def test_empty_content_fails_the_project_with_error_info(
    settings: Settings, prefect_harness: None
) -> None:
    from flows.video import generate_video

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="空", content="   ", language="zh-TW")
    subscriber = Subscriber(ctx, project.id)
    with pytest.raises(Exception, match="empty content"):
        generate_video(project.id)
    messages = subscriber.close()

    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.FAILED
    assert stored.error_info["code"] == "INPUT_INVALID"
    assert stored.error_info["stage"] == "script" and stored.error_info["field"] == "content"
    assert read_state(ctx.project_dir(project.id))["status"] == "failed"
    assert messages[-1]["stage"] == "error" and messages[-1]["error"]["code"] == "INPUT_INVALID"
    assert not (ctx.project_dir(project.id) / "output").exists()


def test_unwritable_data_dir_fails_with_an_actionable_message(
    settings: Settings, prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.video import generate_video
    from ytmaker.config import reload_settings

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data dir should be")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    monkeypatch.setenv("YTMAKER_DATA_DIR", str(blocker / "data"))
    ctx = bootstrap(reload_settings())
    project = ctx.repo.create_project(name="x", content=CONTENT_ZH, language="zh-TW")
    with pytest.raises(Exception, match="YTMAKER_DATA_DIR"):
        generate_video(project.id)
    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.FAILED
    assert stored.error_info["code"] == "DATA_DIR_UNWRITABLE"
