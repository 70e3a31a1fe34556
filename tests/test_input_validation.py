"""Every entry checks what a user gives a project; each rejection names the field and rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy

from tests.helpers import run_cli
from tests.servers.gemini import FakeGemini, valid_script
from ytmaker import db
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings
from ytmaker.errors import InputError
from ytmaker.pipeline import script
from ytmaker.project_input import CONTENT_MAX, new_project
from ytmaker.prompts import check_template, fill
from ytmaker.providers.gemini import GeminiScriptWriter
from ytmaker.script import ScriptRules

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
OK = {"name": "夜市", "content": "台灣夜市的小吃很多。", "language": "zh-TW", "youtube": {}}


def problems(**changes: object) -> dict[str, str]:
    given = {**OK, **changes}
    with pytest.raises(InputError) as refused:
        new_project(**given, now=NOW)  # type: ignore[arg-type]
    return {p["field"]: p["message"] for p in refused.value.details["problems"]}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "   "}, "name", "is empty"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"name": "a\x00b"}, "name", "U+0000"),
        ({"name": "line\nbreak"}, "name", "U+000A"),
        ({"content": ""}, "content", "is empty"),
        ({"content": "字" * (CONTENT_MAX + 1)}, "content", "at most 50,000"),
        ({"content": "ok\x1b[31m"}, "content", "U+001B"),
        ({"language": "fr"}, "language", "zh-TW"),
        ({"youtube": {"privacy": "secret"}}, "youtube.privacy", "'private', 'unlisted'"),
        ({"youtube": {"publish_at": "2020-01-01T00:00:00Z"}}, "youtube.publish_at", "in the past"),
        ({"youtube": {"publish_at": "next friday"}}, "youtube.publish_at", "datetime"),
        (
            {"youtube": {"privacy": "public", "publish_at": "2026-12-24T20:00:00+08:00"}},
            "youtube.publish_at",
            "must be private",
        ),
        ({"youtube": {"tags": ["x" * 101]}}, "youtube.tags", "100 characters"),
        ({"youtube": {"tags": [""]}}, "youtube.tags", "empty"),
        ({"youtube": {"colour": "red"}}, "youtube.colour", "unknown field"),
        ({"prompt_template": "no placeholder"}, "prompt_template", "must contain {content}"),
        ({"prompt_template": "{content} {__class__}"}, "prompt_template", "unknown placeholder"),
        ({"prompt_template": "{content} {segment_min:zz}"}, "prompt_template", "format spec"),
    ],
)
def test_each_rejection_names_the_field_and_the_rule(changes, field, words) -> None:
    found = problems(**changes)
    assert field in found, found
    assert words in found[field]


def test_several_problems_are_reported_at_once() -> None:
    found = problems(name="", language="xx", youtube={"privacy": "nope"})
    assert set(found) == {"name", "language", "youtube.privacy"}


def test_a_time_without_offset_is_taipei_and_stored_in_utc() -> None:
    fields = new_project(**{**OK, "youtube": {"publish_at": "2026-12-24T20:00"}}, now=NOW)
    assert fields["youtube_settings"] == {
        "publish_at": "2026-12-24T12:00:00Z",
        "privacy": "private",
    }


def test_hostile_names_stay_text_and_never_become_paths(settings: Settings) -> None:
    ctx = bootstrap(settings)
    for name in ("../../etc/passwd", "/tmp/x", "$(rm -rf ~); `id`", "{\\b1}%s'\"", "שלום 👋"):
        fields = new_project(**{**OK, "name": name}, now=NOW)
        project = ctx.repo.create_project(**fields)
        assert ctx.repo.get_project(project.id).name == name
        folder = ctx.project_dir(project.id).resolve()
        assert folder.is_relative_to(settings.data_dir.resolve()) and folder.name == str(project.id)


def test_the_cli_refuses_bad_input_in_one_line_per_problem(tmp_path: Path) -> None:
    article = tmp_path / "a.md"
    article.write_text("台灣夜市的小吃很多。", encoding="utf-8")
    result = run_cli(
        tmp_path,
        *("project", "create", "--name", "夜市", "--content-file", str(article)),
        *("--privacy", "public", "--publish-at", "2020-01-01T00:00", "--tags", "a,,b"),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "youtube.publish_at: " in result.stderr and "in the past" in result.stderr
    assert not (tmp_path / "projects").exists()  # nothing half-made


def test_a_stored_project_is_checked_again_before_paying_for_a_script(settings: Settings) -> None:
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="ok", content="字" * (CONTENT_MAX + 1))
    with pytest.raises(InputError, match="content is 50,001 characters"):
        script.run(ctx, project.id)
    assert ctx.repo.get_project(project.id).error_info["field"] == "content"


def test_a_prompt_template_fills_only_its_placeholders() -> None:
    template = check_template("Write {{JSON}} in {language_name} about:\n{content}\n{0} {x.y}")
    text = fill(template, {"content": "{__class__} 100% {segment_min}", "language_name": "中文"})
    assert text == "Write {JSON} in 中文 about:\n{__class__} 100% {segment_min}\n{0} {x.y}"


def test_the_project_prompt_template_reaches_gemini(settings: Settings) -> None:
    template = "用繁體中文寫腳本，每段 {segment_min:g} 到 {segment_max:g} 秒。內容：{content}"
    with FakeGemini() as server:
        server.script_text = valid_script(segments=3, seconds=6)
        writer = GeminiScriptWriter(server.api_key, base_url=server.url, prompt_template=template)
        writer.write("夜市 {not a field}", "zh-TW", ScriptRules(segment_min=1, total_min=5))
        (request,) = server.requests_to(":generateContent", "POST")
    sent = request.json()["contents"][0]["parts"][0]["text"]
    assert sent == "用繁體中文寫腳本，每段 1 到 20 秒。內容：夜市 {not a field}"


def test_an_older_database_gets_the_new_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    repo = db.Repository(url)
    project_id = repo.create_project(name="old", content="x").id
    with db.get_engine(url).begin() as conn:
        conn.execute(sqlalchemy.text("ALTER TABLE projects DROP COLUMN prompt_template"))
    db.dispose_engines()

    upgraded = db.Repository(url).get_project(project_id)

    assert upgraded.name == "old" and upgraded.prompt_template is None
    db.dispose_engines()


def test_publish_time_must_be_zoned_future_at_the_deadline() -> None:
    soon = (NOW + timedelta(minutes=5)).isoformat()
    assert new_project(**{**OK, "youtube": {"publish_at": soon}}, now=NOW)["youtube_settings"]
