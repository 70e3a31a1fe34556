"""Prefect artifacts of our runs: the video's live progress, the batch's progress and summary,
the quota tables. Artifact trouble is logged and never fails a video."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
)
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate, ArtifactUpdate

from ytmaker.bootstrap import bootstrap
from ytmaker.progress import sent_at
from ytmaker.quota import QuotaReading, markdown_table, warnings_for
from ytmaker.reports import batch_summary_markdown, describe, overall_progress, stats_markdown
from ytmaker.stats import table_rows

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


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


def batch_progress_create(batch_id: int, total: int) -> UUID | None:
    try:
        # sync code: Prefect's async_dispatch gives the value, not a coroutine (so below)
        return create_progress_artifact(  # type: ignore[return-value]
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


def stats_artifacts(figures: dict[str, Any], chart: bytes) -> None:
    """`ytmaker-stats`: the per-stage table; `ytmaker-stats-chart`: the chart and the targets
    (what `ytmaker stats` prints, for whoever looks in the UI)."""
    try:
        create_table_artifact(
            table=table_rows(figures),
            key="ytmaker-stats",
            description=f"Per stage since {figures['since']} (ytmaker stats)",
        )
        create_markdown_artifact(
            stats_markdown(figures, chart),
            key="ytmaker-stats-chart",
            description="Time per stage and success rate (ytmaker stats --chart)",
        )
    except Exception:  # noqa: BLE001
        log.warning("Could not create the stats artifacts", exc_info=True)
