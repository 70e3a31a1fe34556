"""Our log records inside Prefect runs: each carries its run's ids (the video's flow run id is
the `trace_id`; a batch's sub-flow also the batch run's, `parent_trace_id`) and goes to the
run's log in the Prefect UI as well as to stderr (ytmaker/logs.py formats it)."""

from __future__ import annotations

import logging
import threading
from typing import Any
from uuid import UUID

from prefect.context import FlowRunContext, TaskRunContext
from prefect.logging.handlers import APILogHandler

from ytmaker import logs
from ytmaker.logs import OUR_LOGGERS

_parents: dict[UUID, str | None] = {}
_parents_lock = threading.Lock()


def run_fields() -> dict[str, Any]:
    """The ids of the flow run (and task run) this record is logged in."""
    fields: dict[str, Any] = {}
    flow_run = getattr(FlowRunContext.get(), "flow_run", None)
    task = TaskRunContext.get()
    if flow_run is not None:
        fields["trace_id"] = str(flow_run.id)
        fields["parent_trace_id"] = _parents.get(flow_run.id)
        for name in ("project_id", "batch_id"):  # the video flow's and the batch flow's
            fields[name] = (flow_run.parameters or {}).get(name)
    if task is not None:
        fields["trace_id"] = fields.get("trace_id") or str(task.task_run.flow_run_id)
        fields["attempt"] = task.task_run.run_count
        if "project_id" in (task.parameters or {}):  # a batch's task for one project
            fields["project_id"] = task.parameters["project_id"]
    return fields


def remember_parent(flow_run: Any) -> None:
    """A sub-flow's parent run id, asked once when it starts (a record never waits on the API)."""
    if flow_run.parent_task_run_id is None or flow_run.id in _parents:
        return
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            parent = client.read_task_run(flow_run.parent_task_run_id).flow_run_id
    except Exception:  # noqa: BLE001 - the trace is a help, never a reason to fail
        parent = None
    with _parents_lock:
        _parents[flow_run.id] = None if parent is None else str(parent)


class RunLogHandler(APILogHandler):
    """Prefect's API handler for our loggers, quiet outside a run (the CLI logs there too)."""

    def emit(self, record: logging.LogRecord) -> None:
        if FlowRunContext.get() is None and TaskRunContext.get() is None:
            return
        super().emit(record)


def install() -> None:
    """Idempotent: the fields source, the UI handler on our loggers, and our console format
    on the handlers Prefect's logging set-up adds."""
    import prefect.main  # noqa: F401 - sets up Prefect's logging, which `reapply` then adjusts

    logs.add_source(run_fields)
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, RunLogHandler) for h in logger.handlers):
            logger.addHandler(RunLogHandler())
    logs.reapply()
