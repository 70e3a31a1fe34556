"""Quota: our own accounting, D-ID credits from a local fake, Redis and database storage, the
hourly flow with its warning artifact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from tests.servers.did import FakeDID
from ytmaker import quota
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.context import Context
from ytmaker.models import ProjectStatus, QuotaSnapshot, QuotaUsage
from ytmaker_cli import app


def test_offline_every_service_reads_zero_without_failing(settings: Settings) -> None:
    readings = {r.service: r for r in quota.read_all(bootstrap(settings))}
    assert set(readings) == set(quota.SERVICES)
    assert all(r.used == 0 and r.error is None for r in readings.values())
    assert readings["did"].source == "not-configured"
    assert readings["youtube"].percent == 0 and readings["youtube"].limit == 10_000
    assert readings["gemini"].percent is None  # no limit configured: no percentage


def test_youtube_units_today_from_rows_and_uploaded_projects(settings: Settings) -> None:
    ctx = bootstrap(settings)
    now = datetime.now(UTC)
    counted = ctx.repo.create_project(name="a", content="x")
    quota.record_usage(ctx.repo, "youtube", 1, "videos.insert", counted.id)
    quota.record_usage(ctx.repo, "youtube", 50, "thumbnails.set", counted.id)
    # an upload only the project row knows about (no usage row covers it)
    uploaded = ctx.repo.create_project(name="b", content="x")
    ctx.repo.update_project(
        uploaded.id,
        status=ProjectStatus.COMPLETED,
        video_url="https://www.youtube.com/watch?v=abc",
    )
    # yesterday's (Pacific) usage does not count
    with ctx.repo.session() as session:
        session.add(
            QuotaUsage(
                service="youtube",
                kind="thumbnails.set",
                units=50,
                created_at=quota.day_start(now, quota.PACIFIC) - timedelta(minutes=1),
            )
        )
    reading = quota.read_youtube(ctx.repo, now)
    assert reading.used == 100  # two thumbnails.set
    assert reading.details["videos.insert"]["used"] == 2
    assert reading.details["uploads_from_projects"] == 1
    assert reading.percent == 2.0  # 2 of 100 inserts beats 100 of 10,000 units


def test_counted_services_warn_above_the_threshold(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YTMAKER_GEMINI_DAILY_LIMIT", "10")
    ctx = bootstrap(reload_settings())
    for _ in range(10):
        quota.record_usage(ctx.repo, "gemini", 1, "generateContent")
    quota.record_usage(ctx.repo, "stability", 3, "core")
    readings = {r.service: r for r in quota.read_all(ctx)}
    assert (readings["gemini"].used, readings["gemini"].percent) == (10, 100.0)
    assert readings["stability"].used == 3 and readings["stability"].percent is None
    warnings = quota.warnings_for(list(readings.values()), 90)
    assert len(warnings) == 1 and warnings[0].startswith("gemini: 100.0%")


@pytest.fixture
def did_nearly_spent(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    """A D-ID account with 1 of 20 credits left, and the settings that reach it."""
    with FakeDID() as fake:
        fake.credits = {"remaining": 1, "total": 20}
        monkeypatch.setenv("DID_API_KEY", fake.api_key)
        monkeypatch.setenv("DID_BASE_URL", fake.url)
        yield bootstrap(reload_settings())


def test_did_credits_from_the_api_stored_in_redis_and_the_database(
    did_nearly_spent: Context,
) -> None:
    ctx = did_nearly_spent
    readings = quota.read_all(ctx)
    stored = quota.store(ctx, readings)
    did = readings[0]
    assert (did.source, did.used, did.limit, did.remaining, did.percent) == (
        "api",
        19,
        20,
        1,
        95.0,
    )
    assert stored == {"redis": True, "database": True}
    key = quota.redis_key("did")
    assert json.loads(ctx.bus.client.get(key))["percent"] == 95.0
    assert 3500 < ctx.bus.client.ttl(key) <= 3600
    assert json.loads(ctx.bus.client.get(quota.redis_key("youtube")))["used"] == 0
    snapshots = {s.service: s for s in quota.latest_snapshots(ctx.repo)}
    assert set(snapshots) == set(quota.SERVICES) and snapshots["did"].percent == 95.0
    assert quota.warnings_for(readings, 90) == [
        "did: 95.0% of its quota used (19 of 20 credits, account)"
    ]


def test_did_trouble_is_reported_not_raised(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DID_API_KEY", "wrong-key")
    monkeypatch.setenv("DID_BASE_URL", "http://127.0.0.1:1")
    reading = quota.read_did(reload_settings())
    assert reading.source == "error" and reading.error and reading.used == 0


def test_cli_quota_shows_the_last_sync(settings: Settings) -> None:
    runner = CliRunner()
    synced = runner.invoke(app, ["quota", "--sync", "--json"])
    assert synced.exit_code == 0, synced.output
    assert {r["service"] for r in json.loads(synced.stdout)} == set(quota.SERVICES)
    shown = runner.invoke(app, ["quota"])
    assert shown.exit_code == 0 and "youtube" in shown.stdout and "10000" in shown.stdout


@pytest.mark.slow
def test_quota_sync_flow_stores_readings_and_warns(
    did_nearly_spent: Context, prefect_harness: None
) -> None:
    from prefect.client.orchestration import get_client

    from flows.quota import quota_sync

    ctx = did_nearly_spent
    state = quota_sync(return_state=True)
    result = state.result()
    assert state.is_completed()
    assert result["stored"] == {"redis": True, "database": True}
    assert result["warnings"] == ["did: 95.0% of its quota used (19 of 20 credits, account)"]
    with ctx.repo.session() as session:
        assert session.query(QuotaSnapshot).count() == len(quota.SERVICES)
    assert json.loads(ctx.bus.client.get("quota:did"))["remaining"] == 1
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_artifacts() if a.flow_run_id == run_id}
    assert "95.0%" in artifacts["quota-warning"].data
    assert "| youtube |" in artifacts["quota-usage"].data


@pytest.mark.slow
def test_quota_sync_offline_reports_zero(settings: Settings, prefect_harness: None) -> None:
    from flows.quota import quota_sync

    result = quota_sync()
    assert result["warnings"] == []
    assert {r["service"]: r["used"] for r in result["readings"]} == dict.fromkeys(
        quota.SERVICES, 0.0
    )
