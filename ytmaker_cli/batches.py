"""Batches: create one from a YAML file, run it here or on a worker, show its table."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ytmaker.errors import YTMakerError
from ytmaker.terminal import json_line, literal
from ytmaker_cli.app import BatchId, batch_app, context, fail, live, screen

if TYPE_CHECKING:
    from ytmaker.context import Context

BATCH_DEPLOYMENT = "batch-processing/batch-processing"


@batch_app.command("create")
def batch_create(
    file: Annotated[
        Path, typer.Option("--file", "-f", help="Batch YAML: name, projects (see README).")
    ],
    allow_outside: Annotated[
        bool,
        typer.Option(
            "--allow-outside",
            help="Let the file use files outside its own folder (content_file, logo, music, font).",
        ),
    ] = False,
) -> None:
    """Create a batch and its projects from a YAML file; prints the batch id."""
    from ytmaker import batch

    ctx = context()
    try:
        plan = batch.load_batch_file(file, allow_outside=allow_outside, settings=ctx.settings)
    except YTMakerError as exc:
        fail(exc.message)
    row = batch.create_batch(ctx.repo, plan)
    screen.err.print(literal(f"Batch {row.id} ({row.name}): {row.total} projects"))
    screen.out.print(row.id)


@batch_app.command("run")
def batch_run(
    batch_id: BatchId,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
    deployment: Annotated[
        bool,
        typer.Option(
            "--deployment",
            help="Submit to the `batch-processing` deployment (a worker runs it; see `make up`) "
            "instead of running here.",
        ),
    ] = False,
) -> None:
    """Make every unfinished video of a batch, YTMAKER_BATCH_CONCURRENCY at a time."""
    from ytmaker import batch

    ctx = context()
    try:
        batch.get_batch(ctx.repo, batch_id)
    except YTMakerError as exc:
        fail(exc.message)
    from tasks import prefect_env
    from ytmaker_cli.running import check_prefect_api, one_line_errors, submit_deployment

    prefect_env.apply(ctx.settings.data_dir)
    check_prefect_api()
    if deployment:
        submit_deployment(BATCH_DEPLOYMENT, {"batch_id": batch_id})
        return
    from flows.batch import batch_processing

    one_line_errors()

    with _batch_display(ctx, batch_id):
        error = _run_batch(batch_processing, batch_id)
    result = batch.summary(ctx.repo, batch_id)
    if as_json:
        print(json_line(result))
    if error is not None:
        fail(error)
    if result["status"] == "FAILED":
        raise typer.Exit(1)


def _run_batch(batch_processing: Any, batch_id: int) -> str | None:
    """The batch flow here; its error as one line, or None."""
    from prefect.exceptions import FailedRun

    try:
        batch_processing(batch_id)
    except YTMakerError as exc:
        return exc.message
    except FailedRun as exc:  # the run's own verdict: nothing completed
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - one line; details are in Prefect's log
        return f"{type(exc).__name__}: {exc}"
    return None


@contextlib.contextmanager
def _batch_display(ctx: Context, batch_id: int) -> Iterator[None]:
    """The batch table, redrawn while the batch runs (not with JSON log lines on stderr)."""
    if not live():
        yield
        return
    from rich.live import Live

    from ytmaker_cli.display import batch_table

    stop = threading.Event()
    with Live(batch_table(ctx, batch_id), console=screen.err, refresh_per_second=2) as shown:
        updater = threading.Thread(
            target=_refresh_batch, args=(ctx, batch_id, shown, stop), daemon=True
        )
        updater.start()
        try:
            yield
        finally:
            stop.set()
            updater.join(timeout=3)
            shown.update(batch_table(ctx, batch_id))


def _refresh_batch(ctx: Context, batch_id: int, live: Any, stop: threading.Event) -> None:
    from ytmaker_cli.display import batch_table

    while not stop.wait(1.0):
        try:
            live.update(batch_table(ctx, batch_id))
        except Exception:  # noqa: BLE001 - a display hiccup must not stop the batch
            logging.getLogger(__name__).debug("batch table refresh failed", exc_info=True)


@batch_app.command("status")
def batch_status(
    batch_id: BatchId,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A table of the batch's projects: status, stage and progress, video id or error."""
    from ytmaker import batch, review

    ctx = context()
    review.expire_overdue(ctx)  # a review nobody answered in time says so here too
    try:
        result = batch.summary(ctx.repo, batch_id)
    except YTMakerError as exc:
        fail(exc.message)
    if as_json:
        print(json_line(result))
        return
    from ytmaker_cli.display import batch_table

    screen.out.print(batch_table(ctx, batch_id))
