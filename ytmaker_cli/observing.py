"""What an operator asks of many runs: `ytmaker stats` (figures, targets, a chart) and
`ytmaker metrics serve` (Prometheus)."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ytmaker.terminal import json_line, literal
from ytmaker_cli.app import app, context, fail, screen

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

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


def start_metrics_server(host: str, port: int, pool: str) -> tuple[WSGIServer, threading.Thread]:
    """The exporter in a thread: the database's figures, and the pool's when Prefect answers."""
    from prometheus_client import CollectorRegistry, start_http_server

    from ytmaker.metrics import DatabaseCollector
    from ytmaker_cli.pool_metrics import PoolCollector

    registry = CollectorRegistry()
    registry.register(DatabaseCollector(context().repo))
    registry.register(PoolCollector(pool))
    return start_http_server(port, addr=host, registry=registry)


def _backlog(pool: str) -> int | None:
    """Runs of the pool due and not started (Scheduled, Late, Pending), or None without a
    Prefect server to ask."""
    if not os.environ.get("PREFECT_API_URL"):  # not even importing Prefect then
        return None
    from prefect.client.orchestration import get_client

    from ytmaker_cli.pool_metrics import pool_counts

    try:
        with get_client(sync_client=True) as client:
            counts = pool_counts(client, pool)
    except Exception:  # noqa: BLE001 - the figures from the database stand on their own
        return None
    return counts["Scheduled"] + counts["Late"] + counts["Pending"]
