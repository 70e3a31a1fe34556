"""Many workers on one work pool, on one machine: a Prefect server on the local PostgreSQL, a
Redis for results, locks and slot leases, three workers each in its own PID namespace, and the
wire-level fake services (Gemini, Stability, D-ID, YouTube) whose request logs say what was
paid for.

(a) the same project started twice at once: every provider called once per asset, one video;
(b) a batch of three projects spread over the workers, the worker making one of them killed
    whole after its third image: that run is Crashed, rescheduled on another worker and
    COMPLETED, nothing finished before the kill is requested again, no lock without expiry,
    image slots back to 0;
(c) a run that always crashes is rescheduled exactly twice, then its project is FAILED with
    WORKER_LOST;
(d) across the workers, image requests in flight at the fake never exceed
    YTMAKER_IMAGE_CONCURRENCY.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.scale_stack import ScaleStack, scale_stack
from tests.servers import Reply, Request
from tests.servers.did import FakeDID
from tests.servers.gemini import FakeGemini, valid_script
from tests.servers.stability import FakeStability
from tests.servers.youtube import FakeYouTube
from tests.stack import cli
from tests.test_batch import SHORT_EN, SHORT_ZH
from tests.test_flow_real_providers import _talking_head
from ytmaker import batch
from ytmaker.db import Repository
from ytmaker.models import BatchStatus, ProjectStatus
from ytmaker.pipeline.assets import seed_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]
IMAGES = "/v2beta/stable-image/generate"
CONCURRENCY = 2
SEGMENTS = 4
PIECES = SEGMENTS + 2
RUN_TIMEOUT = 420


class HeldStability(FakeStability):
    """Serves `allow` images of the projects in `hold_seeds`, then holds their next requests at
    the door (never served, never logged) until `release()`: the kill comes while they wait."""

    def __init__(self) -> None:
        super().__init__()
        self.hold_seeds: set[int] = set()
        self.allow = 0
        self.waiting = 0
        self.opened = threading.Event()

    def dispatch(self, request: Request) -> Reply:
        if IMAGES in request.path and self._held(request):
            self.opened.wait(timeout=600)
            return Reply(drop=True)
        return super().dispatch(request)

    def _held(self, request: Request) -> bool:
        seed = int(request.form.get("seed") or -1)
        with self._lock:
            if seed not in self.hold_seeds or self.opened.is_set():
                return False
            if self.allow > 0:
                self.allow -= 1
                return False
            self.waiting += 1
            return True


class Fakes:
    def __init__(self, tmp: Path) -> None:
        self.gemini, self.stability = FakeGemini(), HeldStability()
        self.did, self.youtube = FakeDID(), FakeYouTube()
        self.all = (self.gemini, self.stability, self.did, self.youtube)
        self.tmp = tmp

    def env(self) -> dict[str, str]:
        token = self.tmp / "youtube-token.json"
        expiry = datetime.now(UTC) + timedelta(hours=3)
        token.write_text(
            json.dumps(
                {
                    "token": self.youtube.access_token,
                    "refresh_token": "refresh-secret-1",
                    "client_id": "cid.apps.googleusercontent.com",
                    "client_secret": "shh",
                    "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
        )
        return {
            "GEMINI_API_KEY": self.gemini.api_key,
            "GEMINI_BASE_URL": self.gemini.url,
            "STABILITY_API_KEY": self.stability.api_key,
            "STABILITY_BASE_URL": self.stability.url,
            "DID_API_KEY": self.did.api_key,
            "DID_BASE_URL": self.did.url,
            "DID_PRESENTER_IMAGE_URL": f"{self.did.url}/presenter.jpg",
            "YOUTUBE_TOKEN_FILE": str(token),
            "YOUTUBE_API_ENDPOINT": self.youtube.url,
            "YTMAKER_IMAGE_CONCURRENCY": str(CONCURRENCY),
            "YTMAKER_BATCH_CONCURRENCY": "3",
            "YTMAKER_ON_PARTIAL": "publish",
        }

    def paid(self) -> Counter:
        """What was paid for so far, per kind of call."""
        generate = self.gemini.requests_to(":generateContent", "POST")
        return Counter(
            {
                "script": sum("tts" not in r.path for r in generate),
                "voice": sum("tts" in r.path for r in generate),
                "image": len(self.stability.requests_to(IMAGES, "POST")),
                "talk": len(self.did.requests_to("/talks", "POST")),
                "upload": len(self.youtube.requests_to("/upload/youtube/v3/videos", "POST")),
            }
        )

    def images_of(self, project_id: int) -> Counter:
        """Requests served per image of the project (its seeds)."""
        seeds = {seed_for(project_id, i): i for i in range(1, SEGMENTS + 1)}
        served = [int(r.form.get("seed")) for r in self.stability.requests_to(IMAGES, "POST")]
        return Counter(seeds[s] for s in served if s in seeds)


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fakes]:
    fakes = Fakes(tmp_path_factory.mktemp("fakes"))
    with contextlib.ExitStack() as stack:
        for server in fakes.all:
            stack.enter_context(server)
        fakes.gemini.script_text = valid_script(segments=SEGMENTS, seconds=2)
        fakes.did.result_video = _talking_head(fakes.tmp / "head.mp4")
        fakes.stability.slow(0.4, path_contains=IMAGES)
        yield fakes


@pytest.fixture(scope="module")
def stack(fakes: Fakes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleStack]:
    with scale_stack(tmp_path_factory.mktemp("scale"), 3, fakes.env()) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack: ScaleStack) -> Iterator[Any]:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings({PREFECT_API_URL: stack.api_url}),
        get_client(sync_client=True) as prefect,
    ):
        yield prefect


def _run(name: str, **parameters: Any) -> Any:
    from prefect.deployments import run_deployment

    return run_deployment(name, parameters=parameters, timeout=0)


def _final(client: Any, run_id: Any, timeout: float = RUN_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        run = client.read_flow_run(run_id)
        if run.state and run.state.is_final() and not run.state.is_crashed():
            return run
        if run.state and run.state.is_crashed() and run.run_count >= 3:
            return run
        assert time.monotonic() < deadline, (run.name, run.state, run.run_count)
        time.sleep(2)


def _states(client: Any, run_id: Any) -> list[tuple[str, str]]:
    return [(s.type.value, s.message or "") for s in client.read_flow_run_states(run_id)]


def _video(stack: ScaleStack, repo: Repository, project_id: int) -> None:
    project = repo.get_project(project_id)
    assert project.status is ProjectStatus.COMPLETED, (project.status, project.error_info)
    assert project.youtube_video_id
    assert (stack.data_dir / "projects" / str(project_id) / "output" / "video.mp4").stat().st_size


def test_a_the_same_project_twice_at_once_pays_once(stack, fakes, client) -> None:
    repo = Repository(stack.database_url)
    project = repo.create_project(name="雙擊", content=SHORT_ZH, language="zh-TW")
    before = fakes.paid()
    runs = [_run("video-generation/video-generation", project_id=project.id) for _ in range(2)]
    finished = [_final(client, run.id) for run in runs]
    assert all(run.state.is_completed() for run in finished), [r.state for r in finished]
    paid = fakes.paid() - before
    assert paid == Counter(script=1, voice=PIECES, image=SEGMENTS, talk=2, upload=1), paid
    assert set(fakes.images_of(project.id).values()) == {1}
    _video(stack, repo, project.id)


def _worker_of(stack: ScaleStack, run_id: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        for worker in stack.workers:
            if worker.process.poll() is None and str(run_id) in worker.flow_runs():
                return worker
        assert time.monotonic() < deadline, f"no worker runs {run_id}"
        time.sleep(0.5)


def _children(client: Any, parent_id: Any) -> dict[int, Any]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    runs = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id])
        )
    )
    return {run.parameters["project_id"]: run for run in runs}


def _wait_for(what: str, check: Any, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_b_a_dead_workers_run_is_finished_elsewhere(stack, fakes, client) -> None:
    repo = Repository(stack.database_url)
    row = batch.create_batch(
        repo,
        batch.BatchPlan(
            "scale",
            [
                batch.NewProject("夜市", SHORT_ZH, "zh-TW"),
                batch.NewProject("Bubble tea", SHORT_EN, "en"),
                batch.NewProject("早餐店", SHORT_ZH, "zh-TW"),
            ],
        ),
    )
    ids = [p.id for p in batch.batch_projects(repo, row.id)]
    target = ids[0]
    images = stack.data_dir / "projects" / str(target) / "images"
    voices = stack.data_dir / "projects" / str(target) / "audio"
    fakes.stability.hold_seeds = {seed_for(target, i) for i in range(1, SEGMENTS + 1)}
    fakes.stability.allow = 3
    before = fakes.paid()

    batch_run = _run("batch-processing/batch-processing", batch_id=row.id)
    _wait_for("the target's run", lambda: target in _children(client, batch_run.id))
    target_run = _children(client, batch_run.id)[target]
    _wait_for(
        "three images saved, every voice piece saved, the next image at the provider",
        lambda: (
            len(list(images.glob("*.png"))) >= 3
            and len(list(voices.glob("piece_*.wav"))) == PIECES
            and fakes.stability.waiting >= 1
        ),
    )
    time.sleep(1.0)  # the saved images' results are committed just after
    made_before = {p.name for p in images.glob("*.png")}
    victim = _worker_of(stack, target_run.id)
    on_victim = _projects_on(victim, _children(client, batch_run.id))
    saved = {project_id: _saved(stack, repo, project_id) for project_id in on_victim}
    victim.kill()
    killed_at = time.monotonic()
    fakes.stability.opened.set()  # the held requests' callers are dead: dropped
    assert not victim.flow_runs()
    assert target in on_victim, on_victim

    done = _final(client, batch_run.id, timeout=900)
    assert done.state.is_completed(), (done.state, _states(client, batch_run.id))
    for project_id in ids:
        _video(stack, repo, project_id)
    stored = batch.get_batch(repo, row.id)
    assert (stored.status, stored.completed, stored.failed) == (BatchStatus.COMPLETED, 3, 0)

    resumed = client.read_flow_run(target_run.id)
    states = [t for t, _ in _states(client, target_run.id)]
    assert "CRASHED" in states and resumed.state.is_completed(), states
    assert resumed.run_count == 2
    print(f"killed -> completed elsewhere in {time.monotonic() - killed_at:.0f} s")

    # An image saved before the kill is never requested again; one whose request was in flight
    # on the killed worker (of any project that ran there) may be, once. Other projects: once.
    assert len(made_before) >= 3 and len(saved[target].images) >= 3
    for project_id in ids:
        counts = fakes.images_of(project_id)
        assert set(counts) == set(range(1, SEGMENTS + 1)), (project_id, counts)
        for index, times in counts.items():
            if project_id in saved and index not in saved[project_id].images:
                assert times in (1, 2), (project_id, index, counts, saved[project_id])
            else:
                assert times == 1, (project_id, index, counts, saved.get(project_id))
    paid = fakes.paid() - before
    once = Counter(script=3, voice=3 * PIECES, image=3 * SEGMENTS, talk=6, upload=3)
    at_most = once + sum((s.unfinished() for s in saved.values()), Counter())
    for kind in once:
        assert once[kind] <= paid[kind] <= at_most[kind], (kind, paid, once, saved)
    assert paid["image"] == sum(sum(fakes.images_of(p).values()) for p in ids), paid

    # no lock left without an expiry; the dead run's image slots came back
    store = redis.Redis.from_url(stack.redis_url)
    assert all(store.pttl(key) > 0 for key in store.scan_iter("lock:*"))
    _wait_for("image slots back to 0", lambda: _active_slots(client) == 0, timeout=120)


@dataclass
class Saved:
    """What a project on the worker about to be killed had saved (each kept, never paid again)."""

    script: bool
    voices: int
    images: set[int]
    avatars: int
    uploaded: bool

    def unfinished(self) -> Counter:
        """The most each kind may be requested again: what was not saved may have been in
        flight."""
        return Counter(
            script=0 if self.script else 1,
            voice=PIECES - self.voices,
            image=SEGMENTS - len(self.images),
            talk=2 - self.avatars,
            upload=0 if self.uploaded else 1,
        )


def _saved(stack: ScaleStack, repo: Repository, project_id: int) -> Saved:
    root = stack.data_dir / "projects" / str(project_id)
    project = repo.get_project(project_id)
    return Saved(
        script=project.script is not None,
        voices=len(list((root / "audio").glob("piece_*.wav"))),
        images={int(p.stem.split("_")[1]) for p in (root / "images").glob("segment_*.png")},
        avatars=len(list((root / "avatar").glob("*.mp4"))),
        uploaded=bool(project.youtube_video_id),
    )


def _projects_on(worker: Any, children: dict[int, Any]) -> set[int]:
    """The batch's projects whose flow runs live on `worker`."""
    runs = worker.flow_runs()
    return {project_id for project_id, run in children.items() if str(run.id) in runs}


def _active_slots(client: Any) -> int:
    from tasks.limits import IMAGES_IN_FLIGHT

    return client.read_global_concurrency_limit_by_name(IMAGES_IN_FLIGHT).active_slots


def test_c_a_run_that_always_crashes_is_rescheduled_twice(stack, client) -> None:
    cli(
        stack.env,
        "deploy",
        "tests/scale_crasher.py:crasher",
        "--name",
        "crasher",
        "--pool",
        "ytmaker-pool",
        "--no-prompt",
    )
    repo = Repository(stack.database_url)
    project = repo.create_project(name="停電", content=SHORT_ZH, language="zh-TW")
    run = _run("crasher/crasher", project_id=project.id)
    final = _final(client, run.id)
    states = _states(client, run.id)
    rescheduled = [m for t, m in states if t == "SCHEDULED" and "Rescheduled" in m]
    assert final.state.is_crashed() and final.run_count == 3, states
    assert len(rescheduled) == 2, states
    crashed_at = time.monotonic()
    _wait_for(
        "WORKER_LOST",
        lambda: (repo.get_project(project.id).error_info or {}).get("code") == "WORKER_LOST",
        timeout=180,
    )
    assert repo.get_project(project.id).status is ProjectStatus.FAILED
    # a third reschedule would come within 20 s of the last crash: 40 s of it, counting the wait
    time.sleep(max(0.0, 40 - (time.monotonic() - crashed_at)))
    still = client.read_flow_run(run.id)
    assert still.state.is_crashed() and still.run_count == 3, _states(client, run.id)


def test_d_images_in_flight_never_exceed_the_limit(stack, fakes) -> None:
    assert fakes.stability.requests_to(IMAGES, "POST"), "the scenarios above made no image"
    assert 1 <= fakes.stability.most_in_flight <= CONCURRENCY
