"""Prometheus figures read from the database at each scrape: right with any number of workers
(they all write the same database), and unchanged by a restart of the exporter.

Counters are counts of rows (videos by final status, retries); histograms are built from the
`timings` rows. The work pool's figures come from the Prefect API (ytmaker_cli/metrics.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from ytmaker import quota
from ytmaker.db import Repository
from ytmaker.models import Project, ProjectStatus, Timing
from ytmaker.stats import retries, video_spans

FINAL = (
    ProjectStatus.COMPLETED,
    ProjectStatus.FAILED,
    ProjectStatus.REJECTED,
    ProjectStatus.REVIEW_EXPIRED,
)
STAGE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
VIDEO_BUCKETS = (60, 120, 300, 600, 900, 1200, 1500, 1800, 2700, 3600, 7200)


class DatabaseCollector(Collector):
    """Videos, stage and end-to-end durations, retries and quota, from our database."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def collect(self) -> Iterator[Metric]:
        with self.repo.session() as session:
            projects = list(session.scalars(select(Project)))
            rows = list(session.scalars(select(Timing).where(Timing.outcome != "cached")))
            by_status = session.execute(
                select(Project.status, func.count()).group_by(Project.status)
            ).all()
        yield _videos(projects)
        yield _projects_by_status(by_status)
        yield _histogram(
            "ytmaker_stage_duration_seconds",
            "Seconds of each stage attempt that did its work",
            ((r.stage, r.seconds) for r in rows if r.asset is None and r.outcome == "ok"),
            STAGE_BUCKETS,
            "stage",
        )
        spans = video_spans(projects, rows)
        yield _histogram(
            "ytmaker_video_duration_seconds",
            "Seconds from a completed video's first stage start to its last stage end",
            (("all", end - start) for start, end in spans.values()),
            VIDEO_BUCKETS,
            None,
        )
        yield _retries(rows)
        yield from _quota(self.repo)


def _videos(projects: Iterable[Project]) -> CounterMetricFamily:
    family = CounterMetricFamily(
        "ytmaker_videos",
        "Videos that reached a final status, by status and error code",
        labels=["status", "error_code"],
    )
    counts = Counter(
        (
            p.status.value,
            (p.error_info or {}).get("code", "") if p.status is ProjectStatus.FAILED else "",
        )
        for p in projects
        if p.status in FINAL
    )
    for (status, code), n in sorted(counts.items()):
        family.add_metric([status, code], n)
    return family


def _projects_by_status(rows: Iterable[tuple[ProjectStatus, int]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "ytmaker_projects", "Projects by their current status", labels=["status"]
    )
    for status, n in sorted(rows, key=lambda r: r[0].value):
        family.add_metric([status.value], n)
    return family


def _histogram(
    name: str,
    documentation: str,
    values: Iterable[tuple[str, float]],
    buckets: tuple[float, ...],
    label: str | None,
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=[label] if label else [])
    grouped: dict[str, list[float]] = {}
    for key, value in values:
        grouped.setdefault(key, []).append(value)
    for key, observed in sorted(grouped.items()):
        cumulative = [(str(b), float(sum(s <= b for s in observed))) for b in buckets]
        cumulative.append(("+Inf", float(len(observed))))
        family.add_metric([key] if label else [], cumulative, sum_value=float(sum(observed)))
    return family


def _retries(rows: Iterable[Timing]) -> CounterMetricFamily:
    """Calls tried again, by the service called (a stage's own retry counts under its stage)."""
    family = CounterMetricFamily(
        "ytmaker_retries", "Attempts that failed and were tried again", labels=["service", "stage"]
    )
    for (service, stage), n in sorted(retries(rows).items()):
        family.add_metric([service, stage], n)
    return family


def _quota(repo: Repository) -> Iterator[Metric]:
    used = GaugeMetricFamily(
        "ytmaker_quota_used", "Quota used per service (the last sync)", labels=["service", "unit"]
    )
    ratio = GaugeMetricFamily(
        "ytmaker_quota_used_ratio",
        "Share of the quota used per service (where the limit is known)",
        labels=["service"],
    )
    age = GaugeMetricFamily(
        "ytmaker_quota_reading_age_seconds", "Seconds since the reading", labels=["service"]
    )
    now = datetime.now(UTC)
    for snapshot in quota.latest_snapshots(repo):
        used.add_metric([snapshot.service, snapshot.unit], snapshot.used)
        if snapshot.percent is not None:
            ratio.add_metric([snapshot.service], snapshot.percent / 100)
        taken = (
            snapshot.taken_at if snapshot.taken_at.tzinfo else snapshot.taken_at.replace(tzinfo=UTC)
        )
        age.add_metric([snapshot.service], (now - taken).total_seconds())
    yield from (used, ratio, age)
