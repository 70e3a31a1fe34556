"""The traps of running many workers, one test each: locks that outlive a killed holder, two
racing runs both paying, fingerprints tied to where a worker mounts the data, and a D-ID talk
paid twice when a run is resumed mid-poll.

Locks and results run against a real Redis (YTMAKER_TEST_REDIS_URL or 127.0.0.1:6379), the
racers through a real Prefect API (the session harness) with results in a RedisDatabase block.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.servers.did import FakeDID
from tests.test_provider_did import FACE, narration  # noqa: F401 - a fixture
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.context import Context
from ytmaker.models import AssetStatus, AssetType
from ytmaker.pipeline import assets, script
from ytmaker.pipeline.records import AssetRecord, lost
from ytmaker.providers.did import DIDAvatar

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return client


def _manager(hold: float):
    from tasks.locks import ExpiringRedisLockManager

    return ExpiringRedisLockManager(lambda: {"connection_url": REDIS_URL}, hold_seconds=hold)


HOLDER = """
import sys, time
from tasks.locks import ExpiringRedisLockManager
manager = ExpiringRedisLockManager(lambda: {"connection_url": sys.argv[1]}, hold_seconds=1.5)
assert manager.acquire_lock(sys.argv[2], "dead-holder")
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_holders_lock_expires_and_a_live_holders_is_renewed(redis_client) -> None:
    key = f"test-{uuid.uuid4().hex}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, REDIS_URL, key],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        time.sleep(4.0)  # well past its 1.5 s: still held, because it is renewed
        manager = _manager(1.5)
        assert manager.is_locked(key)
        assert 0 < redis_client.pttl(f"lock:{key}") <= 1500  # never a lock without expiry
        assert not manager.acquire_lock(key, "me", acquire_timeout=0.5)
    finally:
        os.killpg(holder.pid, signal.SIGKILL)  # the machine is gone, mid-hold
        holder.wait()
    started = time.monotonic()
    assert manager.acquire_lock(key, "me", acquire_timeout=10)
    waited = time.monotonic() - started
    manager.release_lock(key, "me")
    assert waited < 2.0, f"the dead holder's lock blocked for {waited:.1f} s"
    assert not manager.is_locked(key)


def test_the_next_holder_in_the_same_process_keeps_its_lock_while_the_last_lets_go(
    redis_client, monkeypatch
) -> None:
    """Two task runs of one worker process, one after the other on the same key: the second
    takes the lock the moment the first's is gone from Redis, before the first's release has
    returned. The second must still know it holds the lock (else it waits for itself: a hang
    seen in the racing runs below, 1 run in 5)."""
    from redis.lock import Lock

    manager, key = _manager(30), f"test-{uuid.uuid4().hex}"
    assert manager.acquire_lock(key, "first")
    second_holds = threading.Event()
    released = Lock.release

    def release_then_let_the_next_in(lock: Lock) -> None:
        released(lock)
        if lock.name == f"lock:{key}" and not second_holds.is_set():
            assert second_holds.wait(30)  # the next holder is in before this one returns

    monkeypatch.setattr(Lock, "release", release_then_let_the_next_in)
    waiter = threading.Thread(
        target=lambda: manager.acquire_lock(key, "second") and second_holds.set()
    )
    waiter.start()
    manager.release_lock(key, "first")
    waiter.join(30)
    assert manager.is_lock_holder(key, "second") and not manager.is_lock_holder(key, "first")
    manager.release_lock(key, "second")
    assert not manager.is_locked(key)


def test_two_racing_runs_of_a_cached_task_pay_once(
    redis_client, prefect_harness, monkeypatch
) -> None:
    """Two runs of the same task with the same inputs at the same moment: one call is made,
    the other reads its result from Redis."""
    from prefect import flow, task
    from prefect.settings import PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK, temporary_settings
    from prefect.task_runners import ThreadPoolTaskRunner

    from deployments.blocks import register

    slug = register(REDIS_URL, ttl=600)
    monkeypatch.setenv("PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK", slug)
    from tasks.policy import resumable_policy

    counter = f"test-paid-{uuid.uuid4().hex}"

    @task(cache_policy=resumable_policy(), persist_result=True)
    def paid(item: str) -> str:
        redis_client.incr(counter)
        time.sleep(1.0)
        return f"made {item}"

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
    def race(item: str) -> list[str]:
        return [f.result() for f in [paid.submit(item) for _ in range(3)]]

    with temporary_settings({PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK: slug}):
        item = uuid.uuid4().hex
        results: dict[int, object] = {}

        def run_race(i: int) -> None:
            try:
                results[i] = race(item)
            except BaseException as exc:  # noqa: BLE001 - what the assertion shows
                results[i] = exc

        runs = [threading.Thread(target=run_race, args=(i,)) for i in (1, 2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(120)
    assert [results.get(i, "still running after 120 s") for i in (1, 2)] == [
        [f"made {item}"] * 3
    ] * 2
    assert int(redis_client.get(counter)) == 1
    assert all(redis_client.pttl(k) > 0 for k in redis_client.scan_iter("lock:*"))


def _project_with_script(settings: Settings) -> tuple[Context, int]:
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(
        name="mount", content="夜市是台灣的文化。小吃很多。大家都喜歡去逛。", language="zh-TW"
    )
    script.run(ctx, project.id)
    return ctx, project.id


def test_fingerprints_do_not_depend_on_where_the_data_is_mounted(
    settings: Settings, tmp_path: Path, monkeypatch
) -> None:
    """A worker that mounts the shared data elsewhere sees the same assets as made."""
    ctx, project_id = _project_with_script(settings)
    jobs = assets.image_jobs(ctx, project_id)
    for job in jobs[:2]:
        assets.make_image(ctx, project_id, job.index, fingerprint=job.fingerprint)
    voices = assets.voice_jobs(ctx, project_id)

    elsewhere = tmp_path / "mnt" / "shared"
    shutil.copytree(settings.data_dir, elsewhere)
    monkeypatch.setenv("YTMAKER_DATA_DIR", str(elsewhere))
    other = bootstrap(reload_settings())
    moved = assets.image_jobs(other, project_id)
    assert [j.fingerprint for j in moved] == [j.fingerprint for j in jobs]
    assert [j.fingerprint for j in assets.voice_jobs(other, project_id)] == [
        j.fingerprint for j in voices
    ]
    for job in moved[:2]:
        record = AssetRecord(
            other, project_id, AssetType.IMAGE, job.index, job.path, job.fingerprint
        )
        assert record.made(), job


def test_only_a_made_file_that_is_gone_refreshes_the_cache(settings: Settings) -> None:
    """A file never made is left to the cache and the lock (two racers: one pays); a file made
    and deleted since has a stale cached result, which must be refreshed."""
    ctx, project_id = _project_with_script(settings)
    jobs = assets.image_jobs(ctx, project_id)
    assert lost(ctx, project_id, jobs) == set()  # nothing made yet: no refresh
    made = jobs[0]
    assets.make_image(ctx, project_id, made.index, fingerprint=made.fingerprint)
    assert lost(ctx, project_id, jobs) == set()
    made.path.unlink()
    assert lost(ctx, project_id, jobs) == {made.index}
    rows = [a for a in ctx.repo.assets(project_id) if a.status is AssetStatus.COMPLETED]
    assert [r.segment_index for r in rows] == [made.index]


def test_a_resumed_avatar_polls_the_talk_it_paid_for(narration: Path, tmp_path: Path) -> None:  # noqa: F811
    with FakeDID() as server:
        server.outcome = "never"  # D-ID still rendering when the run is lost
        avatar = DIDAvatar(
            server.api_key, server.url, presenter_image_url=FACE, poll_interval=0.01, timeout=0.3
        )
        out = tmp_path / "avatar" / "intro.mp4"
        with pytest.raises(Exception, match="did not finish"):
            avatar.make(narration, "intro", out)
        (talk,) = server.talks.values()
        talk.outcome = server.outcome = "done"  # it finished meanwhile

        resumed = DIDAvatar(
            server.api_key, server.url, presenter_image_url=FACE, poll_interval=0.01, timeout=5
        )
        assert resumed.make(narration, "intro", out) == out
        assert len(server.requests_to("/talks", "POST")) == 1  # one talk paid
        assert len(server.requests_to("/audios", "POST")) == 1
        assert out.stat().st_size > 0
        assert not list(out.parent.glob(".*.talk.json"))  # forgotten once downloaded

        out.unlink()  # a new clip (say the narration changed) is a new talk
        assert resumed.make(narration, "intro", out) == out
        assert len(server.requests_to("/talks", "POST")) == 2
