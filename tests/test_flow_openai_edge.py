"""A whole video from the `openai` script writer and the `edge` voice with word-by-word
captions: the real openai SDK and edge-tts against local servers speaking their protocols,
through the same checks as the landscape video (tests/test_flow_e2e.py), with a 503, two 403s
and a stream cut mid-audio on the way, all retried.

Progress goes over Redis Pub/Sub, whose channels are one namespace for a whole Redis server
(a database number does not separate them): on a server shared with other runs, give the test
a Redis of its own (YTMAKER_TEST_REDIS_URL), as for tests/test_flow_e2e.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.servers.edge import FakeEdge
from tests.servers.gemini import valid_script
from tests.servers.openai import FakeOpenAI
from tests.test_flow_e2e import STAGES, Subscriber, check_landscape_video
from tests.test_flow_real_providers import _everything_written
from ytmaker import quota
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.media.karaoke import read_marks
from ytmaker.models import AssetStatus, AssetType, ProjectStatus
from ytmaker.script import Script
from ytmaker.state import read_state

pytestmark = pytest.mark.slow
KEY = "sk-e2e-openai-key-31337"


@pytest.fixture
def servers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeOpenAI, FakeEdge, Settings]]:
    with FakeOpenAI(KEY) as llm, FakeEdge() as edge:
        llm.script_text = valid_script(segments=3, seconds=6)
        for name, value in {
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_MODEL": "qwen2.5:7b",
            "YTMAKER_SCRIPT_PROVIDER": "openai",
            "YTMAKER_VOICE_PROVIDER": "edge",
            "EDGE_TTS_URL": edge.url,
            "YTMAKER_RETRY_DELAYS": "0.1,0.1,0.1",
            "YTMAKER_RETRY_JITTER": "0",
        }.items():
            monkeypatch.setenv(name, value)
        yield llm, edge, reload_settings()


def test_openai_script_and_edge_voice_make_a_video_with_word_captions(
    servers: tuple[FakeOpenAI, FakeEdge, Settings],
    prefect_harness: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from flows.video import generate_video

    llm, edge, settings = servers
    caplog.set_level(logging.DEBUG)
    llm.fail_next(503)  # the writer's first answer: tried again by our retries
    edge.refuse_next(403, times=2)  # the service's time-bound token refused twice
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(
        name="夜市",
        content="台灣夜市的小吃很多。",
        language="zh-TW",
        visual_config={"subtitles": {"style": "words"}},
    )
    subscriber = Subscriber(ctx, project.id)
    edge.cut_next()  # one piece's stream is cut mid-audio: never kept, voiced again
    result = generate_video(project.id)
    messages = subscriber.close()

    # what the flow returns and the database holds
    assert result["status"] == "COMPLETED", result
    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.COMPLETED and stored.youtube_video_id
    script = Script.model_validate(stored.script)
    assert len(script.segments) == 3 and script.metadata.title == "台灣夜市小吃"
    assert len(llm.chats()) == 2  # the 503, then the script
    pieces = len(script.pieces())
    voiced = [r for r in edge.requests]
    assert len(voiced) == pieces + 1  # every piece once, the cut one twice
    assert {r.short_voice for r in voiced} == {"zh-TW-HsiaoChenNeural"}
    assets = ctx.repo.assets(project.id)
    counts = {kind: sum(a.type is kind for a in assets) for kind in AssetType}
    assert counts[AssetType.AUDIO] == pieces and counts[AssetType.IMAGE] == 3
    assert {a.status for a in assets} == {AssetStatus.COMPLETED}

    # each piece's word timings came from the voice, as with espeak-ng
    audio_dir = ctx.project_dir(project.id) / "audio"
    for index, piece in enumerate(script.pieces()):
        wav = audio_dir / f"piece_{index:03d}.wav"
        spoken, marks = read_marks(wav) or ("", [])
        assert spoken == piece.text.strip() and len(marks) >= 5
        assert json.loads(wav.with_suffix(".words.json").read_text("utf-8"))["engine"] == (
            "edge:zh-TW-HsiaoChenNeural"
        )

    # the video a user opens: every check of the landscape video
    check_landscape_video(result, script, ctx.project_dir(project.id))
    first = script.segments[0]
    video = Path(result["video_path"])
    assert first.text.split("：")[0] in video.with_suffix(".srt").read_text("utf-8")

    # the state file, the local channel, the quota
    state = read_state(ctx.project_dir(project.id))
    assert state["status"] == "completed"
    assert {s["status"] for s in state["stages"].values()} == {"completed"}
    published = settings.channel_dir / stored.youtube_video_id / "metadata.json"
    assert json.loads(published.read_text("utf-8"))["title"] == script.metadata.title
    used = quota.counted(ctx.repo, "openai", datetime.now(UTC) - timedelta(hours=1))
    assert used == {"chat.completions": 1.0, "tokens": 1200.0}
    assert {row["stage"]: row["provider"] for row in result["providers"]} == {
        "script": "openai",
        "voice": "edge",
        "images": "local",
        "avatar": "local",
        "publisher": "local",
    }

    # the progress a subscriber saw: retries announced, never a failure
    stages = [m["stage"] for m in messages]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == STAGES
    for stage in STAGES:
        values = [m["progress"] for m in messages if m["stage"] == stage]
        assert values[0] == 0 and values[-1] == 100 and values == sorted(values)
    retries = [m for m in messages if (m.get("data") or {}).get("retry_in") is not None]
    assert {m["data"]["error"]["code"] for m in retries} >= {
        "OPENAI_UNAVAILABLE",
        "EDGE_INVALID_RESPONSE",
    }
    # the two 403s were answered (pieces are voiced at once: edge-tts's own retry may absorb
    # them, or ours; tests/test_provider_edge.py checks each way)
    assert edge.handshakes == len(edge.requests) + 2

    # the key is nowhere a user or operator can read
    written = _everything_written(ctx, project.id, messages) + caplog.text
    assert KEY not in written
