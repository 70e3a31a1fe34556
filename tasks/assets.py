from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from prefect import Task, task
from prefect.futures import PrefectFuture, as_completed

from tasks.limits import image_slot
from tasks.policy import RESUMABLE, configured, task_context
from ytmaker import assets, deadline
from ytmaker.assets import Job
from ytmaker.context import Context
from ytmaker.stages import Report, run_stage


@task(name="synthesize-voice", task_run_name="voice-{piece_index}", **RESUMABLE)
def synthesize_voice(project_id: int, piece_index: int, fingerprint: str) -> float:
    return assets.synthesize_piece(task_context(), project_id, piece_index, fingerprint)


@task(name="generate-image", task_run_name="image-{segment_index}", **RESUMABLE)
def generate_image(project_id: int, segment_index: int, fingerprint: str) -> str:
    """The slot is held only while the provider draws, not while the picture is stored."""
    ctx = task_context()
    waiting = partial(assets.say_waiting_for_slot, ctx, project_id, segment_index)
    slot = partial(
        image_slot,
        assets.image_provider_name(ctx),
        ctx.settings.image_concurrency,
        on_wait=waiting,
    )
    return assets.make_image(ctx, project_id, segment_index, gate=slot, fingerprint=fingerprint)


@task(name="generate-avatar", task_run_name="avatar-{role}", **RESUMABLE)
def generate_avatar(project_id: int, role: str, fingerprint: str) -> str:
    return assets.make_avatar(task_context(), project_id, role, fingerprint)


def generate_assets(project_id: int, plan: dict) -> dict:
    """Stage 2: voices and images mapped concurrently, then the avatar clips.

    Called from the flow, not a task itself: tasks nested in a task commit their cached results
    only when the outer task ends, so a crash mid-stage would lose every finished asset.

    Finished sub-assets come back from Prefect's cache (same fingerprint); one whose file is
    gone is made again.
    """
    ctx = Context.create()
    with run_stage(ctx, project_id, "assets") as report:
        voice_jobs = assets.voice_jobs(ctx, project_id)
        image_jobs = assets.image_jobs(ctx, project_id)
        progress = Tally(report, len(voice_jobs) + len(image_jobs) + 2)
        voices = submit(synthesize_voice, ctx, project_id, voice_jobs)
        images = Window(generate_image, ctx, project_id, image_jobs, ctx.settings.image_concurrency)
        progress.wait(finished(voice_jobs, voices))
        assets.record_durations(ctx, project_id, [future.result() for future in voices])
        avatar_jobs = assets.avatar_jobs(ctx, project_id)
        avatars = submit(generate_avatar, ctx, project_id, avatar_jobs)
        failures = progress.wait(images.finished(), tolerate=assets.is_tolerable)
        progress.wait(finished(avatar_jobs, avatars))
        outcome = assets.settle_images(ctx, project_id, failures)
    return outcome


def submit(kind: Task, ctx: Context, project_id: int, jobs: list[Job]) -> list[PrefectFuture]:
    """Map `kind` over the jobs with the retry settings in force. Only where a file was made
    and then lost is the cache refreshed (its result would point at nothing): refreshing every
    missing file would make two racing runs both pay (the task itself skips what is made)."""
    futures: dict[int | str, PrefectFuture] = {}
    lost = assets.lost(ctx, project_id, jobs)
    for refresh in (False, True):
        group = [job for job in jobs if (job.index in lost) == refresh]
        if not group:
            continue
        options = {"refresh_cache": True} if refresh else {}
        mapped = configured(kind, ctx.settings, **options).map(
            project_id, [job.index for job in group], [job.fingerprint for job in group]
        )
        futures.update(zip([job.index for job in group], mapped, strict=True))
    return [futures[job.index] for job in jobs]


Finished = Iterator[tuple[Job, PrefectFuture]]


def finished(jobs: list[Job], futures: list[PrefectFuture]) -> Finished:
    """(job, future) pairs in the order they finish."""
    job_of = {id(future): job for job, future in zip(jobs, futures, strict=True)}
    for future in as_completed(futures, timeout=time_left()):
        yield job_of[id(future)], future


def time_left() -> float | None:
    """What the stage has left: a wait for sub-assets gives up then (ASSETS_TIMEOUT)."""
    limit = deadline.current()
    return None if limit is None else limit.remaining()


class Window:
    """Keeps twice `concurrency` jobs submitted: the second half has started and waits at the
    slot, so a freed slot is taken at once instead of after a task start; more would only
    hold threads."""

    def __init__(
        self, kind: Task, ctx: Context, project_id: int, jobs: list[Job], concurrency: int
    ) -> None:
        self.kind, self.ctx, self.project_id = kind, ctx, project_id
        self.size = 2 * concurrency
        self.pending, self.running = list(jobs), {}
        self._fill()

    def _fill(self) -> None:
        while self.pending and len(self.running) < self.size:
            job = self.pending.pop(0)
            (future,) = submit(self.kind, self.ctx, self.project_id, [job])
            self.running[id(future)] = (job, future)

    def finished(self) -> Finished:
        while self.running:
            running = [f for _, f in self.running.values()]
            future = next(as_completed(running, timeout=time_left()))
            job, _ = self.running.pop(id(future))
            self._fill()
            yield job, future


class Tally:
    """Reports stage progress as sub-assets finish."""

    def __init__(self, report: Report, total: int) -> None:
        self.report, self.total, self.done = report, total, 0

    def wait(
        self, pairs: Finished, tolerate: Callable[[BaseException], bool] | None = None
    ) -> dict[int | str, BaseException]:
        """Wait for all; return the failures `tolerate` accepts (by job index), raise others."""
        failures: dict[int | str, BaseException] = {}
        for job, future in pairs:
            try:
                future.result()
            except Exception as exc:
                if tolerate is None or not tolerate(exc):
                    raise
                failures[job.index] = exc
            self.done += 1
            self.report(self.done / self.total * 99, f"素材 {self.done}/{self.total} 完成")
        return failures
