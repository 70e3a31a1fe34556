"""Fan-out of one stage's sub-assets over Prefect tasks: submit them (refreshing the cache where
a made file was lost), keep a window of image tasks at the slot, and report progress as they
finish, within the stage's time limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prefect import Task
from prefect.futures import PrefectFuture, as_completed

from tasks.policy import configured
from ytmaker import deadline
from ytmaker.bookkeeping import Report
from ytmaker.context import Context
from ytmaker.pipeline.records import Job, lost


def submit(kind: Task, ctx: Context, project_id: int, jobs: list[Job]) -> list[PrefectFuture]:
    """Map `kind` over the jobs with the retry settings in force. Only where a file was made
    and then lost is the cache refreshed (its result would point at nothing): refreshing every
    missing file would make two racing runs both pay (the task itself skips what is made)."""
    futures: dict[int | str, PrefectFuture] = {}
    stale = lost(ctx, project_id, jobs)
    for refresh in (False, True):
        group = [job for job in jobs if (job.index in stale) == refresh]
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
        self.pending = list(jobs)
        self.running: dict[int, tuple[Job, PrefectFuture]] = {}
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
