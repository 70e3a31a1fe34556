"""What the Prefect UI shows of our runs: names, tags, progress and summary artifacts.

The video flow gets all of it from hooks, without changing its body::

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
import contextvars
import logging
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.artifacts import create_markdown_artifact, create_progress_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate, ArtifactUpdate

from ytmaker.context import Context
from ytmaker.progress import Stage, sent_at
from ytmaker.quota import QuotaReading, markdown_table, warnings_for
from ytmaker.summary import project_summary

log = logging.getLogger(__name__)
NO_ERROR = ("COMPLETED", "AWAITING_REVIEW", "REVIEW_EXPIRED", "REJECTED")
STAGE_ORDER = [Stage.SCRIPT, Stage.ASSETS, Stage.RENDER, Stage.THUMBNAIL, Stage.UPLOAD]
STAGE_LABELS = {
    Stage.SCRIPT: "1/5 腳本 script",
    Stage.ASSETS: "2/5 素材 assets",
    Stage.RENDER: "3/5 合成 render",
    Stage.THUMBNAIL: "4/5 縮圖 thumbnail",
    Stage.UPLOAD: "5/5 上傳 upload",
}
POLL_SECONDS = 1.0
_INSTRUMENTED = "_ytmaker_instrumented"


# --- names and tags ----------------------------------------------------------------------------


def slug(text: str, length: int = 40) -> str:
    """Lower-case words joined by dashes; letters of any script are kept (早餐店 stays)."""
    return re.sub(r"[\W_]+", "-", text.lower()).strip("-")[:length].strip("-")


def video_run_name_for(project_id: int) -> str:
    try:
        name = Context.create().repo.get_project(int(project_id)).name
    except Exception:  # noqa: BLE001 - an unknown project fails in the flow, not in its name
        return f"video-{project_id}"
    return "-".join(part for part in ("video", str(project_id), slug(name)) if part)


def video_run_name() -> str:
    """Prefect's `flow_run_name` callable: `video-{project_id}-{slug}`."""
    from prefect.runtime import flow_run

    return video_run_name_for(flow_run.parameters.get("project_id", "unknown"))


def project_tags(project_id: int) -> list[str]:
    """`lang:zh-TW`, and `batch:3` for a project of batch 3."""
    try:
        project = Context.create().repo.get_project(int(project_id))
    except Exception:  # noqa: BLE001
        return []
    tags = [f"lang:{project.language}"]
    if project.batch_id is not None:
        tags.append(f"batch:{project.batch_id}")
    return tags


# --- the progress artifact -----------------------------------------------------------------------


def overall_progress(message: dict[str, Any]) -> float | None:
    """0-100 over the five stages, from one progress message (None for an error)."""
    stage = message.get("stage")
    if stage not in STAGE_ORDER:
        return None
    index = STAGE_ORDER.index(Stage(stage))
    return round((index * 100 + float(message.get("progress") or 0)) / len(STAGE_ORDER), 1)


def describe(message: dict[str, Any]) -> str:
    stage = message.get("stage")
    if stage == Stage.ERROR:
        return f"**失敗 failed**: {message.get('message', '')}"
    label = STAGE_LABELS.get(stage, stage)
    return f"**{label}** {float(message.get('progress') or 0):.0f}% — {message.get('message', '')}"


class ProgressWatcher:
    """Mirrors a project's progress (the Redis `latest` message) into a progress artifact."""

    def __init__(self, flow_run_id: UUID, project_id: int) -> None:
        self.flow_run_id, self.project_id = flow_run_id, project_id
        self.started = time.monotonic()
        now = datetime.now(UTC)
        self.started_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as messages
        self.stop = threading.Event()
        self.artifact_id: UUID | None = None
        self.value = 0.0
        self.last: dict[str, Any] | None = None
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run, args=(self._run,), name=f"progress-{project_id}", daemon=True
        )

    def start(self) -> ProgressWatcher:
        try:
            with get_client(sync_client=True) as client:
                artifact = client.create_artifact(
                    ArtifactCreate(
                        key=f"video-{self.project_id}-progress",
                        type="progress",
                        data=0.0,
                        description=f"Project {self.project_id}: 開始 starting",
                        flow_run_id=self.flow_run_id,
                    )
                )
            self.artifact_id = artifact.id
        except Exception:  # noqa: BLE001
            log.warning("Could not create the progress artifact", exc_info=True)
            return self
        self.thread.start()
        return self

    def _run(self) -> None:
        bus = Context.create().bus
        while not self.stop.wait(POLL_SECONDS):
            self._mirror(bus.latest(self.project_id))

    def _mirror(self, message: dict[str, Any] | None) -> None:
        if not message or message == self.last or not self._this_run(message):
            return
        self.last = message
        value = overall_progress(message)
        if value is not None:
            self.value = max(self.value, value)
        self.update(self.value, describe(message))

    def _this_run(self, message: dict[str, Any]) -> bool:
        """Redis keeps a project's last message for days: one from before this run (an earlier
        run, or a project of an older database with the same id) is not this run's progress."""
        sent = sent_at(message)
        return sent is not None and sent >= self.started_at

    def update(self, value: float, description: str) -> None:
        if self.artifact_id is None:
            return
        try:
            with get_client(sync_client=True) as client:
                client.update_artifact(
                    self.artifact_id, ArtifactUpdate(data=value, description=description)
                )
        except Exception:  # noqa: BLE001
            log.warning("Could not update the progress artifact", exc_info=True)

    def finish(self, ok: bool, error: str | None = None) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        if ok:
            self.update(100.0, "**完成 completed**")
        else:
            self.update(self.value, f"**失敗 failed**: {error or 'see the logs'}")


_watchers: dict[UUID, ProgressWatcher] = {}
_watchers_lock = threading.Lock()


# --- hooks -------------------------------------------------------------------------------------


def on_video_running(flow: Any, flow_run: Any, state: Any) -> None:
    """Tag the run by language and batch and start its progress artifact."""
    project_id = flow_run.parameters.get("project_id")
    if project_id is None:
        return
    with _watchers_lock:
        if flow_run.id in _watchers:  # on_running also fires for Retrying
            return
        _watchers[flow_run.id] = watcher = ProgressWatcher(flow_run.id, int(project_id))
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
            watcher._mirror(Context.create().bus.latest(int(project_id)))
        watcher.finish(ok, None if ok else (state.message or state.name))
    try:
        result = project_summary(Context.create(), int(project_id))
    except Exception as exc:  # noqa: BLE001
        result = {"project_id": project_id, "status": "UNKNOWN", "error": {"message": str(exc)}}
    markdown = summary_markdown(result, elapsed, state_name=state.name, state_message=state.message)
    try:
        with get_client(sync_client=True) as client:
            client.create_artifact(
                ArtifactCreate(
                    key=f"video-{int(project_id)}-summary",
                    type="markdown",
                    data=markdown,
                    description=f"Project {project_id}: {result.get('status')}",
                    flow_run_id=flow_run.id,
                )
            )
    except Exception:  # noqa: BLE001
        log.warning("Could not create the summary artifact", exc_info=True)


def instrument(video_flow: Flow) -> Flow:
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


# --- markdown ------------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(float(value), 60)
    return f"{int(minutes)}:{seconds:04.1f} ({value:.1f} s)"


def summary_markdown(
    result: dict[str, Any],
    run_seconds: float | None = None,
    *,
    state_name: str | None = None,
    state_message: str | None = None,
) -> str:
    status = result.get("status")
    icon = {"COMPLETED": "✅", "AWAITING_REVIEW": "⏸️", "REVIEW_EXPIRED": "⏸️", "REJECTED": "🚫"}
    icon = icon.get(str(status), "❌")
    title = result.get("title") or result.get("name") or f"Project {result.get('project_id')}"
    rows = [
        ("project", f"{result.get('project_id')} — {result.get('name', '')}"),
        ("status", f"{icon} {status}" + (f" (run {state_name})" if state_name else "")),
        ("language", result.get("language")),
        ("video length", _seconds(result.get("duration"))),
        ("run time", _seconds(run_seconds)),
        ("video", _code(result.get("video_path"))),
        ("thumbnail", _code(result.get("thumbnail_path"))),
        ("video id", result.get("video_id")),
        ("video URL", _link(result.get("video_url"))),
        ("partial", _replaced(result.get("replaced"))),
    ]
    lines = [f"# {title}", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows if value not in (None, "", "-")]
    error = result.get("error")
    if error or (status not in NO_ERROR and state_message):
        error = error or {}
        lines += [
            "",
            "## Error",
            "",
            f"- code: `{error.get('code', '-')}`",
            f"- stage: `{error.get('stage', '-')}`",
            f"- message: {_cell(error.get('message') or state_message or '')}",
        ]
        for key in ("field", "segment_index", "provider", "retryable"):
            if error.get(key) is not None:
                lines.append(f"- {key}: `{error[key]}`")
    return "\n".join(lines) + "\n"


def _replaced(replaced: list[dict[str, Any]] | None) -> str | None:
    """Which images are placeholders, and why."""
    if not replaced:
        return None
    return "placeholder images: " + ", ".join(
        f"segment {r['segment_index']} (`{r['code']}`)" for r in replaced
    )


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(path: Any) -> str | None:
    return f"`{path}`" if path else None


def _link(url: Any) -> str | None:
    return f"[{url}]({url})" if url else None


# --- batch and quota artifacts (inside their flows) -----------------------------------------------


def batch_progress_create(batch_id: int, total: int) -> UUID | None:
    try:
        return create_progress_artifact(
            0.0, key=f"batch-{batch_id}-progress", description=f"0/{total} projects finished"
        )
    except Exception:  # noqa: BLE001
        log.warning("Could not create the batch progress artifact", exc_info=True)
        return None


def batch_progress_update(
    artifact_id: UUID | None, done: int, total: int, completed: int, failed: int
) -> None:
    if artifact_id is None:
        return
    try:
        with get_client(sync_client=True) as client:
            client.update_artifact(
                artifact_id,
                ArtifactUpdate(
                    data=round(done / max(total, 1) * 100, 1),
                    description=(
                        f"{done}/{total} projects finished: {completed} completed, {failed} failed"
                    ),
                ),
            )
    except Exception:  # noqa: BLE001
        log.warning("Could not update the batch progress artifact", exc_info=True)


def batch_summary_markdown(summary: dict[str, Any], names: dict[int, str]) -> str:
    lines = [
        f"# Batch {summary['batch_id']}: {summary.get('name', '')}",
        "",
        f"**{summary['status']}** — {summary['completed']} completed, {summary['failed']} failed, "
        f"{summary['total_projects']} in all",
        "",
        "| project | name | status | video id / error |",
        "|---:|---|---|---|",
    ]
    for item in summary["results"]:
        detail = item.get("video_id") if "video_id" in item else item.get("error")
        detail = item.get("waiting", item.get("rejected", detail))
        if item.get("partial"):
            detail = f"{detail or ''} ({_replaced(item['replaced'])})"
        lines.append(
            f"| {item['project_id']} | {_cell(names.get(item['project_id'], ''))} | "
            f"{item['status']} | {_cell(detail or '')} |"
        )
    return "\n".join(lines) + "\n"


def batch_summary_artifact(summary: dict[str, Any], names: dict[int, str]) -> None:
    try:
        create_markdown_artifact(
            batch_summary_markdown(summary, names),
            key=f"batch-{summary['batch_id']}-summary",
            description=f"Batch {summary['batch_id']}: {summary['status']}",
        )
    except Exception:  # noqa: BLE001
        log.warning("Could not create the batch summary artifact", exc_info=True)


def quota_artifacts(readings: list[QuotaReading], threshold: float) -> list[str]:
    """A `quota-usage` table each run, and a `quota-warning` when a service is over."""
    warnings = warnings_for(readings, threshold)
    try:
        create_markdown_artifact(
            "# Quota usage\n\n" + markdown_table(readings, threshold) + "\n",
            key="quota-usage",
            description="Hourly quota sync",
        )
        if warnings:
            create_markdown_artifact(
                f"# ⚠️ Quota above {threshold:g}%\n\n"
                + "\n".join(f"- {w}" for w in warnings)
                + "\n\n"
                + markdown_table(readings, threshold)
                + "\n",
                key="quota-warning",
                description="; ".join(warnings),
            )
    except Exception:  # noqa: BLE001
        log.warning("Could not create the quota artifacts", exc_info=True)
    return warnings
