"""How progress and results look in a terminal: stage bars, the summary table, the batch table."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from ytmaker import stages
from ytmaker.attempt import retrying_text
from ytmaker.context import Context
from ytmaker.progress import Stage
from ytmaker.summary import retrying_of, status_text
from ytmaker.terminal import clean, literal
from ytmaker_cli.app import screen


@contextlib.contextmanager
def stage_bars(console: Console) -> Iterator[tuple[Progress, dict[Stage, Any]]]:
    """One progress bar per stage, as `demo`, `generate` and `watch` draw them."""
    columns = (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[message]}", markup=False),
    )
    with Progress(*columns, console=console, transient=False) as bars:
        yield (
            bars,
            {
                spec.stage: bars.add_task(spec.label, total=100, message="")
                for spec in stages.STAGES
            },
        )


def draw(bars: Progress, row: Any, message: dict[str, Any], console: Console) -> None:
    """One progress message on its stage bar; a retry is also printed as a line of its own."""
    text = bar_text(message)
    bars.update(row, completed=message["progress"], message=text)
    if (message.get("data") or {}).get("retry_in") is not None:
        label = stages.label(message["stage"])
        console.print(f"{label}: {text}", markup=False, highlight=False)


def bar_text(message: dict[str, Any]) -> str:
    """A progress message as its bar shows it; a retry says so, with the attempt coming next."""
    data = message.get("data") or {}
    if data.get("retry_in") is None:
        return clean(message["message"])
    retry = retrying_text(data["attempt"] + 1, data["max_attempts"], data["retry_in"])
    return clean(f"{retry}: {(data.get('error') or {}).get('message', '')}")


def show_summary(result: dict[str, Any]) -> None:
    status = status_text(result["status"], result.get("retrying"))
    table = Table(title=literal(f"Project {result['project_id']}: {status}"), show_header=False)
    for key in (
        "title",
        "language",
        "format",
        "duration",
        "video_path",
        "thumbnail_path",
        "thumbnail_note",
        "video_id",
        "video_url",
    ):
        if result.get(key) is not None:
            table.add_row(key, literal(result[key]))
    if result.get("partial"):
        replaced = ", ".join(
            f"segment {r['segment_index']} ({r['code']})" for r in result["replaced"]
        )
        table.add_row("partial", literal(f"placeholder images: {replaced}"))
    screen.out.print(table)


def batch_table(ctx: Context, batch_id: int) -> Table:
    from ytmaker import batch

    row = batch.get_batch(ctx.repo, batch_id)
    table = Table(
        "id",
        "name",
        "lang",
        "status",
        "stage",
        "progress",
        "video id / error",
        title=literal(
            f"Batch {row.id} {row.name}: {row.status.value} — {row.completed} completed, "
            f"{row.failed} failed, {row.total} in all"
        ),
    )
    colours = {"COMPLETED": "green", "FAILED": "red"}
    for project in batch.batch_projects(ctx.repo, batch_id):
        status = project.status.value
        latest = ctx.bus.latest(project.id) or {}
        stage, progress = latest.get("stage", ""), latest.get("progress")
        if status in ("COMPLETED", "INITIALIZED"):
            stage, progress = ("", None) if status == "INITIALIZED" else (stage, 100.0)
        detail = (
            project.youtube_video_id or ""
            if status != "FAILED"
            else (project.error_info or {}).get("message", "")
        )
        shown = status_text(status, retrying_of(ctx, project))
        if status in ("AWAITING_REVIEW", "REVIEW_EXPIRED"):
            waits = (project.review or {}).get("reason") == "script"
            shown = "awaiting script review" if waits else shown
            detail = f"ytmaker review {project.id}"
        table.add_row(
            str(project.id),
            literal(project.name),
            literal(project.language),
            literal(shown, style=colours.get(status, "yellow")),
            literal(stages.label(stage) if stage else ""),
            "" if progress is None else f"{stages.overall_percent(stage, progress):.0f}%",
            literal(detail),
        )
    return table
