"""What an operator asks of many runs: `ytmaker stats` (figures, targets, a chart) and
`ytmaker metrics serve` (Prometheus)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ytmaker.terminal import json_line, literal
from ytmaker_cli.app import app, context, fail, screen

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

metrics_app = typer.Typer(help="Prometheus metrics.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")
POOL = "ytmaker-pool"


@app.command("stats")
def stats_command(
    since: Annotated[str, typer.Option(help="The period to look at: 30m, 12h, 7d, 2w.")] = "7d",
    batch: Annotated[int | None, typer.Option(help="Only the projects of this batch.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    chart: Annotated[
        Path | None, typer.Option(help="Also draw the chart into this PNG file.")
    ] = None,
) -> None:
    """Where the time goes and what fails: per stage p50/p95, retries, success rate, targets."""
    from ytmaker import stats

    try:
        window = stats.Window(datetime.now(UTC) - stats.parse_since(since), batch)
    except ValueError as exc:
        fail(f"--since: {exc}")
    ctx = context()
    figures = stats.gather(ctx.repo, window)
    pool = os.environ.get("YTMAKER_WORK_POOL", POOL)
    waiting = _backlog(pool)
    if waiting is not None:  # a server to ask (make up, compose): its queue is a target too
        figures["queue"] = {"pool": pool, "waiting": waiting}
        figures["targets"].append(stats.queue_target(pool, waiting))
    if chart is not None:
        from ytmaker import charts

        projects, rows = stats.load(ctx.repo, window)
        figures["chart"] = str(charts.draw(projects, rows, chart))
    if as_json:
        print(json_line(figures))
        return
    for line in stats.text(figures).splitlines():
        screen.out.print(literal(line), soft_wrap=True)
    if chart is not None:
        screen.err.print(literal(f"Chart: {chart}"))


@metrics_app.command("serve")
def metrics_serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="The port of /metrics.")] = 9464,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    pool: Annotated[
        str, typer.Option(help="The work pool whose queue is counted.")
    ] = os.environ.get("YTMAKER_WORK_POOL", POOL),
) -> None:
    """Serve /metrics in the Prometheus text format until stopped (Ctrl-C)."""
    server, thread = start_metrics_server(host, port, pool)
    screen.err.print(literal(f"Serving http://{host}:{server.server_port}/metrics (Ctrl-C stops)"))
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()


def start_metrics_server(host: str, port: int, pool: str):  # noqa: ANN201 - (server, thread)
    """The exporter in a thread: the database's figures, and the pool's when Prefect answers."""
    from prometheus_client import CollectorRegistry, start_http_server

    from ytmaker.metrics import DatabaseCollector

    registry = CollectorRegistry()
    registry.register(DatabaseCollector(context().repo))
    registry.register(PoolCollector(pool))
    return start_http_server(port, addr=host, registry=registry)


class PoolCollector:
    """The work pool's queue, its workers and the image slots in use, from the Prefect API;
    `ytmaker_prefect_up` is 0 (and the rest absent) when the API does not answer."""

    def __init__(self, pool: str) -> None:
        self.pool = pool
        self._lock = threading.Lock()

    def collect(self) -> Iterator[object]:
        from prometheus_client.core import GaugeMetricFamily

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

    def _read(self) -> Iterator[object]:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL
        from prometheus_client.core import GaugeMetricFamily

        from tasks.limits import IMAGES_IN_FLIGHT

        if not PREFECT_API_URL.value():  # no server to ask (the CLI's API runs per command)
            raise LookupError("PREFECT_API_URL is not set")

        queue = GaugeMetricFamily(
            "ytmaker_pool_runs",
            "Flow runs of the work pool: due and not started (Scheduled, Late), Pending, Running",
            labels=["pool", "state"],
        )
        with get_client(sync_client=True) as client:
            for state, count in _pool_counts(client, self.pool).items():
                queue.add_metric([self.pool, state], count)
            workers = client.read_workers_for_work_pool(self.pool)
            online = sum(1 for w in workers if str(w.status).upper().endswith("ONLINE"))
            limit = client.read_global_concurrency_limit_by_name(IMAGES_IN_FLIGHT)
        yield queue
        yield _gauge("ytmaker_workers_online", "Workers of the pool online", online, self.pool)
        yield _gauge("ytmaker_images_in_flight", "Image slots in use", limit.active_slots)
        yield _gauge("ytmaker_image_slots", "YTMAKER_IMAGE_CONCURRENCY (the slots)", limit.limit)


def _backlog(pool: str) -> int | None:
    """Runs of the pool due and not started (Scheduled, Late, Pending), or None without a
    Prefect server to ask."""
    if not os.environ.get("PREFECT_API_URL"):  # not even importing Prefect then
        return None
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            counts = _pool_counts(client, pool)
    except Exception:  # noqa: BLE001 - the figures from the database stand on their own
        return None
    return counts["Scheduled"] + counts["Late"] + counts["Pending"]


def _pool_counts(client: SyncPrefectClient, pool: str) -> dict[str, int]:
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
    counts = {}
    for state in ("Scheduled", "Late", "Pending", "Running"):
        due = FlowRunFilterExpectedStartTime(before_=now) if state == "Scheduled" else None
        runs = FlowRunFilter(
            state=FlowRunFilterState(name=FlowRunFilterStateName(any_=[state])),
            **({"expected_start_time": due} if due else {}),
        )
        counts[state] = client.count_flow_runs(flow_run_filter=runs, work_pool_filter=in_pool)
    return counts


def _gauge(name: str, documentation: str, value: float, pool: str | None = None) -> object:
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(name, documentation, labels=["pool"] if pool else [])
    family.add_metric([pool] if pool else [], value)
    return family
