"""Quota of the metered services: read, counted by us, stored (no Prefect here).

- D-ID: credits from its API (`GET /credits`), only when a real D-ID key is configured.
- YouTube: units spent today (the quota day ends at midnight Pacific Time) from our own
  accounting: `quota_usage` rows, plus uploads recorded on projects that no row covers.
- Gemini, Stability AI, OpenAI-compatible servers: calls we counted today (`quota_usage` rows;
  the OpenAI writer's tokens too, from each answer's `usage`, beside the calls); a percentage
  only when a daily limit is configured (YTMAKER_GEMINI_DAILY_LIMIT,
  YTMAKER_STABILITY_DAILY_LIMIT, YTMAKER_OPENAI_DAILY_LIMIT).

Offline, with local providers, every service reads zero usage: nothing fails.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import delete, func, select

from ytmaker.config import Settings
from ytmaker.context import Context
from ytmaker.db import Repository
from ytmaker.markup import text
from ytmaker.models import Project, QuotaSnapshot, QuotaUsage
from ytmaker.providers.base import Service
from ytmaker.providers.errors import ServiceError

log = logging.getLogger(__name__)
SERVICES = ("did", "youtube", "gemini", "stability", "openai")
TOKENS = "tokens"  # counted beside the calls, never added to them
PACIFIC = ZoneInfo("America/Los_Angeles")  # Google's quota day
TAIPEI = ZoneInfo("Asia/Taipei")
REDIS_TTL = 3600  # seconds: a reading older than the hourly sync is gone, not stale
# YouTube Data API v3 (revision of 2026-06-01): videos.insert has its own bucket of 100 calls a
# day; thumbnails.set costs 50 of the 10,000 units shared by the other methods.
YOUTUBE_COSTS = {"videos.insert": 1, "thumbnails.set": 50}
YOUTUBE_DAILY = {"videos.insert": 100, "shared_units": 10_000}


def redis_key(service: str) -> str:
    return f"quota:{service}"


@dataclass
class QuotaReading:
    service: str
    used: float = 0.0
    limit: float | None = None
    remaining: float | None = None
    percent: float | None = None
    unit: str = "calls"
    period: str = "day"
    source: str = "counted"  # api | counted | not-configured | error
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    taken_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def over(self, threshold: float) -> bool:
        return self.percent is not None and self.percent > threshold


def _percent(used: float, limit: float | None) -> float | None:
    return round(used / limit * 100, 1) if limit else None


# --- accounting -------------------------------------------------------------------------------


def record_usage(
    repo: Repository,
    service: str,
    units: float = 1.0,
    kind: str = "",
    project_id: int | None = None,
) -> None:
    """Count one use of a metered service; accounting trouble never fails a video."""
    try:
        with repo.session() as session:
            session.add(QuotaUsage(service=service, kind=kind, units=units, project_id=project_id))
    except Exception:  # noqa: BLE001 - best effort by design
        log.warning("Could not record %s usage (%s %s)", service, units, kind, exc_info=True)


def meter(ctx: Context, provider: Service, kind: str, project_id: int | None = None) -> None:
    """Count one successful call of a real provider (local ones are not metered); a provider
    that counts its own use (`usage()`: the OpenAI writer's calls and tokens) says how much."""
    service = provider.metered_service
    if not service:
        return
    usage = getattr(provider, "usage", None)
    for used_kind, units in (usage() if callable(usage) else {kind: 1.0}).items():
        if units:
            record_usage(ctx.repo, service, units, used_kind, project_id)


def youtube_meter(ctx: Context, project_id: int) -> Callable[[str], None]:
    """The publisher's `on_call`: each YouTube API method at its documented cost."""
    return lambda method: record_usage(
        ctx.repo, "youtube", YOUTUBE_COSTS.get(method, 1), method, project_id
    )


def ensure_upload_fits(ctx: Context, resuming: bool, now: datetime | None = None) -> None:
    """Refuse to start an upload today's YouTube quota cannot finish (videos.insert + thumbnail).

    Raises YOUTUBE_QUOTA_INSUFFICIENT (not retryable) before a single byte is sent.
    """
    now = now or datetime.now(UTC)
    reading = read_youtube(
        ctx.repo, now, ctx.settings.youtube_daily_units, ctx.settings.youtube_daily_uploads
    )
    inserts = reading.details["videos.insert"]
    need_insert = 0 if resuming else YOUTUBE_COSTS["videos.insert"]
    need_units = YOUTUBE_COSTS["thumbnails.set"]
    short = []
    if inserts["used"] + need_insert > inserts["limit"]:
        short.append(f"{inserts['used']:g} of {inserts['limit']:g} uploads (videos.insert) done")
    if reading.used + need_units > ctx.settings.youtube_daily_units:
        short.append(
            f"{reading.used:g} of {reading.limit:g} units used and thumbnails.set needs "
            f"{need_units}"
        )
    if short:
        raise ServiceError(
            f"Today's YouTube quota cannot fit this upload: {'; '.join(short)}. Nothing was "
            f"sent. The quota resets at midnight Pacific Time ({_reset_in_taipei(now)} in "
            "Taipei): run the project again then, or raise YTMAKER_YOUTUBE_DAILY_UNITS / "
            "YTMAKER_YOUTUBE_DAILY_UPLOADS if Google granted this project more.",
            provider="youtube",
            kind="QUOTA_INSUFFICIENT",
            reason="dailyQuotaInsufficient",
            retryable=False,
            units_used=reading.used,
            units_limit=reading.limit,
            uploads_used=inserts["used"],
            uploads_limit=inserts["limit"],
        )


def _reset_in_taipei(now: datetime) -> str:
    reset = day_start(now, PACIFIC) + timedelta(days=1)
    return reset.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M")


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Midnight of `now`'s day in `zone`, in UTC."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(UTC)


def counted(repo: Repository, service: str, since: datetime) -> dict[str, float]:
    """Units per kind counted for `service` since `since`."""
    with repo.session() as session:
        rows = session.execute(
            select(QuotaUsage.kind, func.sum(QuotaUsage.units))
            .where(QuotaUsage.service == service, QuotaUsage.created_at >= since)
            .group_by(QuotaUsage.kind)
        ).all()
    return {kind or "calls": float(total or 0) for kind, total in rows}


def _counted_projects(repo: Repository, service: str, since: datetime) -> set[int]:
    with repo.session() as session:
        return set(
            session.scalars(
                select(QuotaUsage.project_id).where(
                    QuotaUsage.service == service,
                    QuotaUsage.created_at >= since,
                    QuotaUsage.project_id.is_not(None),
                )
            )
        )


# --- readers ----------------------------------------------------------------------------------


def did_configured(settings: Settings) -> bool:
    return settings.did_api_key is not None and settings.avatar_provider != "local"


def read_did(settings: Settings) -> QuotaReading:
    """D-ID credits from its API; zero usage (not a failure) when no real key is configured."""
    reading = QuotaReading("did", unit="credits", period="account")
    if not did_configured(settings):
        reading.source = "not-configured"
        return reading
    assert settings.did_api_key is not None  # did_configured() says so
    try:
        from ytmaker.providers import did as did_provider

        maker = did_provider.DIDAvatar(
            settings.did_api_key.get_secret_value(),
            base_url=settings.did_base_url,
            presenter_image_url=settings.did_presenter_image_url,
        )
        get_quota = getattr(maker, "get_quota", None)
        if get_quota is None:
            raise RuntimeError("this version of the D-ID client cannot read credits")
        data = get_quota()
        remaining, total = float(data["remaining"]), float(data["total"])
    except Exception as exc:  # noqa: BLE001 - a quota read must never fail the sync
        reading.source, reading.error = "error", _one_line(exc)
        log.warning("Could not read D-ID credits: %s", reading.error)
        return reading
    reading.source = "api"
    reading.limit, reading.remaining = total, remaining
    reading.used = max(total - remaining, 0.0)
    reading.percent = _percent(reading.used, total)
    return reading


def read_youtube(
    repo: Repository,
    now: datetime,
    units_limit: int = YOUTUBE_DAILY["shared_units"],
    uploads_limit: int = YOUTUBE_DAILY["videos.insert"],
) -> QuotaReading:
    """Units spent today (Pacific): our usage rows, plus uploads recorded only on projects."""
    since = day_start(now, PACIFIC)
    kinds = counted(repo, "youtube", since)
    covered = _counted_projects(repo, "youtube", since)
    with repo.session() as session:
        uploads = [
            project_id
            for project_id in session.scalars(
                select(Project.id).where(
                    Project.video_url.like("https://www.youtube.com/%"),
                    Project.completed_at >= since,
                )
            )
            if project_id not in covered
        ]
    for kind, cost in YOUTUBE_COSTS.items():
        kinds[kind] = kinds.get(kind, 0.0) + cost * len(uploads)
    inserts = kinds.get("videos.insert", 0.0)
    shared = sum(units for kind, units in kinds.items() if kind != "videos.insert")
    insert_pct = _percent(inserts, uploads_limit)
    shared_pct = _percent(shared, units_limit)
    return QuotaReading(
        "youtube",
        used=shared,
        limit=units_limit,
        remaining=max(units_limit - shared, 0.0),
        percent=max(insert_pct or 0.0, shared_pct or 0.0),
        unit="units",
        period="day (resets at midnight Pacific Time)",
        details={
            "videos.insert": {
                "used": inserts,
                "limit": uploads_limit,
                "percent": insert_pct,
            },
            "shared_units": {
                "used": shared,
                "limit": units_limit,
                "percent": shared_pct,
            },
            "by_kind": kinds,
            "uploads_from_projects": len(uploads),
        },
    )


def read_counted(
    repo: Repository, service: str, limit: int | None, now: datetime, zone: ZoneInfo
) -> QuotaReading:
    kinds = counted(repo, service, day_start(now, zone))
    used = sum(units for kind, units in kinds.items() if kind != TOKENS)
    return QuotaReading(
        service,
        used=used,
        limit=limit,
        remaining=None if limit is None else max(limit - used, 0.0),
        percent=_percent(used, limit),
        unit="images" if service == "stability" else "calls",
        period=f"day ({zone.key})",
        details={"by_kind": kinds},
    )


def _youtube(ctx: Context, now: datetime) -> QuotaReading:
    settings = ctx.settings
    return read_youtube(ctx.repo, now, settings.youtube_daily_units, settings.youtube_daily_uploads)


def read_all(ctx: Context, now: datetime | None = None) -> list[QuotaReading]:
    now = now or datetime.now(UTC)
    settings = ctx.settings
    return [
        read_did(settings),
        _youtube(ctx, now),
        read_counted(ctx.repo, "gemini", settings.gemini_daily_limit, now, PACIFIC),
        read_counted(ctx.repo, "stability", settings.stability_daily_limit, now, TAIPEI),
        read_counted(ctx.repo, "openai", settings.openai_daily_limit, now, TAIPEI),
    ]


def read_service(ctx: Context, service: str, now: datetime | None = None) -> QuotaReading:
    now = now or datetime.now(UTC)
    if service == "did":
        return read_did(ctx.settings)
    if service == "youtube":
        return _youtube(ctx, now)
    if service == "gemini":
        return read_counted(ctx.repo, service, ctx.settings.gemini_daily_limit, now, PACIFIC)
    if service == "stability":
        return read_counted(ctx.repo, service, ctx.settings.stability_daily_limit, now, TAIPEI)
    if service == "openai":
        return read_counted(ctx.repo, service, ctx.settings.openai_daily_limit, now, TAIPEI)
    raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")


# --- storage ----------------------------------------------------------------------------------


def store(ctx: Context, readings: list[QuotaReading]) -> dict[str, bool]:
    """`quota:{service}` JSON in Redis (1 h expiry) and a snapshot row each.

    Returns where it was stored; Redis trouble is logged and the database still gets the rows.
    """
    stored = {"redis": False, "database": False}
    try:
        pipe = ctx.bus.client.pipeline()
        for reading in readings:
            pipe.set(
                redis_key(reading.service),
                json.dumps(reading.to_dict(), ensure_ascii=False),
                ex=REDIS_TTL,
            )
        pipe.execute()
        stored["redis"] = True
    except redis.RedisError as exc:
        log.warning("Quota not written to Redis (%s); the database still has it", exc)
    with ctx.repo.session() as session:
        for reading in readings:
            session.add(
                QuotaSnapshot(
                    service=reading.service,
                    used=reading.used,
                    quota_limit=reading.limit,
                    remaining=reading.remaining,
                    percent=reading.percent,
                    unit=reading.unit,
                    source=reading.source,
                    details={**reading.details, "error": reading.error, "period": reading.period},
                    taken_at=datetime.fromisoformat(reading.taken_at),
                )
            )
    stored["database"] = True
    return stored


def from_redis(ctx: Context) -> dict[str, dict[str, Any]]:
    """The readings still in Redis (younger than an hour), by service."""
    found: dict[str, dict[str, Any]] = {}
    try:
        for service in SERVICES:
            body = ctx.bus.client.get(redis_key(service))
            reading = stored_reading(body, service) if body else None
            if reading is not None:
                found[service] = reading
    except redis.RedisError:
        return {}
    return found


def stored_reading(body: str | bytes, service: str) -> dict[str, Any] | None:
    """A reading as quota-sync writes it, or None for anything else found under its key."""
    try:
        data = json.loads(body)
        reading = QuotaReading(**data) if isinstance(data, dict) else None
    except (ValueError, TypeError, RecursionError):
        reading = None
    if reading is None or reading.service != service or not _numeric(reading):
        log.debug("Ignoring %s in Redis: not a quota reading", redis_key(service))
        return None
    return reading.to_dict()


def _numeric(reading: QuotaReading) -> bool:
    """`used` a number; limit, remaining and percent numbers or absent."""
    values = (reading.used, reading.limit, reading.remaining, reading.percent)
    numbers = [v for v in values if v is not None]
    return reading.used is not None and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in numbers
    )


def latest_snapshots(repo: Repository) -> list[QuotaSnapshot]:
    """The newest stored reading of each service."""
    with repo.session() as session:
        newest = (
            select(QuotaSnapshot.service, func.max(QuotaSnapshot.id).label("id"))
            .group_by(QuotaSnapshot.service)
            .subquery()
        )
        return list(
            session.scalars(
                select(QuotaSnapshot)
                .join(newest, QuotaSnapshot.id == newest.c.id)
                .order_by(QuotaSnapshot.service)
            )
        )


def prune(repo: Repository, keep_days: int = 90) -> None:
    """Forget snapshots and usage older than `keep_days`."""
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    with repo.session() as session:
        session.execute(delete(QuotaSnapshot).where(QuotaSnapshot.taken_at < cutoff))
        session.execute(delete(QuotaUsage).where(QuotaUsage.created_at < cutoff))


# --- warnings ---------------------------------------------------------------------------------


def warnings_for(readings: list[QuotaReading], threshold: float) -> list[str]:
    return [
        f"{r.service}: {r.percent:.1f}% of its quota used ({r.used:g} of {r.limit:g} {r.unit}, "
        f"{r.period})"
        for r in readings
        if r.over(threshold)
    ]


def markdown_table(readings: list[QuotaReading], threshold: float) -> str:
    lines = [
        "| service | used | limit | % used | period | source |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in readings:
        percent = "-" if r.percent is None else f"{r.percent:.1f}%"
        if r.over(threshold):
            percent = f"**{percent}** ⚠️"
        limit = "-" if r.limit is None else f"{r.limit:g}"
        source = r.source if r.error is None else f"error: {r.error}"
        cells = (text(r.service), f"{r.used:g} {text(r.unit)}", limit, percent, text(r.period))
        lines.append("| " + " | ".join(cells) + f" | {text(source)} |")
    return "\n".join(lines)


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]
