"""Batches: the YAML file, the books, the CLI, and the batch flow under Prefect (real Redis,
SQLite and an ephemeral Prefect API: nothing mocked)."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ytmaker import batch
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings
from ytmaker.errors import InputError
from ytmaker.models import BatchStatus, ProjectStatus
from ytmaker_cli import app
from ytmaker_cli.watching import follow

SHORT_ZH = "台灣的早餐店\n蛋餅、蘿蔔糕和豆漿都是常見的早餐。清晨的街角總是飄著煎台的香氣。\n"
SHORT_EN = (
    "Bubble tea\nBubble tea was born in Taichung. People drink it with chewy tapioca pearls.\n"
)
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- the file ----------------------------------------------------------------------------------


def test_batch_file_reads_content_files_and_merges_defaults(tmp_path: Path) -> None:
    write(tmp_path / "articles" / "breakfast.md", SHORT_ZH)
    source = write(
        tmp_path / "series.yaml",
        """
name: 台灣小吃
youtube: {privacy: unlisted, tags: [台灣]}
projects:
  - name: 早餐店
    content_file: articles/breakfast.md
    youtube:
      publish_at: 2026-12-24 20:00
  - name: Bubble tea
    language: en
    content: "Bubble tea\\nBubble tea was born in Taichung."
    youtube: {privacy: public, tags: [tea, Taiwan]}
""",
    )
    plan = batch.load_batch_file(source, now=NOW)
    assert plan.name == "台灣小吃"
    first, second = plan.projects
    assert (first.name, first.language, first.content) == ("早餐店", "zh-TW", SHORT_ZH)
    # no offset given: Asia/Taipei (UTC+8); a scheduled video is private until then
    assert first.youtube_settings == {
        "privacy": "private",
        "publish_at": "2026-12-24T12:00:00Z",
        "tags": ["台灣"],
    }
    assert second.language == "en"
    assert second.youtube_settings == {"privacy": "public", "tags": ["tea", "Taiwan"]}


def test_batch_file_errors_name_every_bad_field(tmp_path: Path) -> None:
    source = write(
        tmp_path / "bad.yaml",
        """
projects:
  - name: ok
    content: "   "
  - name: two sources
    content: x
    content_file: x.md
  - name: missing file
    content_file: nowhere.md
  - name: bad language
    content: x
    language: fr
  - name: scheduled but public
    content: x
    youtube: {privacy: public, publish_at: "2026-12-01T20:00:00+08:00"}
  - name: in the past
    content: x
    youtube: {publish_at: "2020-01-01T00:00:00Z"}
""",
    )
    with pytest.raises(InputError) as caught:
        batch.load_batch_file(source, now=NOW)
    fields = [p["field"] for p in caught.value.details["problems"]]
    assert fields == [
        "projects[0].content",
        "projects[1]",
        "projects[2].content_file",
        "projects[3].language",
        "projects[4].youtube.publish_at",
        "projects[5].youtube.publish_at",
    ]
    message = caught.value.message
    assert "bad.yaml is not a valid batch file" in message
    assert "exactly one of `content` or `content_file`" in message
    assert "nowhere.md does not exist" in message and "'fr'" in message
    assert "must be private" in message and "in the past" in message


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("projects: []", "projects", "at least 1"),
        ("projects:\n  - content: x", "projects[0].name", "is required"),
        ("projects:\n  - {name: a, content: x, colour: red}", "projects[0].colour", "unknown"),
        (
            "projects:\n  - {name: a, content: x, youtube: {privacy: secret}}",
            "projects[0].youtube.privacy",
            "'private', 'unlisted' or 'public'",
        ),
        ("- just a list", "projects", "expected a mapping"),
        ("projects: [", "file", "not valid YAML"),
    ],
)
def test_batch_file_structure_errors(tmp_path: Path, text: str, field: str, words: str) -> None:
    source = write(tmp_path / "b.yaml", text)
    with pytest.raises(InputError) as caught:
        batch.load_batch_file(source, now=NOW)
    assert caught.value.details["field"] == field
    assert words in caught.value.message


# --- the books ---------------------------------------------------------------------------------


def plan_of(*items: tuple[str, str]) -> batch.BatchPlan:
    return batch.BatchPlan("test", [batch.NewProject(name, content) for name, content in items])


def test_counters_and_final_status(settings: Settings) -> None:
    repo = bootstrap(settings).repo
    row = batch.create_batch(repo, plan_of(("a", "x"), ("b", "y"), ("c", "z")))
    ids = [p.id for p in batch.batch_projects(repo, row.id)]
    assert row.status is BatchStatus.PENDING and row.total == 3
    started, todo, done = batch.start(repo, row.id)
    assert started.status is BatchStatus.RUNNING and [p.id for p in todo] == ids and not done
    repo.update_project(ids[0], status=ProjectStatus.COMPLETED, youtube_video_id="v1")
    assert batch.record(repo, row.id, ok=True).completed == 1
    repo.update_project(ids[1], status=ProjectStatus.FAILED, error_info={"message": "boom"})
    assert batch.record(repo, row.id, ok=False).failed == 1
    repo.update_project(ids[2], status=ProjectStatus.COMPLETED, youtube_video_id="v3")
    batch.record(repo, row.id, ok=True)
    assert batch.finish(repo, row.id).status is BatchStatus.PARTIAL
    result = batch.summary(repo, row.id)
    assert {k: result[k] for k in ("status", "total_projects", "completed", "failed")} == {
        "status": "PARTIAL",
        "total_projects": 3,
        "completed": 2,
        "failed": 1,
    }
    assert result["results"][1] == {"project_id": ids[1], "status": "FAILED", "error": "boom"}
    assert result["results"][0] == {"project_id": ids[0], "status": "COMPLETED", "video_id": "v1"}
    # running again makes only the failed one; the finished ones count as completed
    _, todo, done = batch.start(repo, row.id)
    assert [p.id for p in todo] == [ids[1]] and len(done) == 2
    assert batch.get_batch(repo, row.id).completed == 2
    assert batch.final_status(3, 3, 0) is BatchStatus.COMPLETED
    assert batch.final_status(3, 0, 3) is BatchStatus.FAILED
    with pytest.raises(batch.BatchNotFound):
        batch.get_batch(repo, 999)


def test_cli_batch_create_and_status(settings: Settings, tmp_path: Path) -> None:
    write(tmp_path / "a.md", SHORT_ZH)
    source = write(
        tmp_path / "b.yaml",
        "name: cli\nprojects:\n  - {name: 早餐, content_file: a.md}\n"
        "  - {name: tea, content: 'Tea\\nTea is good.', language: en}\n",
    )
    runner = CliRunner()
    created = runner.invoke(app, ["batch", "create", "--file", str(source)])
    assert created.exit_code == 0, created.output
    batch_id = int(created.stdout.strip().splitlines()[-1])
    shown = runner.invoke(app, ["batch", "status", str(batch_id)])
    assert shown.exit_code == 0, shown.output
    assert "早餐" in shown.stdout and "tea" in shown.stdout and "PENDING" in shown.stdout
    as_json = json.loads(runner.invoke(app, ["batch", "status", str(batch_id), "--json"]).stdout)
    assert as_json["total_projects"] == 2 and as_json["status"] == "PENDING"
    bad = write(tmp_path / "bad.yaml", "projects:\n  - {name: x, content: x, language: fr}\n")
    refused = runner.invoke(app, ["batch", "create", "--file", str(bad)])
    assert refused.exit_code == 1 and "projects[0].language" in refused.output
    assert runner.invoke(app, ["batch", "status", "999"]).exit_code == 1


# --- watching ----------------------------------------------------------------------------------


def test_watch_started_mid_run_shows_earlier_stages_done(settings: Settings) -> None:
    from rich.console import Console

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="w", content="x", language="zh-TW")
    ctx.bus.publish(project.id, "video_rendering", 40, "影片合成中 40%")  # before we watch
    console = Console(record=True, width=120, force_terminal=False)
    outcome: list[str | None] = []
    watcher = threading.Thread(
        target=lambda: outcome.append(follow(ctx, project.id, timeout=10, console=console))
    )
    watcher.start()
    time.sleep(1.0)
    ctx.bus.publish(project.id, "video_rendering", 100, "影片合成完成")
    ctx.bus.publish(project.id, "thumbnail_generation", 100, "縮圖製作完成")
    ctx.repo.update_project(project.id, status=ProjectStatus.COMPLETED)  # as the stage does
    ctx.bus.publish(project.id, "youtube_upload", 100, "影片上傳完成")
    watcher.join(timeout=15)
    assert outcome == ["COMPLETED"]
    text = console.export_text()
    bars = {line.split()[1]: line for line in text.splitlines() if re.match(r"\s*\d \S", line)}
    assert all("100.0%" in bars[name] for name in ("腳本", "素材", "合成", "縮圖", "上傳")), text


def test_watch_a_failed_project_ends_at_once(settings: Settings) -> None:
    from rich.console import Console

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="f", content="x", language="zh-TW")
    ctx.repo.update_project(project.id, status=ProjectStatus.FAILED)  # before its message
    ctx.bus.publish(project.id, "error", 0, "腳本生成失敗：empty", error={"code": "X"})
    console = Console(record=True, width=120)
    assert follow(ctx, project.id, timeout=5, console=console) == "FAILED"
    assert "腳本生成失敗" in console.export_text()


# --- the batch flow ----------------------------------------------------------------------------


@pytest.mark.slow
def test_batch_flow_makes_the_good_videos_despite_a_failing_one(
    settings: Settings, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
    )

    from flows.batch import batch_processing
    from ytmaker.config import reload_settings

    monkeypatch.setenv("YTMAKER_BATCH_CONCURRENCY", "2")
    settings = reload_settings()
    ctx = bootstrap(settings)
    plan = batch.BatchPlan(
        "三個短片",
        [
            batch.NewProject("早餐店", SHORT_ZH, "zh-TW", {"tags": ["早餐"]}),
            batch.NewProject("空的", "   ", "zh-TW"),  # fails at the script stage
            batch.NewProject("Bubble tea", SHORT_EN, "en"),
        ],
    )
    row = batch.create_batch(ctx.repo, plan)
    ids = [p.id for p in batch.batch_projects(ctx.repo, row.id)]

    started = time.monotonic()
    state = batch_processing(row.id, return_state=True)
    elapsed = time.monotonic() - started
    result = state.result()

    # what the flow returns
    assert state.is_completed()
    assert {
        k: result[k] for k in ("status", "batch_id", "total_projects", "completed", "failed")
    } == {
        "status": "PARTIAL",
        "batch_id": row.id,
        "total_projects": 3,
        "completed": 2,
        "failed": 1,
    }
    by_id = {r["project_id"]: r for r in result["results"]}
    assert by_id[ids[0]]["status"] == "COMPLETED" and by_id[ids[0]]["video_id"]
    assert by_id[ids[2]]["status"] == "COMPLETED" and by_id[ids[2]]["video_id"]
    assert by_id[ids[1]]["status"] == "FAILED" and "empty content" in by_id[ids[1]]["error"]

    # the database: the batch row and every project, with their videos
    stored = batch.get_batch(ctx.repo, row.id)
    assert (stored.status, stored.completed, stored.failed) == (BatchStatus.PARTIAL, 2, 1)
    for project_id in (ids[0], ids[2]):
        project = ctx.repo.get_project(project_id)
        assert project.status is ProjectStatus.COMPLETED and project.batch_id == row.id
        assert (settings.channel_dir / project.youtube_video_id / "metadata.json").exists()
        assert Path(ctx.project_dir(project_id) / "output" / "video.mp4").stat().st_size > 10_000
    failed = ctx.repo.get_project(ids[1])
    assert failed.status is ProjectStatus.FAILED and failed.error_info["field"] == "content"
    published = json.loads(
        (settings.channel_dir / by_id[ids[0]]["video_id"] / "metadata.json").read_text("utf-8")
    )
    assert published["tags"] == ["早餐"]  # the batch file's YouTube settings reached the upload

    # Prefect: the children are linked to the batch run, named and tagged, with artifacts
    parent_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id])
            )
        )
        assert len(children) == 3
        parents = {client.read_task_run(c.parent_task_run_id).flow_run_id for c in children}
        assert parents == {parent_id}
        names = {c.parameters["project_id"]: c for c in children}
        assert names[ids[0]].name == f"video-{ids[0]}-早餐店"
        assert names[ids[2]].name == f"video-{ids[2]}-bubble-tea"
        assert {f"batch:{row.id}", "lang:en"} <= set(names[ids[2]].tags)
        assert names[ids[1]].state.is_failed() and names[ids[0]].state.is_completed()
        artifacts = {
            (a.key, a.flow_run_id): a
            for a in client.read_artifacts()
            if a.flow_run_id in {c.id for c in children} | {parent_id}
        }
    done = artifacts[(f"video-{ids[0]}-progress", names[ids[0]].id)]
    assert done.type == "progress" and float(done.data) == 100.0
    stuck = artifacts[(f"video-{ids[1]}-progress", names[ids[1]].id)]
    assert float(stuck.data) < 100 and "失敗" in stuck.description
    summary = artifacts[(f"video-{ids[0]}-summary", names[ids[0]].id)].data
    assert "COMPLETED" in summary and "video.mp4" in summary and "file://" in summary
    failure = artifacts[(f"video-{ids[1]}-summary", names[ids[1]].id)].data
    assert "INPUT_INVALID" in failure and "empty content" in failure
    batch_summary = artifacts[(f"batch-{row.id}-summary", parent_id)].data
    assert "PARTIAL" in batch_summary and "早餐店" in batch_summary
    assert float(artifacts[(f"batch-{row.id}-progress", parent_id)].data) == 100.0
    print(f"batch of 3 (1 failing) at concurrency 2: {elapsed:.1f} s")


def test_a_batch_where_nothing_completes_is_a_failed_run(
    settings: Settings, prefect_harness: None
) -> None:
    from flows.batch import batch_processing

    ctx = bootstrap(settings)
    plan = batch.BatchPlan("全空", [batch.NewProject("空的", "   ", "zh-TW")])
    row = batch.create_batch(ctx.repo, plan)

    state = batch_processing(row.id, return_state=True)

    assert state.is_failed() and "No project of batch" in state.message
    assert batch.get_batch(ctx.repo, row.id).status is BatchStatus.FAILED
