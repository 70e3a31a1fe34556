"""`new-batch`: a batch from the Prefect UI's Run form: YAML text in the batch-file format
(content inline) or a list of projects with the `new-video` fields. The whole batch is checked
first (one rule set with `ytmaker batch create`), made once per flow run, then the
`batch-processing` flow makes its videos as a linked sub-flow.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run
from prefect.states import Failed, State

from flows.batch import batch_processing
from flows.new_video import form_field, log, rename_run, run_name
from ytmaker.batch import batch_projects
from ytmaker.bootstrap import bootstrap
from ytmaker.errors import InputError
from ytmaker.forms import NewBatch, batch_plan
from ytmaker.models import BatchTask
from ytmaker.per_run import batch_for_run
from ytmaker.reports import batch_intake_markdown


def _form_run_name() -> str:
    """`new-batch-{slug of its name}` before the batch exists (YAML text: `new-batch`)."""
    return run_name("new-batch", form_field("batch", "name"))


def intake_artifact(row: BatchTask, created: bool) -> None:
    """The batch id and its project ids in the run's artifacts at once."""
    markdown = batch_intake_markdown(row, batch_projects(bootstrap().repo, row.id), created)
    try:
        create_markdown_artifact(markdown, key=f"new-batch-{row.id}", description=f"Batch {row.id}")
    except Exception:  # noqa: BLE001 - artifact trouble never fails a batch
        log.warning("Could not create the new-batch artifact", exc_info=True)


@flow(
    name="new-batch",
    flow_run_name=_form_run_name,
    description="Make a batch of videos from YAML text or a list of projects: creates the "
    "batch, then runs batch-processing for it.",
)
def new_batch(batch: NewBatch) -> dict[str, Any] | State:
    """Create the batch (once per flow run) and make its videos.

    Returns the batch summary: {"status", "batch_id", "total_projects", "completed", "failed",
    "results"}; the run fails when no project completed.
    """
    logger = get_run_logger()
    ctx = bootstrap()
    try:  # every project checked before any is made
        plan = batch_plan(batch, settings=ctx.settings)
    except InputError as exc:  # the user's input: one line, no traceback
        logger.error("%s", exc.message)
        return Failed(message=exc.message)
    row, created = batch_for_run(ctx.repo, str(flow_run.get_id()), plan)
    logger.info(
        "Batch %s (%s): %d projects %s",
        row.id,
        row.name,
        row.total,
        "created" if created else "found, made by an earlier attempt of this run",
    )
    rename_run(run_name("new-batch", row.name, row.id))
    intake_artifact(row, created)
    state = batch_processing(row.id, return_state=True)
    if state.is_completed():
        return state.result()
    return state
