"""`ytmaker watch`: follow a project being made, also when started mid-run."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from ytmaker.errors import YTMakerError
from ytmaker.terminal import literal
from ytmaker_cli.app import ProjectId, app, context, fail, screen

if TYPE_CHECKING:
    from ytmaker.context import Context


@app.command("watch")
def watch_command(
    project_id: ProjectId,
    timeout: Annotated[
        float | None, typer.Option(help="Give up after this many seconds without news.")
    ] = None,
) -> None:
    """Live per-stage progress bars of a project being made (also when started mid-run)."""
    ctx = context()
    try:
        ctx.repo.get_project(project_id)
    except YTMakerError as exc:
        fail(exc.message)
    outcome = follow(ctx, project_id, timeout=timeout)
    if outcome == "FAILED":
        raise typer.Exit(1)
    if outcome in ("AWAITING_REVIEW", "REVIEW_EXPIRED", "REJECTED"):
        screen.err.print(f"Project {project_id}: {outcome} (ytmaker review {project_id})")


def follow(
    ctx: Context,
    project_id: int,
    *,
    timeout: float | None = None,
    console: Console | None = None,
) -> str | None:
    """Draw the stage bars from Redis until the project completes or fails.

    The stored latest message comes first, so someone who starts watching mid-run sees the
    earlier stages as done and the current one where it is. Returns COMPLETED, FAILED, a status
    where a person decides (AWAITING_REVIEW...), or None when `timeout` passed without news.
    """
    from ytmaker.models import ProjectStatus
    from ytmaker.progress import Stage
    from ytmaker.review import PERSON_DECIDES
    from ytmaker.stages import BY_PROGRESS, STAGES
    from ytmaker_cli.display import draw, stage_bars

    settled = (ProjectStatus.COMPLETED, ProjectStatus.FAILED, *PERSON_DECIDES)
    stop = threading.Event()
    outcome: list[str] = []

    def finished_elsewhere() -> None:  # a run that died without a last message
        while not stop.wait(5.0):
            with contextlib.suppress(Exception):
                status = ctx.repo.get_project(project_id).status
                if status in settled:
                    outcome.append(status.value)
                    stop.set()

    threading.Thread(target=finished_elsewhere, daemon=True).start()
    with stage_bars(console or screen.err) as (bars, rows):
        for message in ctx.bus.subscribe(project_id, timeout=timeout, stop=stop):
            stage = message.get("stage")
            if not _confirmed(ctx, project_id, message):
                continue
            if stage in rows:
                for earlier in STAGES[: BY_PROGRESS[stage].number - 1]:
                    bars.update(rows[earlier.stage], completed=100)
                draw(bars, rows[stage], message, console or screen.err)
                if stage == Stage.UPLOAD and message["progress"] >= 100:
                    outcome.append("COMPLETED")
                    break
            elif stage == Stage.ERROR:
                (console or screen.err).print(literal(message["message"], style="red"))
                outcome.append("FAILED")
                break
    stop.set()
    if not outcome:
        with contextlib.suppress(Exception):
            status = ctx.repo.get_project(project_id).status
            if status in settled:
                outcome.append(status.value)
    return outcome[0] if outcome else None


def _confirmed(ctx: Context, project_id: int, message: dict[str, Any]) -> bool:
    """A last message (done, or failed) counts when the database agrees: the stored latest
    can be an earlier run's, e.g. of the same id in a database that was reset."""
    from ytmaker.models import ProjectStatus
    from ytmaker.progress import Stage

    stage = message.get("stage")
    if stage == Stage.UPLOAD and message.get("progress", 0) >= 100:
        expected = ProjectStatus.COMPLETED
    elif stage == Stage.ERROR:
        expected = ProjectStatus.FAILED
    else:
        return True
    with contextlib.suppress(Exception):
        return ctx.repo.get_project(project_id).status is expected
    return True
