"""The composition root: a run's parts are built once, and a test hands in its own."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from prefect import flow, task

from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings
from ytmaker.models import AssetStatus
from ytmaker.pipeline import assets, script
from ytmaker.providers import Providers
from ytmaker.providers.base import gated, paid_call

CONTENT = "台灣的夜市\n士林夜市的雞排很有名。\n饒河街的胡椒餅要排隊。\n"


class RecordingImages:
    """A real ImageMaker (it writes a 1920x1080 PNG) that remembers every call and whether the
    caller's gate was held around it."""

    name = "recording"
    metered_service = None

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, bool]] = []

    def make(self, description: str, seed: int, out_path: Path) -> Path:
        with paid_call() as held:
            self.calls.append((description, seed, held == "slot"))
        out_path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (1920, 1080), (seed % 256, 40, 90)).save(out_path)
        return out_path


class Slot:
    def __enter__(self) -> str:
        return "slot"

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_provider_handed_to_bootstrap_makes_the_images_and_names_their_fingerprints(
    settings: Settings,
) -> None:
    images = RecordingImages()
    ctx = bootstrap(settings, images=images)
    project_id = ctx.repo.create_project(name="夜市", content=CONTENT, language="zh-TW").id
    script.run(ctx, project_id)
    jobs = assets.image_jobs(ctx, project_id)
    for job in jobs:
        assets.make_image(ctx, project_id, int(job.index), gate=Slot, fingerprint=job.fingerprint)

    assert len(images.calls) == len(jobs) >= 1
    assert all(held for _, _, held in images.calls)  # the slot was held around each call
    stored = [a for a in ctx.repo.assets(project_id) if a.status is AssetStatus.COMPLETED]
    assert sorted(a.fingerprint for a in stored) == sorted(job.fingerprint for job in jobs)
    with Image.open(jobs[0].path) as picture:
        assert picture.size == (1920, 1080)
    # The provider's name is part of what an image depends on: another maker, other fingerprints.
    other = bootstrap(settings)  # the offline Pillow images
    assert {j.fingerprint for j in assets.image_jobs(other, project_id)}.isdisjoint(
        {j.fingerprint for j in jobs}
    )
    # A finished image is not asked for again.
    assets.make_image(ctx, project_id, int(jobs[0].index), fingerprint=jobs[0].fingerprint)
    assert len(images.calls) == len(jobs)


def test_providers_are_built_once_and_the_gate_is_the_callers(settings: Settings) -> None:
    providers = Providers(settings)
    assert providers.voice() is providers.voice()
    assert providers.images() is providers.images()
    assert providers.script_writer(None) is providers.script_writer(None)
    assert providers.script_writer("寫一段 {content}") is not providers.script_writer(None)
    images = RecordingImages()
    with gated(Slot):
        images.make("x", 1, settings.data_dir / "a.png")
    images.make("y", 2, settings.data_dir / "b.png")
    assert [held for _, _, held in images.calls] == [True, False]


@task
def providers_of_this_run() -> int:
    from tasks.policy import task_context

    return id(task_context().providers)


@flow
def two_tasks() -> list[int]:
    return [providers_of_this_run.submit().result() for _ in range(2)]


def test_the_tasks_of_one_flow_run_share_its_providers(
    settings: Settings, prefect_harness: None
) -> None:
    first_run, second_run = two_tasks(), two_tasks()
    assert first_run[0] == first_run[1]  # one set for the run's tasks
    assert second_run[0] == second_run[1] and second_run[0] != first_run[0]  # a new run, anew
