"""A batch spread across workers: each project as a `video-generation` deployment run.

When the batch itself runs on the work pool (a deployment run), each project is started with
`run_deployment(..., as_subflow=True)` on the batch run's own work queue, so any worker of that
queue may take it and the UI shows it under the batch run. Its idempotency key names the batch,
the project and this batch run (the attempt): a batch run rescheduled after its worker died finds
its projects' runs again instead of starting them twice; `ytmaker batch run ID --deployment`
again is a new attempt.
"""

from __future__ import annotations

import os
import time
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.deployments import run_deployment

from flows.worker_lost import MAX_RUNS

VIDEO_DEPLOYMENT = "video-generation/video-generation"
POLL_SECONDS = 3.0
# A crashed run is put back to Scheduled by an automation 15-20 s after its crash
# (deployments/reschedule.yaml); one still Crashed after this long was not (its third crash, or
# no automation): the batch moves on.
RESCHEDULE_GRACE_SECONDS = 60.0


def on_pool() -> bool:
    """True when this flow run was started from a deployment (a worker of the pool runs it)."""
    context = FlowRunContext.get()
    return bool(context and context.flow_run and context.flow_run.deployment_id)


def own_queue() -> str | None:
    """The work queue this flow run came from: a batch's projects go where the batch went (a
    batch sent to a `rush` queue keeps its videos there, not on the pool's default queue)."""
    context = FlowRunContext.get()
    if context and context.flow_run and context.flow_run.work_queue_name:
        return context.flow_run.work_queue_name
    started = os.environ.get("PREFECT__FLOW_RUN_ID")  # a sub-flow's: the run the worker started
    if not started:
        return None
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(started)).work_queue_name


def idempotency_key(batch_id: int, project_id: int) -> str:
    context = FlowRunContext.get()
    attempt = context.flow_run.id if context and context.flow_run else "local"
    return f"batch-{batch_id}-project-{project_id}-attempt-{attempt}"


def run_on_pool(batch_id: int, project_id: int, tags: list[str]) -> dict[str, Any]:
    """Start (or find again) the project's run on the pool and wait until it is settled."""
    run = run_deployment(
        VIDEO_DEPLOYMENT,
        parameters={"project_id": project_id},
        as_subflow=True,
        idempotency_key=idempotency_key(batch_id, project_id),
        tags=tags,
        timeout=0,
        work_queue_name=own_queue(),
    )
    # sync code: Prefect's async_dispatch gives the flow run, not a coroutine
    done = settled(run.id)  # type: ignore[union-attr]
    return {"flow_run_id": str(done.id), "state": done.state.type.value if done.state else None}


def settled(run_id: Any) -> Any:
    """The run once final; a Crashed one is waited for while it may yet be rescheduled."""
    crashed_at: float | None = None
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(run_id)
            state = run.state
            if state is not None and state.is_final():
                if not state.is_crashed() or run.run_count >= MAX_RUNS:
                    return run
                crashed_at = crashed_at or time.monotonic()
                if time.monotonic() - crashed_at > RESCHEDULE_GRACE_SECONDS:
                    return run
            else:
                crashed_at = None
            time.sleep(POLL_SECONDS)
