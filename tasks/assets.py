from __future__ import annotations

from collections.abc import Callable

from prefect import Task, task
from prefect.futures import PrefectFuture, as_completed

from tasks.limits import image_slot
from tasks.policy import RESUMABLE, configured
from ytmaker import assets
from ytmaker.assets import Job
from ytmaker.context import Context
from ytmaker.stages import Report, run_stage


@task(name="synthesize-voice", task_run_name="voice-{piece_index}", **RESUMABLE)
def synthesize_voice(project_id: int, piece_index: int, fingerprint: str) -> float:
    return assets.synthesize_piece(Context.create(), project_id, piece_index)


@task(name="generate-image", task_run_name="image-{segment_index}", **RESUMABLE)
def generate_image(project_id: int, segment_index: int, fingerprint: str) -> str:
    ctx = Context.create()
    with image_slot(assets.image_provider_name(ctx)):
        return assets.make_image(ctx, project_id, segment_index)


@task(name="generate-avatar", task_run_name="avatar-{role}", **RESUMABLE)
def generate_avatar(project_id: int, role: str, fingerprint: str) -> str:
    return assets.make_avatar(Context.create(), project_id, role)


def generate_assets(project_id: int, plan: dict) -> dict:
    """Stage 2: voices and images mapped concurrently, then the avatar clips.

    Called from the flow, not a task itself: tasks nested in a task commit their cached results
    only when the outer task ends, so a crash mid-stage would lose every finished asset.

    Finished sub-assets come back from Prefect's cache (same fingerprint); one whose file is
    gone is made again.
    """
    ctx = Context.create()
    with run_stage(ctx, project_id, "assets") as report:
        voice_jobs, image_jobs = (
            assets.voice_jobs(ctx, project_id),
            assets.image_jobs(ctx, project_id),
        )
        progress = Tally(report, len(voice_jobs) + len(image_jobs) + 2)
        voices = submit(synthesize_voice, ctx, project_id, voice_jobs)
        images = submit(generate_image, ctx, project_id, image_jobs)
        progress.wait(voices)
        assets.record_durations(ctx, project_id, [future.result() for future in voices])
        avatars = submit(generate_avatar, ctx, project_id, assets.avatar_jobs(ctx, project_id))
        failures = progress.wait(images, image_jobs, tolerate=assets.is_final_failure)
        progress.wait(avatars)
        outcome = assets.settle_images(ctx, project_id, failures)
    return outcome


def submit(kind: Task, ctx: Context, project_id: int, jobs: list[Job]) -> list[PrefectFuture]:
    """Map `kind` over the jobs with the retry settings in force; where a job's file is missing,
    refresh the cache (a cached result would point at nothing)."""
    futures: dict[int | str, PrefectFuture] = {}
    for missing in (False, True):
        group = [job for job in jobs if job.done != missing]
        if not group:
            continue
        options = {"refresh_cache": True} if missing else {}
        mapped = configured(kind, ctx.settings, **options).map(
            project_id, [job.index for job in group], [job.fingerprint for job in group]
        )
        futures.update(zip([job.index for job in group], mapped, strict=True))
    return [futures[job.index] for job in jobs]


class Tally:
    """Reports stage progress as sub-assets finish."""

    def __init__(self, report: Report, total: int) -> None:
        self.report, self.total, self.done = report, total, 0

    def wait(
        self,
        futures: list[PrefectFuture],
        jobs: list[Job] | None = None,
        tolerate: Callable[[BaseException], bool] | None = None,
    ) -> dict[int | str, BaseException]:
        """Wait for all; return the failures `tolerate` accepts (by job index), raise others."""
        index_of = {id(f): (jobs[i].index if jobs else i) for i, f in enumerate(futures)}
        failures: dict[int | str, BaseException] = {}
        for future in as_completed(futures):
            try:
                future.result()
            except Exception as exc:
                if tolerate is None or not tolerate(exc):
                    raise
                failures[index_of[id(future)]] = exc
            self.done += 1
            self.report(self.done / self.total * 99, f"素材 {self.done}/{self.total} 完成")
        return failures
