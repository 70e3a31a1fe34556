"""The hourly quota sync: read each metered service, store the readings, warn when high."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task

from flows.artifacts import quota_artifacts, stats_artifacts
from ytmaker import quota
from ytmaker.bootstrap import bootstrap
from ytmaker.config import get_settings


def _run_name() -> str:
    return "quota-" + datetime.now(quota.TAIPEI).strftime("%Y%m%d-%H%M")


@task(name="read-quota", task_run_name="read-{service}")
def read_quota(service: str) -> dict[str, Any]:
    """One service's reading; a service that cannot be read reports its error, never fails."""
    return quota.read_service(bootstrap(), service).to_dict()


@task(name="store-quota")
def store_quota(readings: list[dict[str, Any]]) -> dict[str, bool]:
    """`quota:{service}` in Redis (1 h expiry) and a snapshot row per service."""
    return quota.store(bootstrap(), [quota.QuotaReading(**r) for r in readings])


@task(name="publish-stats")
def publish_stats() -> dict[str, Any]:
    """The week's `ytmaker stats` as a table artifact, and its chart as a markdown one."""
    from ytmaker import charts, stats

    ctx = bootstrap()
    window = stats.Window(datetime.now(UTC) - timedelta(days=7))
    figures = stats.gather(ctx.repo, window)
    projects, rows = stats.load(ctx.repo, window)
    stats_artifacts(figures, charts.png(projects, rows))
    return figures["videos"]


@flow(name="quota-sync", flow_run_name=_run_name)
def quota_sync() -> dict[str, Any]:
    """Read D-ID credits, YouTube units spent today and the Gemini/Stability calls we counted;
    attach the week's figures (`ytmaker stats`) and their chart."""
    logger = get_run_logger()
    settings = get_settings()
    readings = [read_quota(service) for service in quota.SERVICES]
    stored = store_quota(readings)
    parsed = [quota.QuotaReading(**r) for r in readings]
    warnings = quota_artifacts(parsed, settings.quota_warn_percent)
    for warning in warnings:
        logger.warning("Quota above %g%%: %s", settings.quota_warn_percent, warning)
    for reading in parsed:
        logger.info(
            "%s: %g %s used%s (%s)",
            reading.service,
            reading.used,
            reading.unit,
            "" if reading.percent is None else f", {reading.percent:.1f}%",
            reading.error or reading.source,
        )
    videos = publish_stats()
    return {"readings": readings, "warnings": warnings, "stored": stored, "videos": videos}
