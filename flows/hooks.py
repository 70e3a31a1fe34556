"""What the Prefect UI shows of a video run, from hooks, without changing the flow's body::

    generate_video = instrument(generate_video)     # at the end of flows/video.py

- the flow run is named `video-{project_id}-{slug of the project name}`;
- it is tagged `lang:{language}` (and `batch:{id}` when the project belongs to a batch);
- a progress artifact (`video-{id}-progress`) follows the stages as they report on Redis;
- a markdown artifact (`video-{id}-summary`) sums up the run at the end: title, durations,
  paths, video URL, or the error.

Artifact trouble is logged and never fails a video.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import get_client

from flows.artifacts import ProgressWatcher, keep
from tasks import run_logs
from ytmaker.bootstrap import bootstrap
from ytmaker.reports import slug, summary_markdown
from ytmaker.review import WAITING
from ytmaker.summary import project_summary

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
_INSTRUMENTED = "_ytmaker_instrumented"


def video_run_name_for(project_id: int) -> str:
    try:
        name = bootstrap().repo.get_project(int(project_id)).name
    except Exception:  # noqa: BLE001 - an unknown project fails in the flow, not in its name
        return f"video-{project_id}"
    return "-".join(part for part in ("video", str(project_id), slug(name)) if part)


def video_run_name() -> str:
    """Prefect's `flow_run_name` callable: `video-{project_id}-{slug}`."""
    from prefect.runtime import flow_run

    return video_run_name_for(flow_run.parameters.get("project_id", "unknown"))


def project_language(project_id: int) -> str:
    """The project's language (what its progress artifact speaks); zh-TW if unknown."""
    try:
        return bootstrap().repo.get_project(int(project_id)).language
    except Exception:  # noqa: BLE001 - an unknown project fails in the flow
        return "zh-TW"


def project_tags(project_id: int) -> list[str]:
    """`lang:zh-TW`, and `batch:3` for a project of batch 3."""
    try:
        project = bootstrap().repo.get_project(int(project_id))
    except Exception:  # noqa: BLE001
        return []
    tags = [f"lang:{project.language}"]
    if project.batch_id is not None:
        tags.append(f"batch:{project.batch_id}")
    return tags


_watchers: dict[UUID, ProgressWatcher] = {}
_watchers_lock = threading.Lock()


def on_video_running(flow: Any, flow_run: Any, state: Any) -> None:
    """Tag the run by language and batch and start its progress artifact."""
    project_id = flow_run.parameters.get("project_id")
    if project_id is None:
        return
    with _watchers_lock:
        if flow_run.id in _watchers:  # on_running also fires for Retrying
            return
        _watchers[flow_run.id] = watcher = ProgressWatcher(
            flow_run.id, int(project_id), language=project_language(int(project_id))
        )
    run_logs.remember_parent(flow_run)  # a batch's sub-flow: its log lines name the batch run
    tags = project_tags(int(project_id))
    if tags and not set(tags) <= set(flow_run.tags or []):
        try:
            with get_client(sync_client=True) as client:
                merged = sorted(set(flow_run.tags or []) | set(tags))
                client.update_flow_run(flow_run.id, tags=merged)
        except Exception:  # noqa: BLE001
            log.warning("Could not tag the flow run", exc_info=True)
    watcher.start()


def on_video_finished(flow: Any, flow_run: Any, state: Any) -> None:
    """Close the progress artifact and write the summary artifact."""
    project_id = flow_run.parameters.get("project_id")
    if project_id is None:
        return
    with _watchers_lock:
        watcher = _watchers.pop(flow_run.id, None)
    ok = state.is_completed()
    elapsed = None
    if watcher is not None:
        elapsed = time.monotonic() - watcher.started
        with contextlib.suppress(Exception):  # the last message, if the poll missed it
            watcher.mirror(bootstrap().bus.latest(int(project_id)))
        watcher.finish(
            ok, None if ok else (state.message or state.name), waiting=_waiting(project_id)
        )
    try:
        result = project_summary(bootstrap(), int(project_id))
    except Exception as exc:  # noqa: BLE001
        result = {"project_id": project_id, "status": "UNKNOWN", "error": {"message": str(exc)}}
    markdown = summary_markdown(result, elapsed, state_name=state.name, state_message=state.message)
    keep(
        f"video-{int(project_id)}-summary",
        "markdown",
        markdown,
        f"Project {project_id}: {result.get('status')}",
        flow_run.id,
    )


def _waiting(project_id: int) -> bool:
    try:
        return bootstrap().repo.get_project(int(project_id)).status in WAITING
    except Exception:  # noqa: BLE001
        return False


def instrument(video_flow: Flow[P, R]) -> Flow[P, R]:
    """The flow with our run name, tags and artifacts; its own hooks are kept (idempotent)."""
    if getattr(video_flow, _INSTRUMENTED, False):
        return video_flow
    flow = video_flow.with_options(
        flow_run_name=video_run_name,
        on_running=[*video_flow.on_running_hooks, on_video_running],
        on_completion=[*video_flow.on_completion_hooks, on_video_finished],
        on_failure=[*video_flow.on_failure_hooks, on_video_finished],
        on_crashed=[*video_flow.on_crashed_hooks, on_video_finished],
        on_cancellation=[*video_flow.on_cancellation_hooks, on_video_finished],
    )
    setattr(flow, _INSTRUMENTED, True)
    return flow
