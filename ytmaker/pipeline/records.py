"""An asset's row and state-file entry, kept in step with its file; and the fingerprint that
tells finished work from work to redo, so no asset is paid for twice."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ytmaker import timings
from ytmaker.bookkeeping import announce_retry, asset_key, error_info
from ytmaker.context import Context
from ytmaker.models import AssetStatus, AssetType, Timing
from ytmaker.pipeline.integrity import damage, facts
from ytmaker.progress import Stage
from ytmaker.state import Replace, read_state, update_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One sub-asset to make: which, where, and the fingerprint of its inputs."""

    index: int | str
    path: Path
    fingerprint: str

    @property
    def done(self) -> bool:
        return self.path.exists()


def lost(ctx: Context, project_id: int, jobs: list[Job]) -> set[int | str]:
    """Jobs whose file was made (a row records its fingerprint) and is gone or damaged since:
    only their cached results are stale. A missing file never made is simply not made yet."""
    made = {
        a.fingerprint: a for a in ctx.repo.assets(project_id) if a.status is AssetStatus.COMPLETED
    }
    recorded = read_state(ctx.project_dir(project_id)).get("assets") or {}
    stale = set()
    for job in jobs:
        row = made.get(job.fingerprint)
        if row is None:
            continue
        key = asset_key(row.type, row.segment_index)
        if not job.done or damage(row.type, job.path, _made_facts(recorded, key)):
            stale.add(job.index)
    return stale


def _made_facts(assets: dict[str, Any], key: str) -> dict[str, Any] | None:
    entry = assets.get(key)
    made = entry.get("made") if isinstance(entry, dict) else None
    return made if isinstance(made, dict) else None


def damaged(ctx: Context, project_id: int, kind: AssetType, index: int | None, path: Path) -> bool:
    """The file was made but is not what was made any more: say so (naming it), note it for
    the summary (made and paid for again), and let it be made again."""
    key = asset_key(kind, index)
    recorded = read_state(ctx.project_dir(project_id)).get("assets") or {}
    why = damage(kind, path, _made_facts(recorded, key))
    if why is None:
        return False
    log.warning("Project %s: %s %s; making it again", project_id, path, why)
    update_state(ctx.project_dir(project_id), {"remade": {key: {"path": str(path), "why": why}}})
    ctx.bus.note(project_id, Stage.ASSETS, f"{path.name} {why}; making it again",
                 data={"remade": key, "path": str(path), "why": why})  # fmt: skip
    return True


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()[
        :24
    ]


class AssetRecord:
    """Asset row and state-file entry around the making of one file; with the `provider` that
    makes it, a `timings` row too (ok, retry, failed, or cached when it is reused)."""

    def __init__(
        self,
        ctx: Context,
        project_id: int,
        kind: AssetType,
        index: int | None,
        path: Path,
        fingerprint: str | None = None,
        provider: object | None = None,
    ) -> None:
        self.ctx, self.project_id, self.kind, self.index = ctx, project_id, kind, index
        self.path, self.fingerprint, self.provider = path, fingerprint, provider
        self.clock: timings.Clock | None = None

    def made(self) -> bool:
        """Made before from the same inputs (its row says so and the file is there): a run
        killed before Prefect stored the task's result must not pay for it again."""
        if self.fingerprint is None or not self.path.exists():
            return False
        recorded = any(
            a.type is self.kind
            and a.segment_index == self.index
            and a.status is AssetStatus.COMPLETED
            and a.fingerprint == self.fingerprint
            for a in self.ctx.repo.assets(self.project_id)
        )
        return recorded and not damaged(self.ctx, self.project_id, self.kind, self.index, self.path)

    def reused(self) -> bool:
        """`made()`, and then counted as reused."""
        if not self.made():
            return False
        if self.provider is not None:
            self.ctx.repo.add_timing(self._clock().row(timings.CACHED))
        return True

    def _clock(self) -> timings.Clock:
        return timings.Clock.start(
            self.project_id, "assets", self.ctx.attempt.number, self.key, self.provider
        )

    def __enter__(self) -> None:
        self.clock = None if self.provider is None else self._clock()
        self.ctx.repo.save_asset(
            self.project_id, self.kind, self.index, status=AssetStatus.PENDING, path=str(self.path)
        )

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> None:
        retry_in = None if exc is None else self.ctx.attempt.retry_in(exc)
        if exc is not None and retry_in is not None:  # the row stays PENDING: not a failure
            announce_retry(self.ctx, self.project_id, "assets", exc, retry_in, self.key, self.clock)
            return
        error = None if exc is None else error_info(exc, "assets")
        fingerprint = self.fingerprint if exc is None else None
        timing = None
        if self.clock is not None:
            timing = self.clock.row(timings.OK if exc is None else timings.FAILED, error)
        record_asset(
            self.ctx, self.project_id, self.kind, self.index, self.path, error, fingerprint, timing
        )

    @property
    def key(self) -> str:
        return asset_key(self.kind, self.index)


@contextlib.contextmanager
def timed_call(
    ctx: Context, project_id: int, stage: str, what: str, provider: object
) -> Iterator[None]:
    """A `timings` row for one call to a provider that makes no file of its own (the script,
    the upload): ok, retry or failed."""
    clock = timings.Clock.start(project_id, stage, ctx.attempt.number, what, provider)
    try:
        yield
    except BaseException as exc:
        outcome = timings.FAILED if ctx.attempt.retry_in(exc) is None else timings.RETRY
        with contextlib.suppress(Exception):  # the failure itself matters more
            ctx.repo.add_timing(clock.row(outcome, error_info(exc, stage)))
        raise
    ctx.repo.add_timing(clock.row(timings.OK))


def record_asset(
    ctx: Context,
    project_id: int,
    kind: AssetType,
    index: int | None,
    path: Path,
    error: dict[str, Any] | None,
    fingerprint: str | None = None,
    timing: Timing | None = None,
) -> None:
    """The Asset row and the state file say the same thing about one file."""
    status = AssetStatus.COMPLETED if error is None else AssetStatus.FAILED
    ctx.repo.save_asset(
        project_id,
        kind,
        index,
        status=status,
        path=str(path),
        error=error,
        fingerprint=fingerprint,
        timing=timing,
    )
    entry: dict[str, Any] = {"status": status.value.lower(), "path": str(path)}
    if error is not None:
        entry["error"] = error
    elif path.is_file():
        entry["made"] = facts(kind, path)  # what a later run checks it against
    update_state(ctx.project_dir(project_id), {"assets": {asset_key(kind, index): Replace(entry)}})
