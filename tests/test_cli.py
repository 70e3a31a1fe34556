"""The command line as a user meets it: one-line errors, no tracebacks, JSON last."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import real_cli, run_cli
from ytmaker.bootstrap import bootstrap

ROOT = Path(__file__).resolve().parent.parent
CONTENT = "台灣的早餐店\n蛋餅、蘿蔔糕和豆漿都是常見的選擇。\n清晨的街角總是飄著煎台的香氣。\n"


def test_unknown_project_and_bad_language_are_one_line_errors(tmp_path: Path) -> None:
    unknown = run_cli(tmp_path, "status", "999")
    assert unknown.returncode == 1 and "Project 999 does not exist" in unknown.stderr
    bad = run_cli(tmp_path, "demo", "--lang", "fr")
    assert bad.returncode == 1 and "zh-TW" in bad.stderr
    for result in (unknown, bad):
        assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow
def test_create_and_generate_prints_a_json_line(  # the one smoke test of the real command
    tmp_path: Path,
) -> None:
    content = tmp_path / "article.md"
    content.write_text(CONTENT, encoding="utf-8")
    created = real_cli(
        tmp_path, "project", "create", "--name", "早餐", "--content-file", str(content)
    )
    project_id = int(created.stdout.strip())
    result = real_cli(tmp_path, "generate", str(project_id), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["status"] == "COMPLETED" and Path(line["video_path"]).exists()
    assert {"project_id", "thumbnail_path", "video_id", "video_url", "duration"} <= set(line)


def test_retry_failed_on_a_published_video_says_what_to_do_instead(settings) -> None:
    from typer.testing import CliRunner

    from ytmaker_cli import app

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="早餐", content=CONTENT, language="zh-TW")
    ctx.repo.update_project(project.id, youtube_video_id="abc123", video_url="https://youtu.be/x")
    result = CliRunner().invoke(app, ["retry-failed", str(project.id)])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "cannot replace a published video's file" in said and "new project" in said
    waiting = CliRunner().invoke(app, ["publish", str(project.id)])
    assert waiting.exit_code == 1 and "not waiting for review" in " ".join(waiting.output.split())
