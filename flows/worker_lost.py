"""A run that crashed too often: its project is FAILED with WORKER_LOST instead of looking busy.

Started by the automation in deployments/worker-lost.yaml on the third crash of a ytmaker-pool
run (the first two were rescheduled by deployments/reschedule.yaml).
"""

from __future__ import annotations

from uuid import UUID

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from flows import run_log
from ytmaker import batch, summary
from ytmaker.bootstrap import bootstrap

run_log.install()  # a user's input error is one line in the run's log, not a traceback

MAX_RUNS = 3  # one run and two reschedules


@flow(
    name="worker-lost",
    flow_run_name="worker-lost-{flow_run}",
    description="Internal: started by an automation, not by hand. Run by hand it changes "
    "nothing unless the flow run it names crashed three times.",
)
def worker_lost(flow_run: str) -> str:
    """`flow_run`: the crashed run (`prefect.flow-run.<id>` or its id). Harmless by hand: a
    run that did not crash three times is left alone, and a wrong id is one line."""
    logger = get_run_logger()
    try:
        run_id = UUID(flow_run.strip().rsplit(".", 1)[-1])
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)
    except (ValueError, ObjectNotFound):
        said = f"{flow_run!r} names no flow run: nothing to do (this flow is for an automation)"
        logger.warning(said)
        return said
    if run.run_count < MAX_RUNS or run.state is None or not run.state.is_crashed():
        return f"{run.name}: crashed {run.run_count} time(s), left to the reschedule"
    ctx = bootstrap()
    reason = (
        f"its worker was lost {run.run_count} times (flow run {run.name}: the machine died, "
        "ran out of memory or was stopped); fix the cause, then `ytmaker recover`"
    )
    project_id = run.parameters.get("project_id")
    if project_id is not None:
        summary.mark_failed_if_running(ctx, int(project_id), reason, code="WORKER_LOST")
    batch_id = run.parameters.get("batch_id")
    if batch_id is not None:
        batch.finish(ctx.repo, int(batch_id))
    logger.warning("Flow run %s: %s", run.name, reason)
    return f"{run.name}: {reason}"
