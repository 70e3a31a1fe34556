"""The work pool's figures for /metrics, from the Prefect API: its queue, its workers, the
image slots in use (the database's figures are ytmaker/metrics.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient


class PoolCollector(Collector):
    """The work pool's queue, its workers and the image slots in use, from the Prefect API;
    `ytmaker_prefect_up` is 0 (and the rest absent) when the API does not answer."""

    def __init__(self, pool: str) -> None:
        self.pool = pool
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("ytmaker_prefect_up", "1 when the Prefect API answered")
        try:
            with self._lock:
                families = list(self._read())
        except Exception:  # noqa: BLE001 - a scrape reports the API as down, never fails
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL

        from tasks.limits import IMAGES_IN_FLIGHT

        if not PREFECT_API_URL.value():  # no server to ask (the CLI's API runs per command)
            raise LookupError("PREFECT_API_URL is not set")

        queue = GaugeMetricFamily(
            "ytmaker_pool_runs",
            "Flow runs of the work pool: due and not started (Scheduled, Late), Pending, Running",
            labels=["pool", "state"],
        )
        with get_client(sync_client=True) as client:
            for state, count in pool_counts(client, self.pool).items():
                queue.add_metric([self.pool, state], count)
            workers = client.read_workers_for_work_pool(self.pool)
            online = sum(1 for w in workers if str(w.status).upper().endswith("ONLINE"))
            limit = client.read_global_concurrency_limit_by_name(IMAGES_IN_FLIGHT)
        yield queue
        yield _gauge("ytmaker_workers_online", "Workers of the pool online", online, self.pool)
        yield _gauge("ytmaker_images_in_flight", "Image slots in use", limit.active_slots)
        yield _gauge("ytmaker_image_slots", "YTMAKER_IMAGE_CONCURRENCY (the slots)", limit.limit)


def pool_counts(client: SyncPrefectClient, pool: str) -> dict[str, int]:
    """Runs of the pool per state; `Scheduled` only those due (the hourly schedule makes
    upcoming runs that are no backlog)."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateName,
        WorkPoolFilter,
        WorkPoolFilterName,
    )

    in_pool = WorkPoolFilter(name=WorkPoolFilterName(any_=[pool]))
    now = datetime.now(UTC)
    counts: dict[str, int] = {}
    for state in ("Scheduled", "Late", "Pending", "Running"):
        due = FlowRunFilterExpectedStartTime(before_=now) if state == "Scheduled" else None
        runs = FlowRunFilter(
            state=FlowRunFilterState(name=FlowRunFilterStateName(any_=[state])),
            **({"expected_start_time": due} if due else {}),
        )
        counts[state] = client.count_flow_runs(flow_run_filter=runs, work_pool_filter=in_pool)
    return counts


def _gauge(
    name: str, documentation: str, value: float, pool: str | None = None
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["pool"] if pool else [])
    family.add_metric([pool] if pool else [], value)
    return family
