"""The database, state file and progress bus, as a user would read them."""

import json
import threading
import time
from pathlib import Path
from typing import Any

from ytmaker.db import Repository
from ytmaker.models import AssetStatus, AssetType, ProjectStatus
from ytmaker.progress import ProgressBus
from ytmaker.redis_conn import connect
from ytmaker.state import read_state, recover_interrupted_tasks, update_state


def test_projects_and_assets_round_trip(database_url: str) -> None:
    repo = Repository(database_url)
    project = repo.create_project(
        name="夜市",
        content="內容",
        language="zh-TW",
        youtube_settings={"privacy": "unlisted", "tags": ["台灣"]},
    )
    repo.update_project(project.id, status=ProjectStatus.COMPLETED, script={"segments": []})
    repo.save_asset(project.id, AssetType.IMAGE, 2, status=AssetStatus.PENDING, path="a.png")
    repo.save_asset(project.id, AssetType.IMAGE, 2, status=AssetStatus.FAILED, error={"code": "X"})
    repo.save_asset(project.id, AssetType.AVATAR_INTRO, None, status=AssetStatus.COMPLETED)

    stored = repo.get_project(project.id)
    assert stored.status is ProjectStatus.COMPLETED and stored.completed_at is not None
    assert stored.youtube_settings["tags"] == ["台灣"]
    rows = [(a.type, a.segment_index, a.status, a.error) for a in repo.assets(project.id)]
    assert rows == [
        (AssetType.IMAGE, 2, AssetStatus.FAILED, {"code": "X"}),
        (AssetType.AVATAR_INTRO, None, AssetStatus.COMPLETED, None),
    ]


def test_state_file_merges_and_lists_unfinished_projects(tmp_path: Path) -> None:
    update_state(tmp_path / "projects" / "1", {"status": "rendering", "assets": {"image:1": {}}})
    update_state(tmp_path / "projects" / "1", {"assets": {"image:2": {"status": "completed"}}})
    update_state(tmp_path / "projects" / "2", {"status": "completed"})
    state = read_state(tmp_path / "projects" / "1")
    assert set(state["assets"]) == {"image:1", "image:2"} and state["status"] == "rendering"
    assert [s["status"] for s in recover_interrupted_tasks(tmp_path)] == ["rendering"]
    assert not list((tmp_path / "projects" / "1").glob(".*"))  # no temp files left behind


def test_corrupt_state_file_reads_as_empty(tmp_path: Path) -> None:
    (tmp_path / "project_state.json").write_text("{not json")
    assert read_state(tmp_path) == {}


def test_progress_messages_reach_a_subscriber_in_order(tmp_path: Path) -> None:
    bus = ProgressBus(connect(None, tmp_path))
    received: list[dict] = []
    ready = threading.Event()

    def listen() -> None:
        ready.set()
        received.extend(bus.subscribe(901, include_latest=False, timeout=3))

    thread = threading.Thread(target=listen)
    thread.start()
    ready.wait()
    time.sleep(0.3)
    bus.publish(901, "script_generation", 0, "開始生成腳本...")
    bus.publish(901, "script_generation", 60, "撰寫中")
    bus.publish(901, "script_generation", 40, "a stale report never lowers progress")
    thread.join()
    assert [m["progress"] for m in received] == [0, 60, 60]
    assert received[0]["message"] == "開始生成腳本..."
    assert set(received[0]) == {"project_id", "stage", "progress", "message", "timestamp"}
    assert received[0]["timestamp"].endswith("Z")
    assert bus.latest(901)["message"] == "a stale report never lowers progress"
    raw = bus.client.get("progress:901:latest")
    assert json.loads(raw)["project_id"] == 901


def test_progress_never_fails_when_redis_is_down(tmp_path: Path, caplog) -> None:
    import redis

    bus = ProgressBus(redis.Redis(host="127.0.0.1", port=1, retry=None))
    for step in range(3):
        assert bus.publish(5, "video_rendering", step * 10, "x")["progress"] == step * 10
    assert len([r for r in caplog.records if "Progress not published" in r.message]) == 1


def _first_use(url: str, ready: Any, answers: Any) -> None:
    """One process opening a database nobody has used yet, at the same moment as another."""
    from ytmaker.db import get_engine

    ready.wait()
    try:
        get_engine(url)
        answers.put("ok")
    except Exception as exc:  # noqa: BLE001 - the answer is what the test reads
        answers.put(f"{type(exc).__name__}: {exc}")


def test_two_processes_first_using_a_new_database_at_once(tmp_path: Path) -> None:
    """Two videos submitted together on a fresh install: each worker process makes the tables
    (they raced: `table projects already exists`, and SQLite's switch to WAL said locked)."""
    import multiprocessing

    from tests.helpers import postgres_url

    spawn = multiprocessing.get_context("spawn")
    for round_ in range(4):
        url = f"sqlite:///{tmp_path / f'{round_}.db'}" if round_ % 2 == 0 else postgres_url()
        ready, answers = spawn.Barrier(2), spawn.Queue()
        started = [spawn.Process(target=_first_use, args=(url, ready, answers)) for _ in "ab"]
        for process in started:
            process.start()
        got = [answers.get(timeout=60), answers.get(timeout=60)]
        for process in started:
            process.join(timeout=30)
        assert got == ["ok", "ok"], (url, got)
        assert len(Repository(url).list_projects()) == 0  # the tables exist, empty
