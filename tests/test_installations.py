"""Two installations on one Redis (two checkouts, staging and production) never show each
other's progress: messages name their installation on the shared `progress:{id}` channel, each
keeps its own latest message, and a prefix gives an operator separate channels."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest

from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.progress import ProgressBus
from ytmaker.redis_conn import connect


def _bus(settings: Settings) -> ProgressBus:
    return bootstrap(settings).bus


def _settings(monkeypatch: pytest.MonkeyPatch, data_dir: Path, **env: str) -> Settings:
    monkeypatch.setenv("YTMAKER_DATA_DIR", str(data_dir))
    for name in ("YTMAKER_INSTALLATION_ID", "YTMAKER_PROGRESS_PREFIX", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return reload_settings()


def _subscribed(bus: ProgressBus, channel: str, count: int) -> None:
    """Wait until `count` subscribers are on `channel` (no fixed sleep)."""
    deadline = time.monotonic() + 5
    while dict(bus.client.pubsub_numsub(channel)).get(channel.encode(), 0) < count:
        assert time.monotonic() < deadline, f"nobody subscribed to {channel}"
        time.sleep(0.02)


def test_each_checkout_is_its_own_installation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    one = _settings(monkeypatch, tmp_path / "one").installation_id
    other = _settings(monkeypatch, tmp_path / "other").installation_id
    pg = "postgresql://app:secret@db.example:5432/ytmaker"
    worker_a = _settings(monkeypatch, tmp_path / "a", DATABASE_URL=pg).installation_id
    worker_b = _settings(monkeypatch, tmp_path / "b", DATABASE_URL=pg).installation_id
    named = _settings(monkeypatch, tmp_path / "a", YTMAKER_INSTALLATION_ID="staging")
    assert one != other and worker_a == worker_b  # workers of one database share it
    assert named.installation_id == "staging" and "secret" not in worker_a


def test_another_installations_messages_are_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project_id = 700_000 + uuid.uuid4().int % 100_000  # both installations have "project N"
    ours = _bus(_settings(monkeypatch, tmp_path / "ours"))
    theirs = _bus(_settings(monkeypatch, tmp_path / "theirs"))
    assert ours.installation != theirs.installation
    assert ours.channel(project_id) == theirs.channel(project_id) == f"progress:{project_id}"

    raw = ours.client.pubsub(ignore_subscribe_messages=True)
    raw.subscribe(ours.channel(project_id))
    received: list[dict] = []
    listener = threading.Thread(
        target=lambda: received.extend(ours.subscribe(project_id, include_latest=False, timeout=2))
    )
    listener.start()
    _subscribed(ours, ours.channel(project_id), 2)
    ours.publish(project_id, "video_rendering", 40, "ours")
    theirs.publish(project_id, "error", 0, "影片合成失敗 (FFmpeg failed at piece 2, exit code 69)")
    ours.publish(project_id, "video_rendering", 80, "ours again")
    listener.join()

    assert [m["message"] for m in received] == ["ours", "ours again"]
    on_the_wire: list[dict] = []
    deadline = time.monotonic() + 5
    while len(on_the_wire) < 3 and time.monotonic() < deadline:
        if (message := raw.get_message(timeout=0.5)) is not None:
            on_the_wire.append(json.loads(message["data"]))
    raw.close()
    assert [m["installation"] for m in on_the_wire] == [
        ours.installation,
        theirs.installation,
        ours.installation,
    ]
    # each keeps its own latest message: theirs neither hides nor replaces ours
    assert ours.latest(project_id)["message"] == "ours again"
    assert theirs.latest(project_id)["stage"] == "error"


def test_a_message_without_an_installation_is_still_read(tmp_path: Path) -> None:
    """Older versions and other tools publish without an id."""
    bus = ProgressBus(connect(None, tmp_path), installation="mine")
    assert bus.ours({"stage": "error", "progress": 0}) and not bus.ours({"installation": "x"})


def test_a_prefix_gives_separate_channels(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bus = _bus(_settings(monkeypatch, tmp_path, YTMAKER_PROGRESS_PREFIX="staging:"))
    assert bus.channel(3) == "staging:progress:3"
    assert bus.latest_key(3) == f"staging:progress:3:latest:{bus.installation}"
    bus.publish(3, "script_generation", 10, "x")
    assert bus.client.get(bus.latest_key(3)) is not None
