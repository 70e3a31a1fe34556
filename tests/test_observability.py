"""What an operator sees of many runs: JSON log lines with a trace id, a timings row per stage
attempt and sub-asset, `ytmaker stats` (figures, targets, a chart) and `/metrics`.

The end-to-end test runs a batch of three projects through the real command line against a
local Gemini: one fails with a known error code, one is retried once, one goes straight
through; everything else reads what those runs left."""

from __future__ import annotations

import io
import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import ROOT, cli_env, real_cli
from tests.servers.gemini import FakeGemini
from ytmaker.bootstrap import bootstrap
from ytmaker.config import reload_settings
from ytmaker.models import ProjectStatus, Timing

GENERATE = ":generateContent"
TEXTS = (
    ("茶", "阿里山的高山茶\n阿里山的茶園在雲霧之間。採茶的人清晨就上山。"),
    ("夜市", "台灣的夜市\n夜市裡有鹽酥雞和珍珠奶茶。人們晚上一起去逛。"),
    ("早餐", "台灣的早餐店\n蛋餅和豆漿都是常見的早餐。清晨的街角很熱鬧。"),
)


@dataclass
class Batch:
    data_dir: Path
    env: dict[str, str]
    stderr: str
    summary: dict[str, Any]
    gemini: FakeGemini
    failed_code: str


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    """A batch of three made with `ytmaker batch run` and JSON logs: the first project's script
    request is refused (403), the second's answered 503 once, the third's at once."""
    data_dir = tmp_path_factory.mktemp("observe") / "data"
    with FakeGemini() as gemini:
        env = {
            "GEMINI_API_KEY": gemini.api_key,
            "GEMINI_BASE_URL": gemini.url,
            "YTMAKER_VOICE_PROVIDER": "local",
            "YTMAKER_RETRY_DELAYS": "1",
            "YTMAKER_RETRY_JITTER": "0",
            "YTMAKER_LOG_FORMAT": "json",
        }
        folder = data_dir.parent
        projects = "\n".join(
            f"  - name: {name}\n    content: {json.dumps(text, ensure_ascii=False)}"
            for name, text in TEXTS
        )
        (folder / "batch.yaml").write_text(f"name: 觀察\nprojects:\n{projects}\n", "utf-8")
        created = real_cli(data_dir, "batch", "create", "-f", str(folder / "batch.yaml"), **env)
        assert created.returncode == 0, created.stderr
        # the refusal repeats the key (as some proxies do): no log line may
        leak = f"API key {gemini.api_key} is not allowed to use this model"
        gemini.fail_next(403, "PERMISSION_DENIED", leak, path_contains=GENERATE)
        gemini.fail_next(503, path_contains=GENERATE)
        batch_id = created.stdout.strip()
        ran = real_cli(data_dir, "batch", "run", batch_id, "--json", timeout=1800, **env)
        (folder / "batch-run.stderr").write_text(ran.stderr, "utf-8")  # to read when it fails
        assert ran.returncode == 0, ran.stderr[-3000:]
        failed = bootstrap(_settings(data_dir)).repo.get_project(1)
        yield Batch(
            data_dir,
            env,
            ran.stderr,
            json.loads(ran.stdout.strip().splitlines()[-1]),
            gemini,
            failed.error_info["code"],
        )


def _settings(data_dir: Path):  # noqa: ANN202 - Settings
    import os

    os.environ["YTMAKER_DATA_DIR"] = str(data_dir)
    try:
        return reload_settings()
    finally:
        del os.environ["YTMAKER_DATA_DIR"]


def _rows(data_dir: Path) -> list[Timing]:
    ctx = bootstrap(_settings(data_dir))
    with ctx.repo.session() as session:
        return list(session.query(Timing).order_by(Timing.id))


def _flow_runs(data_dir: Path) -> dict[str, str]:
    """Flow run name → id, from the command's own Prefect API database."""
    with sqlite3.connect(data_dir / "prefect" / "prefect.db") as db:
        return {name: run_id for run_id, name in db.execute("SELECT id, name FROM flow_run")}


@pytest.mark.slow
def test_the_batch_ran_as_planned(batch: Batch) -> None:
    ctx = bootstrap(_settings(batch.data_dir))
    statuses = [ctx.repo.get_project(i).status for i in (1, 2, 3)]
    assert statuses == [ProjectStatus.FAILED, ProjectStatus.COMPLETED, ProjectStatus.COMPLETED]
    assert batch.failed_code.startswith("GEMINI_")
    assert len(batch.gemini.requests_to(GENERATE)) == 4  # 403; 503 then the retry; one more


@pytest.mark.slow
def test_every_log_line_is_json_with_its_runs_trace_id(batch: Batch) -> None:
    lines = [json.loads(line) for line in batch.stderr.splitlines() if line.strip()]
    assert len(lines) > 40
    runs = _flow_runs(batch.data_dir)
    video_run = {
        int(name.split("-")[1]): rid for name, rid in runs.items() if name.startswith("video-")
    }
    batch_run = next(rid for name, rid in runs.items() if name.startswith("batch-"))
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= set(line), line
        assert line["timestamp"].endswith("Z") and len(line["timestamp"]) == 24
    in_videos = [line for line in lines if "project_id" in line and "trace_id" in line]
    assert {line["project_id"] for line in in_videos} == {1, 2, 3}
    for line in in_videos:
        if line["trace_id"] != batch_run:  # the batch flow's own lines name a project too
            assert line["trace_id"] == video_run[line["project_id"]], line
            assert line["parent_trace_id"] == batch_run, line

    ends = [line for line in lines if line.get("outcome") and line["logger"] == "ytmaker.timings"]
    assert {line["stage"] for line in ends} >= {"script", "assets", "render", "thumbnail"}
    assert all(isinstance(line["duration"], float | int) for line in ends)
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert errors and all(line.get("error_code") for line in errors), errors
    failure = next(line for line in errors if line.get("project_id") == 1)
    assert failure["error_code"] == batch.failed_code and "Traceback" in failure["traceback"]
    retry = [
        line for line in lines if line["level"] == "WARNING" and "attempt 1 of" in line["message"]
    ]
    assert [(r["project_id"], r["stage"], r["error_code"]) for r in retry] == [
        (2, "script", "GEMINI_UNAVAILABLE")
    ]
    assert batch.gemini.api_key not in batch.stderr
    assert "is not allowed to use this model" in failure["message"]  # the body did reach it


@pytest.mark.slow
def test_timings_rows_say_what_happened(batch: Batch) -> None:
    rows = _rows(batch.data_dir)
    stage_rows = {(r.project_id, r.stage, r.attempt): r for r in rows if r.asset is None}
    assert stage_rows[(1, "script", 1)].outcome == "failed"
    assert stage_rows[(1, "script", 1)].error_code == batch.failed_code
    assert stage_rows[(2, "script", 1)].outcome == "retry"
    assert stage_rows[(2, "script", 2)].outcome == "ok"
    calls = [r for r in rows if r.asset == "script" and r.project_id == 2]
    assert [(r.outcome, r.service, r.remote) for r in calls] == [
        ("retry", "gemini", True),
        ("ok", "gemini", True),
    ]
    for project in (2, 3):
        done = {r.stage for r in rows if r.project_id == project and r.asset is None}
        assert done == {"script", "assets", "render", "thumbnail", "upload"}
        images = [
            r for r in rows if r.project_id == project and (r.asset or "").startswith("image")
        ]
        assert images and all(r.service == "pillow" and not r.remote for r in images)
    render = stage_rows[(2, "render", 1)]
    assert render.cpu_seconds and render.cpu_seconds > 0 and render.peak_rss_mb > 50
    assert all(r.finished_at >= r.started_at for r in rows)


@pytest.mark.slow
def test_stats_json_counts_exactly(batch: Batch, tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    ran = real_cli(batch.data_dir, "stats", "--json", "--chart", str(chart), **batch.env)
    assert ran.returncode == 0, ran.stderr
    figures = json.loads(ran.stdout)
    videos = figures["videos"]
    assert (videos["completed"], videos["failed"], videos["finished"]) == (2, 1, 3)
    assert videos["success_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert videos["failed_by_code"] == {batch.failed_code: 1}
    assert figures["retries_by_service"] == {"gemini": 1}
    rows = _rows(batch.data_dir)
    for stage in ("script", "render"):
        measured = [
            r.seconds for r in rows if r.stage == stage and r.asset is None and r.outcome == "ok"
        ]
        assert min(measured) <= figures["stages"][stage]["p50_seconds"] <= max(measured)
    assert figures["end_to_end"]["videos"] == 2
    success = next(t for t in figures["targets"] if t["name"] == "video success rate")
    assert success["met"] is False
    with Image.open(chart) as image:
        image.verify()
    with Image.open(chart) as image:
        assert (image.format, image.size) == ("PNG", (1200, 800))

    text = real_cli(batch.data_dir, "stats", **{**batch.env, "YTMAKER_LOG_FORMAT": "text"})
    assert "✗ video success rate: 0.6667 (target > 95 %)" in text.stdout
    assert f"failed ({batch.failed_code} 1)" in text.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scrape(url: str, deadline: float = 60) -> str:
    until = time.monotonic() + deadline
    while True:
        try:
            return httpx.get(url, timeout=5).text
        except httpx.TransportError:
            if time.monotonic() > until:
                raise
            time.sleep(0.2)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.slow
def test_metrics_endpoint_parses_and_matches_the_database(batch: Batch) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ytmaker_cli", "metrics", "serve", "--port", str(port)],
        cwd=ROOT,
        env=cli_env(batch.data_dir, **batch.env),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        text = _scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        server.terminate()
        server.wait(timeout=20)
    samples = _samples(text)
    assert samples[("ytmaker_videos_total", (("error_code", ""), ("status", "COMPLETED")))] == 2
    failed = (("error_code", batch.failed_code), ("status", "FAILED"))
    assert samples[("ytmaker_videos_total", failed)] == 1
    assert samples[("ytmaker_retries_total", (("service", "gemini"), ("stage", "script")))] == 1
    rows = _rows(batch.data_dir)
    ok_renders = [r for r in rows if r.stage == "render" and r.asset is None and r.outcome == "ok"]
    count = samples[("ytmaker_stage_duration_seconds_count", (("stage", "render"),))]
    assert count == len(ok_renders) == 2
    assert samples[("ytmaker_stage_duration_seconds_sum", (("stage", "render"),))] == (
        pytest.approx(sum(r.seconds for r in ok_renders))
    )
    assert samples[("ytmaker_video_duration_seconds_count", ())] == 2
    assert samples[("ytmaker_prefect_up", ())] == 0  # no server to ask: said, not hidden


def test_json_lines_carry_bound_fields_and_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from ytmaker import logs, redaction

    redaction.register(["sk-test-secret-value"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("ytmaker.test_observe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with logs.bound(project_id=7, stage="render"):
            logger.error(
                "failed",
                extra=logs.error_fields(
                    {"code": "X_FAILED", "message": "m", "body": "sk-test-secret-value"}
                ),
            )
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["project_id"] == 7 and first["stage"] == "render"
    assert first["error_code"] == "X_FAILED" and first["details"] == {"body": "***"}
    assert "project_id" not in second


def _made_rows(settings: Any) -> None:
    """Two videos as the pipeline records them: one completed, one failed at its render."""
    from datetime import UTC, datetime, timedelta

    ctx = bootstrap(settings)
    start = datetime.now(UTC) - timedelta(minutes=30)
    done = ctx.repo.create_project(name="a", content="x", status=ProjectStatus.COMPLETED)
    failed = ctx.repo.create_project(
        name="b",
        content="x",
        status=ProjectStatus.FAILED,
        error_info={"code": "RENDER_TIMEOUT", "message": "m"},
    )
    for project, stages in ((done, (3, 40, 90, 2, 1)), (failed, (4, 50, 0))):
        moment = start
        for name, seconds in zip(
            ("script", "assets", "render", "thumbnail", "upload"), stages, strict=False
        ):
            outcome = "failed" if project is failed and name == "render" else "ok"
            end = moment + timedelta(seconds=seconds)
            ctx.repo.add_timing(
                Timing(
                    project_id=project.id,
                    stage=name,
                    started_at=moment,
                    finished_at=end,
                    seconds=seconds,
                    outcome=outcome,
                    cpu_seconds=seconds * 0.5,
                    peak_rss_mb=300.0,
                )
            )
            moment = end


@pytest.mark.slow
def test_the_quota_sync_run_attaches_the_stats_and_the_chart(
    settings: Any, prefect_harness: None
) -> None:
    import base64
    import re

    from prefect.client.orchestration import get_client

    from flows.quota import quota_sync

    _made_rows(settings)
    state = quota_sync(return_state=True)
    assert state.is_completed() and state.result()["videos"]["success_rate"] == 0.5
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_artifacts() if a.flow_run_id == run_id}
    table = artifacts["ytmaker-stats"]
    assert table.type == "table"
    rows = {row["stage"]: row for row in json.loads(table.data)}
    assert rows["render"]["p50 s"] == 90 and rows["render"]["failures"] == 1
    chart = artifacts["ytmaker-stats-chart"].data
    assert "✗ video success rate: 0.5 (target > 95 %)" in chart
    encoded = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)\)", chart).group(1)
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        assert (image.format, image.size) == ("PNG", (1200, 800))


@pytest.mark.slow
def test_pool_metrics_come_from_the_prefect_api(settings: Any, prefect_harness: None) -> None:
    """A run waiting in the pool, no worker, and the image slots as the flow makes them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL

    from tasks.limits import ensure_limits
    from ytmaker_cli.pool_metrics import PoolCollector

    pool = f"observe-{time.monotonic_ns()}"
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        flow_id = client.create_flow_from_name("observe")
        deployment = client.create_deployment(flow_id, "observe", work_pool_name=pool)
        client.create_flow_run_from_deployment(deployment)
    ensure_limits(settings)
    assert PREFECT_API_URL.value()  # the harness's server: what the exporter asks
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(PoolCollector(pool))
    samples = _samples(generate_latest(registry).decode())
    assert samples[("ytmaker_prefect_up", ())] == 1
    assert samples[("ytmaker_pool_runs", (("pool", pool), ("state", "Scheduled")))] == 1
    assert samples[("ytmaker_pool_runs", (("pool", pool), ("state", "Pending")))] == 0
    assert samples[("ytmaker_workers_online", (("pool", pool),))] == 0
    assert samples[("ytmaker_image_slots", ())] == settings.image_concurrency
    assert samples[("ytmaker_images_in_flight", ())] == 0


def test_stats_of_rows_and_the_since_rule(settings: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from ytmaker import stats

    _made_rows(settings)
    figures = stats.gather(
        bootstrap(settings).repo, stats.Window(datetime.now(UTC) - timedelta(hours=1)), cpus=2
    )
    assert figures["videos"]["failed_by_code"] == {"RENDER_TIMEOUT": 1}
    render = figures["stages"]["render"]
    assert (render["ok"], render["failures"], render["p50_seconds"]) == (1, 1, 90)
    assert render["cpu_percent"] == 25.0  # half a core of two
    assert figures["end_to_end"]["mean_seconds"] == pytest.approx(136, abs=0.01)
    assert figures["time_share"]["rendering_seconds"] == pytest.approx(92 + 0)
    later = stats.gather(
        bootstrap(settings).repo, stats.Window(datetime.now(UTC) + timedelta(hours=1))
    )
    assert later["videos"]["finished"] == 0
    assert stats.parse_since("7d") == timedelta(days=7)
    with pytest.raises(ValueError, match="write e.g. 30m"):
        stats.parse_since("a week")
    bad = real_cli(settings.data_dir, "stats", "--since", "forever")
    assert bad.returncode == 1 and "--since: 'forever' is not a period" in bad.stderr


def test_an_error_line_that_only_quotes_a_failure_gets_its_code() -> None:
    """Prefect's "Finished in state Failed(...)" of the batch task that ran a failed video:
    no exception, no project, only the failure's message."""
    import logging

    from ytmaker import logs

    logs.remember_failure(41, {"code": "RENDER_TIMEOUT", "message": "The render took too long"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("prefect.test_observe")
    logger.addHandler(handler)
    try:
        logger.error("Finished in state Failed('... StageTimeout: The render took too long')")
        logger.error("Something else entirely")
    finally:
        logger.removeHandler(handler)
    quoted, other = (json.loads(line) for line in stream.getvalue().splitlines())
    assert quoted["error_code"] == "RENDER_TIMEOUT"
    assert "error_code" not in other
