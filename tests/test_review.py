"""A person approves before anything is published: in-process (`ytmaker generate` with review
on exits 0 and publishes nothing; `ytmaker review ID --approve/--reject` decides), as a user of
the command line sees it: exit codes, one-line refusals, rows, and what reached the channel.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.test_batch import SHORT_EN, SHORT_ZH
from ytmaker import batch, review
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.errors import InputError
from ytmaker.models import BatchStatus, ProjectStatus
from ytmaker.pipeline import thumbnail as thumbnail_stage
from ytmaker.providers.base import PublishRequest
from ytmaker.review_form import checked_decision
from ytmaker.script import Script
from ytmaker.summary import project_summary


def cli(*args: str, columns: int = 80) -> tuple[int, str]:
    """The command at a terminal `columns` wide. Its own consoles: the CLI's module-level ones
    kept the width of the COLUMNS in force when some earlier test first imported the CLI."""
    from rich.console import Console

    from ytmaker_cli import app
    from ytmaker_cli.app import screen

    kept = screen.out, screen.err
    screen.out, screen.err = Console(width=columns), Console(stderr=True, width=columns)
    try:
        result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    finally:
        screen.out, screen.err = kept
    return result.exit_code, " ".join(result.output.split())


def uploads(settings: Settings) -> list[dict]:
    """What the local channel received: one metadata.json per upload."""
    folder = settings.channel_dir
    found = sorted(folder.glob("*/metadata.json")) if folder.exists() else []
    return [json.loads(path.read_text(encoding="utf-8")) for path in found]


def timing_rows(settings: Settings, project_id: int) -> int:
    from sqlalchemy import func, select

    from ytmaker.models import Timing

    with bootstrap(settings).repo.session() as session:
        query = select(func.count()).select_from(Timing).where(Timing.project_id == project_id)
        return int(session.scalar(query) or 0)


def held_project(settings: Settings, **fields: object) -> int:
    """A project made up to its review: `generate` exits 0 and says how to go on."""
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(
        name="早餐店", content=SHORT_ZH, language="zh-TW", **{"review_required": True, **fields}
    )
    code, said = cli("generate", str(project.id))
    assert code == 0, said
    assert f"ytmaker review {project.id} --approve" in said
    assert ctx.repo.get_project(project.id).status is ProjectStatus.AWAITING_REVIEW
    assert uploads(settings) == []  # nothing published while it waits
    return project.id


# --- the rules of the form, without a video --------------------------------------------------


def test_a_decision_is_checked_by_the_rules_of_project_create() -> None:
    good = {"decision": "approve", "title": " 早餐店 ", "tags": ["台灣"], "privacy": "unlisted"}
    decided = checked_decision(good)
    assert decided["title"] == "早餐店"
    assert decided["youtube"] == {"privacy": "unlisted", "tags": ["台灣"]}
    refusals = {
        "title": {"title": "a\u202eb"},  # a bidi override: project create refuses it in names
        "publish_at": {"publish_at": "2020-01-01 08:00"},
        "privacy": {"privacy": "secret"},
        "tags": {"tags": ["<b>"]},
    }
    for field, change in refusals.items():
        with pytest.raises(InputError) as refused:
            checked_decision({**good, **change})
        assert refused.value.details["field"].startswith(field), refused.value.message
    scheduled = checked_decision({**good, "privacy": "private", "publish_at": "2099-12-24 20:00"})
    assert scheduled["youtube"]["publish_at"] == "2099-12-24T12:00:00Z"  # Asia/Taipei, in UTC
    with pytest.raises(InputError, match="must be private"):
        checked_decision({**good, "publish_at": "2099-12-24 20:00"})  # unlisted and scheduled
    assert checked_decision({"decision": "reject", "title": "x", "reason": "no"})["reason"] == "no"


def test_the_prefilled_form_keeps_every_rule_the_ui_checks() -> None:
    """RunInput.with_initial_data drops lengths and patterns; the form Prefect saves keeps them."""
    from prefect._internal.pydantic.v2_schema import create_v2_schema

    from flows.review_gate import prefilled

    form = prefilled("look first", {"title": "早餐店", "tags": ["台灣"], "privacy": "unlisted"})
    schema = create_v2_schema(form.__name__, model_base=form)
    title = schema["properties"]["title"]
    assert (title["default"], title["maxLength"], title["minLength"]) == ("早餐店", 100, 1)
    assert schema["properties"]["tags"]["items"]["maxLength"] == 100
    assert schema["properties"]["privacy"]["default"] == "unlisted"
    assert schema["properties"]["publish_at"]["pattern"]
    assert schema["required"] == ["decision"] and schema["additionalProperties"] is False
    assert form._description == "look first"


def test_an_approved_decision_is_what_is_uploaded() -> None:
    proposed = PublishRequest(title="LLM title", description="LLM", tags=["x"], privacy="private")
    decision = checked_decision(
        {"decision": "approve", "title": "Mine", "description": "d", "tags": ["a", "b"],
         "privacy": "public", "ai_generated": False}
    )  # fmt: skip
    upload = review.edited(proposed, {"status": "approved", "decision": decision})
    assert (upload.title, upload.description, upload.tags) == ("Mine", "d", ["a", "b"])
    assert (upload.privacy, upload.publish_at, upload.synthetic_media) == ("public", None, False)
    assert review.edited(proposed, {"status": "awaiting", "decision": decision}) == proposed


def test_review_modes_from_every_place_a_project_is_made(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`review: none|script|upload|both` in batch files, `project create --review`, the
    new-video form and YTMAKER_REVIEW; `true` and `before_upload` keep their meaning."""
    from ytmaker.errors import ConfigError
    from ytmaker.forms import NewVideo, video_fields

    given = ["script", "both", "upload", "true", "before_upload", "none", ""]
    projects = "".join(
        f"  - name: p{i}\n    content: {json.dumps(SHORT_ZH)}\n"
        + (f"    review: {mode}\n" if mode else "")
        for i, mode in enumerate(given)
    )
    plan = batch.parse_batch(batch.read_yaml(f"review: script\nprojects:\n{projects}"), tmp_path)
    modes = [item.review_mode for item in plan.projects]
    assert modes == [
        "script",
        "both",
        "before_upload",
        "before_upload",
        "before_upload",
        "none",
        "script",
    ]  # fmt: skip  (the last one: the batch's default)
    with pytest.raises(InputError) as refused:
        batch.parse_batch(batch.read_yaml(f"projects:\n{projects}    review: later\n"), tmp_path)
    assert "projects[6].review: must be one of none, script, upload" in refused.value.message
    assert "'later'" in refused.value.message

    text = tmp_path / "text.txt"
    text.write_text(SHORT_ZH, encoding="utf-8")
    create = ("project", "create", "--content-file", str(text), "--name")
    code, made = cli(*create, "a", "--review", "script")
    assert code == 0, made
    ctx = bootstrap(settings)
    project = ctx.repo.get_project(int(made))
    assert (project.review_mode, project.review_required) == ("script", False)
    assert review.script_required(project, settings) and not review.required(project, settings)
    code, said = cli(*create, "b", "--review", "soon")
    assert code == 1 and "review: must be one of none, script, upload" in said, said
    assert len(ctx.repo.list_projects()) == 1  # nothing half-written

    fields = video_fields(NewVideo(name="c", content=SHORT_ZH, review="both"), settings=settings)
    assert (fields["review_mode"], fields["review_required"]) == ("both", True)
    fields = video_fields(NewVideo(name="c", content=SHORT_ZH), settings=settings)
    assert fields["review_mode"] is None  # default: the worker's YTMAKER_REVIEW

    unset = ctx.repo.create_project(name="d", content=SHORT_ZH, language="zh-TW")
    legacy = ctx.repo.create_project(name="e", content=SHORT_ZH, language="zh-TW",
                                     review_required=True)  # fmt: skip
    for env in ("script", "both"):  # the project's own yes/no still means before upload
        monkeypatch.setenv("YTMAKER_REVIEW", env)
        now = reload_settings()
        assert (review.mode(unset, now), review.mode(legacy, now)) == (env, "before_upload")
    monkeypatch.setenv("YTMAKER_REVIEW", "sometimes")
    with pytest.raises(ConfigError, match="YTMAKER_REVIEW"):
        reload_settings()
    monkeypatch.delenv("YTMAKER_REVIEW")


def test_an_edited_script_is_checked_piece_by_piece_and_keeps_unchanged_fingerprints(
    settings: Settings,
) -> None:
    """The same rules as a writer's script, named by piece; planned seconds from new text."""
    from ytmaker.pipeline import assets
    from ytmaker.providers.local.script_writer import LocalScriptWriter
    from ytmaker.script import ScriptRules, spoken_seconds
    from ytmaker.script_review import checked_script_decision, editable, form_model, from_form

    rules = ScriptRules(segment_min=1, segment_max=20, total_min=5, total_max=600)
    script = LocalScriptWriter().write(SHORT_ZH * 3, "zh-TW", rules, title="早餐店")
    assert len(script.segments) >= 2
    edit = editable(script)
    edit["segments"][1]["text"] = "蛋餅加蛋，再來一杯冰豆漿。"
    decided = checked_script_decision({"decision": "approve", "script": edit}, script, rules)
    assert decided["changed"] == ["segments[2].text"]
    after = Script.model_validate(decided["script"])
    assert after.segments[1].duration == round(
        max(1.0, spoken_seconds(edit["segments"][1]["text"], "zh-TW")), 2
    )
    assert after.segments[0].duration == script.segments[0].duration  # unchanged: kept
    assert after.total_duration == round(sum(p.duration for p in after.pieces()), 2)

    too_long = {**edit, "segments": [dict(s) for s in edit["segments"]]}
    too_long["segments"][2]["text"] = "很長很長的句子，" * 14
    with pytest.raises(InputError) as refused:
        checked_script_decision({"decision": "approve", "script": too_long}, script, rules)
    assert "segments[3].text: takes about 26s to say; a segment lasts at most 20s" in (
        refused.value.message
    )
    empty = {**edit, "intro": "  "}
    with pytest.raises(InputError, match=r"intro\.text: .*intro text is empty"):
        checked_script_decision({"decision": "approve", "script": empty}, script, rules)
    with pytest.raises(InputError, match=r"segments\[1\]\.image_description: is required"):
        bad = {**edit, "segments": [{"text": "x"}, *edit["segments"][1:]]}
        checked_script_decision({"decision": "approve", "script": bad}, script, rules)

    # the Resume form: a field per piece, prefilled, with its limits; back to the same edit
    from pydantic import BaseModel

    schema = form_model(script, rules, BaseModel).model_json_schema()
    second = schema["properties"]["segment_2_text"]
    assert (second["default"], second["maxLength"]) == (script.segments[1].text, 500)
    assert schema["properties"]["segment_2_image_description"]["maxLength"] == 1000
    assert schema["required"] == ["decision"]
    given = {"decision": "approve", "segment_2_text": edit["segments"][1]["text"]}
    assert checked_script_decision(from_form(given, script), script, rules)["changed"] == [
        "segments[2].text"
    ]

    # stock-footage search terms, when the writer gave them, are kept and can be edited too
    termed = script.model_copy(deep=True)
    termed.segments[0].search_terms = ["breakfast shop"]
    shown = editable(termed)
    assert shown["segments"][0]["search_terms"] == ["breakfast shop"]
    assert "segment_1_search_terms" in form_model(termed, rules, BaseModel).model_fields
    shown["segments"][0]["search_terms"] = ["  soy milk ", "soy milk"]
    kept = checked_script_decision({"decision": "approve", "script": shown}, termed, rules)
    assert kept["changed"] == ["segments[1].search_terms"]
    assert Script.model_validate(kept["script"]).segments[0].search_terms == ["soy milk"]

    # fingerprints: the unchanged pieces' voices and pictures are the same jobs as before
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="早餐店", content=SHORT_ZH * 3, language="zh-TW")
    ctx.repo.update_project(project.id, script=script.model_dump(mode="json"))
    before = [j.fingerprint for j in assets.voice_jobs(ctx, project.id)]
    pictures = [j.fingerprint for j in assets.image_jobs(ctx, project.id)]
    ctx.repo.update_project(project.id, script=decided["script"])
    now = [j.fingerprint for j in assets.voice_jobs(ctx, project.id)]
    assert [a == b for a, b in zip(before, now, strict=True)] == [
        i != 2 for i in range(len(before))
    ]  # piece 2 is segment 2
    assert [j.fingerprint for j in assets.image_jobs(ctx, project.id)] == pictures


# --- whole videos, in-process ------------------------------------------------------------------


@pytest.mark.slow
def test_approve_with_an_edited_title_uploads_once(
    prefect_harness: None, settings: Settings
) -> None:
    project_id = held_project(settings)
    code, listed = cli("review", "--json")
    assert code == 0
    (waiting,) = json.loads(listed)
    assert (waiting["project_id"], waiting["status"]) == (project_id, "AWAITING_REVIEW")
    assert waiting["why"] == "review" and waiting["flow_run_id"] is None  # in-process: no run waits
    code, shown = cli("review", str(project_id))
    assert code == 0 and "Metadata proposed for upload" in shown and "video length" in shown
    assert "Subtitles" in shown and "pillow" in shown and "espeak-ng" in shown

    # a field the rules refuse: one line naming the option, nothing decided
    code, said = cli("review", str(project_id), "--approve", "--publish-at", "2020-01-01T08:00")
    assert code == 1 and "--publish-at: 2020-01-01T08:00:00+08:00 is in the past" in said
    assert "Traceback" not in said
    ctx = bootstrap(settings)
    assert ctx.repo.get_project(project_id).status is ProjectStatus.AWAITING_REVIEW

    thumbnail = ctx.settings.project_dir(project_id) / "output" / "thumbnail.jpg"
    before_review = thumbnail.read_bytes()
    code, said = cli(
        "review", str(project_id), "--approve", "--title", "核准的標題", "--privacy", "unlisted"
    )
    assert code == 0, said
    project = ctx.repo.get_project(project_id)
    assert project.status is ProjectStatus.COMPLETED and project.youtube_video_id
    assert project.review["decided_by"] == "cli"
    (uploaded,) = uploads(settings)
    assert uploaded["title"] == "核准的標題" and uploaded["privacy"] == "unlisted"
    # the thumbnail shows the approved title: drawn again, and that one was published
    published = settings.channel_dir / project.youtube_video_id / "thumbnail.jpg"
    assert thumbnail.read_bytes() != before_review
    script = Script.model_validate(project.script)
    redrawn = Path(thumbnail_stage.draw(ctx, project_id, script, "核准的標題")).read_bytes()
    assert published.read_bytes() == thumbnail.read_bytes() == redrawn
    # every view shows the approved title
    assert project_summary(ctx, project_id)["title"] == "核准的標題"
    code, shown = cli("status", str(project_id))
    assert "核准的標題" in shown and script.metadata.title not in shown

    # approving again (also as `publish`) uploads nothing more
    for again in (("review", str(project_id), "--approve"), ("publish", str(project_id))):
        code, said = cli(*again)
        assert code == 0 and "already published" in said
    assert len(uploads(settings)) == 1


@pytest.mark.slow
def test_reject_ends_rejected_with_the_reason_and_uploads_nothing(
    prefect_harness: None, settings: Settings
) -> None:
    project_id = held_project(settings)
    code, said = cli("watch", str(project_id), "--timeout", "30")  # returns: a person decides
    assert code == 0 and f"Project {project_id}: AWAITING_REVIEW (ytmaker review" in said
    code, said = cli("review", str(project_id), "--reject", "--reason", "標題不對")
    assert code == 0 and "rejected: 標題不對" in said
    ctx = bootstrap(settings)
    project = ctx.repo.get_project(project_id)
    assert project.status is ProjectStatus.REJECTED
    assert project.review["decision"]["reason"] == "標題不對"
    code, said = cli("review", str(project_id), "--approve")
    assert code == 1 and "already rejected" in said
    code, said = cli("generate", str(project_id))  # a run again (recover, a batch) stops at once
    assert code == 0 and ctx.repo.get_project(project_id).status is ProjectStatus.REJECTED
    code, listed = cli("review")
    assert code == 0 and "No video is waiting" in listed
    assert uploads(settings) == []


@pytest.mark.slow
def test_a_review_that_waits_too_long_expires_and_can_still_be_approved(
    prefect_harness: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YTMAKER_REVIEW_TIMEOUT", "2")
    monkeypatch.setenv("YTMAKER_REVIEW", "before_upload")  # the default, not the project's flag
    reload_settings()
    project_id = held_project(settings, review_required=None)
    time.sleep(2.5)
    code, listed = cli("review", "--json")
    assert code == 0 and [row["status"] for row in json.loads(listed)] == ["REVIEW_EXPIRED"]
    ctx = bootstrap(reload_settings())
    project = ctx.repo.get_project(project_id)
    assert project.status is ProjectStatus.REVIEW_EXPIRED and project.review["status"] == "expired"
    latest = ctx.bus.latest(project_id)
    assert (
        latest["data"]["status"] == "REVIEW_EXPIRED"
        and "YTMAKER_REVIEW_TIMEOUT" in (latest["message"])
    )
    code, said = cli("review", str(project_id), "--approve")
    assert code == 0, said
    assert ctx.repo.get_project(project_id).status is ProjectStatus.COMPLETED
    assert len(uploads(settings)) == 1


@pytest.mark.slow
def test_a_batch_with_review_finishes_its_other_projects_meanwhile(
    prefect_harness: None, settings: Settings, tmp_path: Path
) -> None:
    text = (
        "name: 審核\nprojects:\n"
        f"  - name: 早餐店\n    review: true\n    content: {json.dumps(SHORT_ZH)}\n"
        f"  - name: Bubble tea\n    language: en\n    content: {json.dumps(SHORT_EN)}\n"
    )
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    code, said = cli("batch", "create", "--file", str(tmp_path / "b.yaml"))
    assert code == 0, said
    ctx = bootstrap(settings)
    row = ctx.repo.list_projects()[0].batch_id
    code, said = cli("batch", "run", str(row))
    assert code == 0, said
    waiting, made = batch.batch_projects(ctx.repo, row)
    assert (waiting.status, made.status) == (ProjectStatus.AWAITING_REVIEW, ProjectStatus.COMPLETED)
    summary = batch.summary(ctx.repo, row)
    assert summary["status"] == BatchStatus.PARTIAL.value
    assert (summary["completed"], summary["failed"], summary["awaiting_review"]) == (1, 0, 1)
    assert summary["results"][0]["waiting"] == f"waiting for review: ytmaker review {waiting.id}"
    code, said = cli("batch", "status", str(row), "--json")
    assert code == 0 and json.loads(said)["awaiting_review"] == 1
    assert len(uploads(settings)) == 1


@pytest.mark.slow
def test_a_script_review_holds_before_anything_is_paid_and_makes_the_edited_script(
    prefect_harness: None, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ytmaker.models import AssetType

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(
        name="早餐店", content=SHORT_ZH * 3, language="zh-TW", review_mode="script"
    )
    code, said = cli("generate", str(project.id))
    assert code == 0 and f"ytmaker review {project.id} --edit" in said, said
    held = ctx.repo.get_project(project.id)
    assert held.status is ProjectStatus.AWAITING_REVIEW and held.review["reason"] == "script"
    assert ctx.repo.assets(project.id) == []  # no voice, picture or clip paid for
    code, shown = cli("review", str(project.id))
    script = Script.model_validate(held.script)
    assert code == 0 and "segments[2]" in shown and "planned seconds" in shown, shown
    code, listed = cli("review", str(project.id), "--json")
    pieces = json.loads(listed)["pieces"]
    assert [p["piece"] for p in pieces][:2] == ["intro", "segments[1]"]
    assert pieces[1]["image"] == script.segments[0].image_description

    # an edit that breaks a rule: refused naming the piece, nothing decided
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"title: 早餐店\nintro: {script.intro.text}\noutro: {script.outro.text}\nsegments:\n"
        f"  - text: {'很長很長的句子，' * 14}\n    image_description: 早餐\n",
        encoding="utf-8",
    )
    code, said = cli("review", str(project.id), "--script", str(bad))
    assert code == 1 and "segments[1].text: takes about 26s to say" in said, said
    assert ctx.repo.get_project(project.id).status is ProjectStatus.AWAITING_REVIEW

    # --edit: $EDITOR changes segment 2, the run goes on with it
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, yaml\n"
        "path = sys.argv[1]\n"
        "data = yaml.safe_load(open(path, encoding='utf-8'))\n"
        "data['segments'][1]['text'] = '老闆娘的蘿蔔糕煎得金黃酥脆。'\n"
        "open(path, 'w', encoding='utf-8').write(yaml.safe_dump(data, allow_unicode=True))\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    code, said = cli("review", str(project.id), "--edit")
    assert code == 0 and "script approved (changed: segments[2].text)" in said, said
    made = ctx.repo.get_project(project.id)
    assert made.status is ProjectStatus.COMPLETED
    assert made.review["script"]["decided_by"] == "cli"
    final = Script.model_validate(made.script)
    assert final.segments[1].text == "老闆娘的蘿蔔糕煎得金黃酥脆。"
    assert [s.text for s in final.segments[2:]] == [s.text for s in script.segments[2:]]
    from ytmaker.layout import piece_paths

    srt = piece_paths(ctx, project.id, final)["video"].with_suffix(".srt")
    assert "老闆娘的蘿蔔糕煎得金黃酥脆" in srt.read_text(encoding="utf-8").replace("\n", "")
    (uploaded,) = uploads(settings)
    images = [a for a in ctx.repo.assets(project.id) if a.type is AssetType.IMAGE]
    assert len(images) == len(final.segments)  # each picture made once

    # approving again continues nothing more
    rows = timing_rows(settings, project.id)
    code, said = cli("review", str(project.id), "--approve")
    assert code == 0 and "already published" in said, said
    assert timing_rows(settings, project.id) == rows  # no stage ran again
    assert len(uploads(settings)) == 1


@pytest.mark.slow
def test_a_rejected_script_ends_rejected_with_nothing_paid_after_it(
    prefect_harness: None, settings: Settings
) -> None:
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(
        name="Tea", content=SHORT_EN, language="en", review_mode="both"
    )
    code, said = cli("generate", str(project.id))
    assert code == 0 and ctx.repo.get_project(project.id).review["reason"] == "script"
    code, said = cli("review", str(project.id), "--reject", "--reason", "wrong tone")
    assert code == 0 and "rejected: wrong tone" in said, said
    code, said = cli("review", str(project.id), "--approve")
    assert code == 1 and "already rejected" in said, said
    code, said = cli("generate", str(project.id))  # a rerun (recover, a batch) stops at once
    rejected = ctx.repo.get_project(project.id)
    assert rejected.status is ProjectStatus.REJECTED
    assert rejected.review["decision"]["reason"] == "wrong tone"
    assert ctx.repo.assets(project.id) == [] and uploads(settings) == []


@pytest.mark.slow
def test_a_batch_holds_each_project_at_its_script_review_and_approving_one_continues_it(
    prefect_harness: None, settings: Settings, tmp_path: Path
) -> None:
    text = (
        "name: 腳本審核\nreview: script\nprojects:\n"
        f"  - name: 早餐店\n    content: {json.dumps(SHORT_ZH)}\n"
        f"  - name: Tea\n    language: en\n    content: {json.dumps(SHORT_EN)}\n"
        f"  - name: Now\n    language: en\n    review: none\n    content: {json.dumps(SHORT_EN)}\n"
    )
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    code, said = cli("batch", "create", "--file", str(tmp_path / "b.yaml"))
    assert code == 0, said
    ctx = bootstrap(settings)
    row = ctx.repo.list_projects()[0].batch_id
    code, said = cli("batch", "run", str(row))
    assert code == 0, said
    zh, en, made = batch.batch_projects(ctx.repo, row)
    assert [p.status for p in (zh, en, made)] == [ProjectStatus.AWAITING_REVIEW] * 2 + [
        ProjectStatus.COMPLETED
    ]
    assert ctx.repo.assets(zh.id) == [] and ctx.repo.assets(en.id) == []
    summary = batch.summary(ctx.repo, row)
    assert (summary["awaiting_review"], summary["awaiting_script_review"]) == (2, 2)
    assert summary["results"][0]["waiting"] == f"awaiting script review: ytmaker review {zh.id}"
    code, shown = cli("batch", "status", str(row), columns=200)
    assert code == 0 and shown.count("awaiting script review") == 2, shown

    code, said = cli("review", str(en.id), "--approve")  # only this one goes on
    assert code == 0, said
    assert ctx.repo.get_project(en.id).status is ProjectStatus.COMPLETED
    assert ctx.repo.get_project(zh.id).status is ProjectStatus.AWAITING_REVIEW
    assert ctx.repo.assets(zh.id) == []
    summary = batch.summary(ctx.repo, row)
    assert (summary["completed"], summary["awaiting_script_review"]) == (2, 1)
    assert len(uploads(settings)) == 2
