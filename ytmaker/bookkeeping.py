"""Stage bookkeeping: status in the database, the state file and progress, kept in step."""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ytmaker import deadline, diskspace, logs, timings
from ytmaker.context import Context
from ytmaker.errors import ConfigError, InputError, StorageError, YTMakerError
from ytmaker.models import Asset, AssetType, Project, ProjectStatus
from ytmaker.progress import Stage, utc_timestamp
from ytmaker.script import Script
from ytmaker.stages import BY_NAME, STAGES, StageSpec
from ytmaker.state import Replace, read_state, update_state

log = logging.getLogger(__name__)
Report = Callable[..., None]
# OSErrors that mean the disk, not our code: error_info then says what to check.
DISK_ERRORS = {
    errno.ENOSPC: "DISK_FULL",
    errno.EDQUOT: "DISK_FULL",
    errno.EFBIG: "DISK_FULL",
    errno.EACCES: "NOT_WRITABLE",
    errno.EPERM: "NOT_WRITABLE",
    errno.EROFS: "NOT_WRITABLE",
}


@contextlib.contextmanager
def run_stage(ctx: Context, project_id: int, name: str) -> Iterator[Report]:
    """Mark the stage running, yield a progress reporter, then mark it done or failed; each
    attempt is a `timings` row written with the status, and a start and an end log line."""
    spec = BY_NAME[name]
    project = ctx.repo.get_project(project_id)  # an unknown id fails here, with nothing to record

    def report(progress: float, message: str, **data: Any) -> None:
        ctx.bus.publish(project_id, spec.stage, progress, message, data=data or None)

    with logs.bound(project_id=project_id, batch_id=project.batch_id, stage=name):
        clock = timings.Clock.start(project_id, name, ctx.attempt.number)
        try:
            ensure_writable(ctx.project_dir(project_id))
            diskspace.keep_reserve(ctx.settings.data_dir)
            ctx.repo.update_project(project_id, status=spec.running, error_info=None)
            _start(ctx, project_id, spec)
            with deadline.within(name, *ctx.settings.stage_timeout(name)):
                yield report
        except BaseException as exc:
            retry_in = ctx.attempt.retry_in(exc)
            if retry_in is None:
                fail_project(ctx, project_id, name, exc, clock)
            else:
                announce_retry(ctx, project_id, name, exc, retry_in, clock=clock)
            raise
        ctx.repo.update_project(project_id, status=spec.done, timing=clock.row(timings.OK))
    _write_state(ctx, project_id, spec.done, {name: {"status": "completed"}})
    ctx.bus.publish(project_id, spec.stage, 100, spec.done_message)


def _start(ctx: Context, project_id: int, spec: StageSpec) -> None:
    """The state file and a first message; a retry goes on from the progress it had."""
    attempt = ctx.attempt
    entry = Replace(status="running", **({"attempt": attempt.number} if attempt.is_retry else {}))
    _write_state(ctx, project_id, spec.running, {spec.name: entry})
    if not attempt.is_retry:
        ctx.bus.begin(project_id, spec.stage, spec.start_message)
        return
    ctx.bus.note(
        project_id,
        spec.stage,
        f"{spec.title}：第 {attempt.number}/{attempt.max_attempts} 次嘗試...",
        data={"attempt": attempt.number, "max_attempts": attempt.max_attempts},
    )


def announce_retry(
    ctx: Context,
    project_id: int,
    stage: str,
    exc: BaseException,
    retry_in: float,
    asset: str | None = None,
    clock: timings.Clock | None = None,
) -> dict[str, Any]:
    """A failure that will be tried again (of the stage, or of one `asset` in it): the project
    keeps its running status, and a progress message (same stage, never lower) says which
    attempt failed, why, and when the next one starts."""
    spec, attempt = BY_NAME[stage], ctx.attempt
    info = error_info(exc, stage)
    data = attempt.retry_data(info, retry_in) | ({"asset": asset} if asset else {})
    what = f"{stage} {asset}" if asset else stage
    log.warning(
        "Project %s, %s: attempt %d of %d failed (%s); %s",
        project_id,
        what,
        attempt.number,
        attempt.max_attempts,
        info["code"],
        attempt.retry_text(retry_in),
        extra={"project_id": project_id, "stage": stage, "asset": asset, "attempt": attempt.number}
        | logs.error_fields(info),
    )
    if clock is not None:
        with contextlib.suppress(Exception):
            ctx.repo.add_timing(clock.row(timings.RETRY, info))
    entry = Replace(status="retrying", **data)
    changes = {"assets": {asset: entry}} if asset else {"stages": {stage: entry}}
    with contextlib.suppress(Exception):  # bookkeeping trouble must not hide the retry
        update_state(ctx.project_dir(project_id), changes)
    ctx.bus.note(
        project_id,
        spec.stage,
        f"{what}：第 {attempt.number} 次嘗試失敗（{info['message']}），{retry_in:g} 秒後重試",
        data=data,
    )
    return data


def ensure_writable(folder: Path) -> None:
    """Fail early, and clearly, when the data dir cannot take our files."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            f"Cannot write to {folder} ({exc.strerror or exc}). Set YTMAKER_DATA_DIR to a "
            "writable folder.",
            code="DATA_DIR_UNWRITABLE",
            path=str(folder),
        ) from None


def _write_state(
    ctx: Context, project_id: int, status: ProjectStatus, stages: dict[str, Any], **extra: Any
) -> None:
    update_state(
        ctx.project_dir(project_id),
        {
            "project_id": project_id,
            "status": status.value.lower(),
            "stages": stages,
            **extra,
        },
        rebuild=lambda: rebuild_state(ctx, project_id),
    )


def project_state(ctx: Context, project_id: int) -> dict[str, Any]:
    """The state file, rebuilt from the database if it is corrupt."""
    return read_state(ctx.project_dir(project_id), rebuild=lambda: rebuild_state(ctx, project_id))


def rebuild_state(ctx: Context, project_id: int) -> dict[str, Any]:
    """What the state file says, as far as the database knows it."""
    project = ctx.repo.get_project(project_id)
    state: dict[str, Any] = {
        "project_id": project_id,
        "status": project.status.value.lower(),
        "stages": _stage_states(project),
        "assets": dict(_asset_entry(asset) for asset in ctx.repo.assets(project_id)),
        "rebuilt_at": utc_timestamp(),
    }
    if project.script:
        script = Script.model_validate(project.script)
        state["script"] = {
            "title": script.metadata.title,
            "segments": len(script.segments),
            "planned_duration": script.total_duration,
            "realised_duration": round(script.realised_duration(), 3),
        }
    if project.error_info:
        state["error"] = project.error_info
    if project.youtube_video_id:
        state["upload"] = {"video_id": project.youtube_video_id, "video_url": project.video_url}
    return state


def _stage_states(project: Project) -> dict[str, Any]:
    """Stages before the current one completed; the current one running, done or failed."""
    specs = list(STAGES)
    failed = (project.error_info or {}).get("stage")
    for i, spec in enumerate(specs):
        if project.status is ProjectStatus.FAILED and spec.name == failed:
            current = "failed"
        elif project.status in (spec.running, spec.done):
            current = "running" if project.status is spec.running else "completed"
        else:
            continue
        return {
            **{s.name: {"status": "completed"} for s in specs[:i]},
            spec.name: {"status": current},
        }
    return {}


def _asset_entry(asset: Asset) -> tuple[str, dict[str, Any]]:
    entry: dict[str, Any] = {"status": asset.status.value.lower(), "path": asset.path}
    if asset.error is not None:
        entry["error"] = asset.error
    return asset_key(asset.type, asset.segment_index), entry


def asset_key(kind: AssetType, index: int | None) -> str:
    """How the state file names an asset: `image:3`, `avatar_intro`."""
    return kind.value.lower() if index is None else f"{kind.value.lower()}:{index}"


def error_info(exc: BaseException, stage: str) -> dict[str, Any]:
    """What the user (and error_info) sees of a failure; never a traceback."""
    if isinstance(exc, YTMakerError):
        info = exc.to_info()
    elif isinstance(exc, OSError) and exc.errno in DISK_ERRORS:
        info = {
            "code": DISK_ERRORS[exc.errno],
            "message": f"Cannot write {exc.filename or 'a file'} ({exc.strerror}). Free disk "
            "space, or make YTMAKER_DATA_DIR a writable folder.",
            "retryable": False,
            "path": exc.filename,
        }
    else:
        info = {
            "code": type(exc).__name__.upper(),
            "message": str(exc) or type(exc).__name__,
            "retryable": False,
        }
    return {**info, "stage": stage}


def _disk_full(ctx: Context, project_id: int, stage: str) -> dict[str, Any]:
    """DISK_FULL naming the folder, what is free and about what the stage needs."""
    folder = ctx.project_dir(project_id)
    seconds, images = 600.0, 120  # the most a script may hold, when it cannot be read
    with contextlib.suppress(Exception):
        project = ctx.repo.get_project(project_id)
        if project.script:
            script = Script.model_validate(project.script)
            seconds, images = script.realised_duration(), len(script.segments)
    need = diskspace.needed_mb(stage, seconds, images)
    return {
        "message": diskspace.full_message(folder, stage, need),
        "folder": str(folder),
        "needed_mb": round(need),
        "retryable": False,
    }


def fail_project(
    ctx: Context,
    project_id: int,
    stage: str,
    exc: BaseException,
    clock: timings.Clock | None = None,
) -> dict[str, Any]:
    """Record a failure everywhere the user looks (and an ERROR log line with its traceback,
    but for an input error); bookkeeping trouble never hides the cause."""
    info = error_info(exc, stage)
    if info.get("code") == "DISK_FULL":
        diskspace.release_reserve(ctx.settings.data_dir)  # room to write the failure down
        info |= _disk_full(ctx, project_id, stage)
    timing = None if clock is None else clock.row(timings.FAILED, info)
    logs.remember_failure(project_id, info)
    log.error(
        "Project %s, %s failed (%s): %s",
        project_id,
        stage,
        info["code"],
        info["message"],
        exc_info=None if isinstance(exc, (InputError, ConfigError)) else exc,
        extra={"project_id": project_id, "stage": stage, **logs.error_fields(info)},
    )
    try:  # the database and the state file each on their own: a full disk may refuse one
        ctx.repo.update_project(
            project_id, status=ProjectStatus.FAILED, error_info=info, timing=timing
        )
    except Exception:  # noqa: BLE001 - the original error matters more
        log.exception("Could not record the failure of project %s", project_id)
    try:
        _write_state(
            ctx, project_id, ProjectStatus.FAILED, {stage: {"status": "failed"}}, error=info
        )
    except Exception:  # noqa: BLE001
        log.exception("Could not write the state file of project %s", project_id)
    ctx.bus.publish(
        project_id, Stage.ERROR, 0, f"{BY_NAME[stage].title}失敗：{info['message']}", error=info
    )
    return info
