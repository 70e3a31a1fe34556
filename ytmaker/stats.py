"""What fails, where the time goes: figures over the `timings` rows and the projects, beside the
targets the design sets (success above 95 %, a video in under 25 minutes, CPU under 80 %)."""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from ytmaker.db import Repository
from ytmaker.models import Project, ProjectStatus, Timing
from ytmaker.stages import STAGES

SERVICE_STAGES = ("script", "assets", "upload")
RENDER_STAGES = ("render", "thumbnail")
TARGETS = {"success_rate": 0.95, "mean_end_to_end_seconds": 25 * 60, "cpu_percent": 80.0}
_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """`30m`, `12h`, `7d`, `2w`; anything else is a ValueError saying what to write."""
    match = _SINCE.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a period: write e.g. 30m, 12h, 7d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class Window:
    since: datetime
    batch_id: int | None = None


def load(repo: Repository, window: Window) -> tuple[list[Project], list[Timing]]:
    """The projects touched since `window.since` (of one batch, if given) and their rows."""
    with repo.session() as session:
        query = select(Project).where(Project.updated_at >= window.since)
        if window.batch_id is not None:
            query = query.where(Project.batch_id == window.batch_id)
        projects = list(session.scalars(query.order_by(Project.id)))
        ids = [p.id for p in projects]
        rows = list(
            session.scalars(
                select(Timing)
                .where(Timing.project_id.in_(ids), Timing.started_at >= window.since)
                .order_by(Timing.id)
            )
        )
    return projects, rows


def gather(repo: Repository, window: Window, cpus: int | None = None) -> dict[str, Any]:
    """Every figure `ytmaker stats` prints (and `--json` returns)."""
    projects, rows = load(repo, window)
    cpus = cpus or os.cpu_count() or 1
    stage_rows = [r for r in rows if r.asset is None]
    figures: dict[str, Any] = {
        "since": window.since.astimezone(UTC).isoformat(timespec="seconds"),
        "batch_id": window.batch_id,
        "videos": videos(projects),
        "end_to_end": end_to_end(projects, rows),
        "stages": {s.name: stage(s.name, stage_rows, cpus) for s in STAGES},
        "time_share": time_share(rows),
        "retries_by_service": _by_service(retries(rows)),
        "retries_by_stage": dict(
            sorted(Counter(r.stage for r in stage_rows if r.outcome == "retry").items())
        ),
    }
    figures["targets"] = targets(figures)
    return figures


def retries(rows: Iterable[Timing]) -> Counter[tuple[str, str]]:
    """Failed attempts that were tried again, by (service, stage): a call to a service names
    it; a stage retried for a cause of its own (FFmpeg, the disk) counts under the stage with
    no service. A stage retried because its call failed counts once, as the call."""
    rows = list(rows)
    calls = {
        (r.project_id, r.stage, r.attempt)
        for r in rows
        if r.asset is not None and r.outcome == "retry"
    }
    counts: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if r.outcome != "retry":
            continue
        if r.asset is not None:
            counts[(r.service or "", r.stage)] += 1
        elif (r.project_id, r.stage, r.attempt) not in calls:
            counts[("", r.stage)] += 1
    return counts


def _by_service(counts: Counter[tuple[str, str]]) -> dict[str, int]:
    merged: Counter[str] = Counter()
    for (service, stage), n in counts.items():
        merged[service or f"stage {stage}"] += n
    return dict(sorted(merged.items()))


def videos(projects: Iterable[Project]) -> dict[str, Any]:
    """COMPLETED over finished (COMPLETED or FAILED); FAILED by error code."""
    statuses = Counter(p.status for p in projects)
    failed_by_code = Counter(
        (p.error_info or {}).get("code", "UNKNOWN")
        for p in projects
        if p.status is ProjectStatus.FAILED
    )
    completed, failed = statuses[ProjectStatus.COMPLETED], statuses[ProjectStatus.FAILED]
    finished = completed + failed
    rejected = statuses[ProjectStatus.REJECTED] + statuses[ProjectStatus.REVIEW_EXPIRED]
    waiting = statuses[ProjectStatus.AWAITING_REVIEW]
    return {
        "completed": completed,
        "failed": failed,
        "finished": finished,
        "success_rate": round(completed / finished, 4) if finished else None,
        "failed_by_code": dict(sorted(failed_by_code.items())),
        "rejected": rejected,
        "awaiting_review": waiting,
        "in_progress": sum(statuses.values()) - finished - rejected - waiting,
    }


def end_to_end(projects: Iterable[Project], rows: Iterable[Timing]) -> dict[str, Any]:
    """A completed video's first start to its last finish, across its runs."""
    spans = video_spans(projects, rows)
    seconds = [end - start for start, end in spans.values()]
    return {"videos": len(seconds), **_summary(seconds, mean=True)}


def video_spans(
    projects: Iterable[Project], rows: Iterable[Timing]
) -> dict[int, tuple[float, float]]:
    done = {p.id for p in projects if p.status is ProjectStatus.COMPLETED}
    spans: dict[int, tuple[float, float]] = {}
    for row in rows:
        if row.project_id not in done:
            continue
        start, end = _aware(row.started_at).timestamp(), _aware(row.finished_at).timestamp()
        first, last = spans.get(row.project_id, (start, end))
        spans[row.project_id] = (min(first, start), max(last, end))
    return spans


def stage(name: str, rows: Iterable[Timing], cpus: int) -> dict[str, Any]:
    """Duration percentiles of a stage's attempts that did the work, its retries and
    failures, and the run process's CPU and memory while it ran."""
    mine = [r for r in rows if r.stage == name]
    worked = [r for r in mine if r.outcome == "ok"]
    cpu = [r.cpu_seconds for r in worked if r.cpu_seconds is not None]
    wall = sum(r.seconds for r in worked if r.cpu_seconds is not None)
    rss = [r.peak_rss_mb for r in worked if r.peak_rss_mb is not None]
    return {
        "attempts": len(mine),
        "ok": len(worked),
        "retries": sum(r.outcome == "retry" for r in mine),
        "failures": sum(r.outcome == "failed" for r in mine),
        **_summary([r.seconds for r in worked]),
        "mean_cpu_seconds": round(float(np.mean(cpu)), 2) if cpu else None,
        "cpu_percent": round(100 * sum(cpu) / (wall * cpus), 1) if cpu and wall > 0 else None,
        "max_peak_rss_mb": max(rss) if rss else None,
    }


def _summary(seconds: list[float], mean: bool = False) -> dict[str, Any]:
    if not seconds:
        return {"p50_seconds": None, "p95_seconds": None} | ({"mean_seconds": None} if mean else {})
    figures = {
        "p50_seconds": round(float(np.percentile(seconds, 50)), 3),
        "p95_seconds": round(float(np.percentile(seconds, 95)), 3),
    }
    return figures | ({"mean_seconds": round(float(np.mean(seconds)), 3)} if mean else {})


def time_share(rows: Iterable[Timing]) -> dict[str, Any]:
    """Time spent waiting for services over the network (the calls to them) against time
    spent rendering here (the render and thumbnail stages)."""
    rows = list(rows)
    waiting = sum(r.seconds for r in rows if r.asset is not None and r.remote)
    local = sum(r.seconds for r in rows if r.asset is not None and not r.remote)
    rendering = sum(r.seconds for r in rows if r.asset is None and r.stage in RENDER_STAGES)
    total = waiting + local + rendering
    return {
        "waiting_for_services_seconds": round(waiting, 3),
        "offline_providers_seconds": round(local, 3),
        "rendering_seconds": round(rendering, 3),
        "waiting_for_services_share": round(waiting / total, 4) if total else None,
        "rendering_share": round(rendering / total, 4) if total else None,
    }


def targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The design's targets beside the figures; `met` is None where there is nothing to judge."""
    rate = figures["videos"]["success_rate"]
    mean = figures["end_to_end"]["mean_seconds"]
    cpu = [s["cpu_percent"] for s in figures["stages"].values() if s["cpu_percent"] is not None]
    busiest = max(cpu) if cpu else None
    return [
        _target(
            "video success rate", rate, "> 95 %", rate is None or rate > TARGETS["success_rate"]
        ),
        _target(
            "mean end-to-end seconds",
            mean,
            "< 1500 s (25 min)",
            mean is None or mean < TARGETS["mean_end_to_end_seconds"],
        ),
        _target(
            "CPU of the busiest stage (%)",
            busiest,
            "< 80 %",
            busiest is None or busiest < TARGETS["cpu_percent"],
        ),
    ]


def queue_target(pool: str, waiting: int) -> dict[str, Any]:
    """The work pool's backlog (runs due and not started), asked of the Prefect API."""
    return _target(f"runs waiting in {pool}", waiting, "0 (no backlog)", waiting == 0)


def _target(name: str, value: Any, goal: str, met: bool) -> dict[str, Any]:
    return {"name": name, "value": value, "target": goal, "met": None if value is None else met}


def table_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """One row a stage: what the Prefect table artifact and `stats` print."""
    return [
        {
            "stage": name,
            "attempts": s["attempts"],
            "retries": s["retries"],
            "failures": s["failures"],
            "p50 s": s["p50_seconds"],
            "p95 s": s["p95_seconds"],
            "CPU s": s["mean_cpu_seconds"],
            "CPU %": s["cpu_percent"],
            "peak MB": s["max_peak_rss_mb"],
        }
        for name, s in figures["stages"].items()
    ]


def text(figures: dict[str, Any]) -> str:
    """The figures as a person reads them in a terminal."""
    rows = table_rows(figures)
    columns = list(rows[0])
    cells = [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    v, e2e, share = figures["videos"], figures["end_to_end"], figures["time_share"]
    lines += [
        "",
        f"videos: {v['completed']} completed, {v['failed']} failed"
        + (f" ({_codes(v['failed_by_code'])})" if v["failed_by_code"] else "")
        + f", {v['in_progress']} in progress, {v['awaiting_review']} awaiting review, "
        f"{v['rejected']} rejected or expired",
        f"end to end: mean {_cell(e2e['mean_seconds'])} s, p95 {_cell(e2e['p95_seconds'])} s "
        f"over {e2e['videos']} videos",
        f"time: waiting for services {_percent(share['waiting_for_services_share'])}, "
        f"rendering {_percent(share['rendering_share'])}",
        "retries by service: "
        + (_codes(figures["retries_by_service"]) if figures["retries_by_service"] else "none"),
        "",
    ]
    for target in figures["targets"]:
        mark = {True: "✔", False: "✗", None: "–"}[target["met"]]
        lines.append(
            f"{mark} {target['name']}: {_cell(target['value'])} (target {target['target']})"
        )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f} %"


def _codes(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def per_video_stage_seconds(rows: Iterable[Timing], last: int = 20) -> dict[int, dict[str, float]]:
    """Seconds per stage (its attempts summed) for the last `last` projects with rows."""
    seconds: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        if row.asset is None:
            seconds[row.project_id][row.stage] += row.seconds
    kept = sorted(seconds)[-last:]
    return {pid: dict(seconds[pid]) for pid in kept}


def success_by_day(projects: Iterable[Project]) -> dict[str, float]:
    """COMPLETED over finished per day (Asia/Taipei) of the project's last change."""
    from ytmaker.quota import TAIPEI

    finished: dict[str, list[bool]] = defaultdict(list)
    for project in projects:
        if project.status in (ProjectStatus.COMPLETED, ProjectStatus.FAILED):
            day = _aware(project.updated_at).astimezone(TAIPEI).strftime("%Y-%m-%d")
            finished[day].append(project.status is ProjectStatus.COMPLETED)
    return {day: sum(ok) / len(ok) for day, ok in sorted(finished.items())}


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
