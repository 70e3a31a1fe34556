"""Prefect artifacts of our runs: the video's live progress, the batch's progress and summary,
the quota tables. Artifact trouble is logged and never fails a video.

A run shows one card per artifact: `keep` updates the run's artifact of that key in place (also
after the run was suspended and started again in a new process) instead of adding a version.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate, ArtifactUpdate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.runtime import flow_run

from ytmaker import markup
from ytmaker.bootstrap import bootstrap
from ytmaker.progress import sent_at
from ytmaker.quota import QuotaReading, markdown_table, warnings_for
from ytmaker.reports import (
    batch_summary_markdown,
    describe,
    overall_progress,
    stats_markdown,
    words,
)
from ytmaker.stats import table_rows

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
_kept: dict[tuple[UUID, str], UUID] = {}  # (flow run, key) -> artifact id, in this process
_kept_lock = threading.Lock()


def keep(
    key: str,
    kind: str,
    data: Any,
    description: str,
    flow_run_id: UUID | None = None,
) -> UUID | None:
    """Show `data` as the run's artifact `key` (`kind`: markdown, progress, table): created the
    first time, updated in place after. None when the artifact could not be written."""
    run_id = flow_run_id or _current_run()
    try:
        with get_client(sync_client=True) as client:
            found = _kept_id(client, run_id, key) if run_id else None
            if found is not None:
                client.update_artifact(found, ArtifactUpdate(data=data, description=description))
                return found
            made = client.create_artifact(
                ArtifactCreate(
                    key=key, type=kind, data=data, description=description, flow_run_id=run_id
                )
            ).id
    except Exception:  # noqa: BLE001 - artifact trouble never fails a video
        log.warning("Could not write the artifact %s", key, exc_info=True)
        return None
    if run_id is not None:
        with _kept_lock:
            _kept[(run_id, key)] = made
    return made


def _current_run() -> UUID | None:
    run_id = flow_run.get_id()
    return UUID(str(run_id)) if run_id else None


def _kept_id(client: Any, run_id: UUID, key: str) -> UUID | None:
    """This run's artifact `key`: known here, or on the server (a run started again)."""
    with _kept_lock:
        if (run_id, key) in _kept:
            return _kept[(run_id, key)]
    found = client.read_artifacts(
        artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]), key=ArtifactFilterKey(any_=[key])
        ),
        limit=1,
    )
    if not found:
        return None
    with _kept_lock:
        _kept[(run_id, key)] = found[0].id
    return found[0].id


class ProgressWatcher:
    """Mirrors a project's progress (the Redis `latest` message) into a progress artifact."""

    def __init__(
        self, flow_run_id: UUID, project_id: int, key: str | None = None, language: str = "zh-TW"
    ) -> None:
        self.flow_run_id, self.project_id = flow_run_id, project_id
        self.key = key or f"video-{project_id}-progress"
        self.language = language
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
        self.artifact_id = keep(
            self.key,
            "progress",
            0.0,
            f"Project {self.project_id}: {words(self.language)['starting']}",
            self.flow_run_id,
        )
        if self.artifact_id is not None:
            self.thread.start()
        return self

    def _run(self) -> None:
        bus = bootstrap().bus
        while not self.stop.wait(POLL_SECONDS):
            self.mirror(bus.latest(self.project_id))

    def mirror(self, message: dict[str, Any] | None) -> None:
        """Show `message` if it is new and this run's (the hook calls it once more at the end)."""
        if not message or message == self.last or not self._this_run(message):
            return
        self.last = message
        value = overall_progress(message)
        if value is not None:
            self.value = max(self.value, value)
        self.update(self.value, describe(message, self.language))

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

    def finish_with(
        self, last: dict[str, Any] | None, ok: bool, error: str | None, *, waiting: bool = False
    ) -> None:
        """The last message (if the poll missed it), then the end."""
        self.mirror(last)
        self.finish(ok, None if ok else error, waiting=waiting)

    def finish(self, ok: bool, error: str | None = None, *, waiting: bool = False) -> None:
        """`waiting`: the video waits for a person before its upload (not complete yet)."""
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        said = words(self.language)
        if ok and waiting:
            self.update(self.value, f"**{said['waiting']}**")
        elif ok:
            self.update(100.0, f"**{said['completed']}**")
        else:
            shown = markup.text(error) if error else said["see_logs"]
            self.update(self.value, f"**{said['failed']}**: {shown}")


def batch_progress_create(batch_id: int, total: int) -> str:
    """The batch's progress bar, on this run and on the run that started it (a `new-batch`
    run from the UI shows it on its own page); returns its key for the updates."""
    key = f"batch-{batch_id}-progress"
    batch_progress_update(key, 0, total, 0, 0)
    return key


def batch_progress_update(key: str, done: int, total: int, completed: int, failed: int) -> None:
    value = round(done / max(total, 1) * 100, 1)
    said = f"{done}/{total} projects finished: {completed} completed, {failed} failed"
    for run_id in (_current_run(), _parent_run()):
        if run_id is not None:
            keep(key, "progress", value, said, run_id)


def _parent_run() -> UUID | None:
    parent = flow_run.parent_flow_run_id
    return UUID(str(parent)) if parent else None


def batch_summary_artifact(summary: dict[str, Any], names: dict[int, str]) -> None:
    keep(
        f"batch-{summary['batch_id']}-summary",
        "markdown",
        batch_summary_markdown(summary, names),
        f"Batch {summary['batch_id']}: {markup.text(summary['status'])}",
    )


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
                + "\n".join(f"- {markup.text(w)}" for w in warnings)
                + "\n\n"
                + markdown_table(readings, threshold)
                + "\n",
                key="quota-warning",
                description=markup.text("; ".join(warnings)),
            )
    except Exception:  # noqa: BLE001
        log.warning("Could not create the quota artifacts", exc_info=True)
    return warnings


def stats_artifacts(figures: dict[str, Any], chart: bytes) -> None:
    """`ytmaker-stats`: the per-stage table; `ytmaker-stats-chart`: the chart and the targets
    (what `ytmaker stats` prints, for whoever looks in the UI)."""
    try:
        create_table_artifact(
            table=table_rows(figures),
            key="ytmaker-stats",
            description=f"Per stage since {markup.text(figures['since'])} (ytmaker stats)",
        )
        create_markdown_artifact(
            stats_markdown(figures, chart),
            key="ytmaker-stats-chart",
            description="Time per stage and success rate (ytmaker stats --chart)",
        )
    except Exception:  # noqa: BLE001
        log.warning("Could not create the stats artifacts", exc_info=True)
