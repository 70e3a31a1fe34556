"""A text too short for its video is refused when the project is created (command line, batch
file, the forms), before any row exists, saying how much more text is needed; `short` asks for
a shorter video within the format's limits."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.test_script import ALISHAN_EN
from ytmaker import formats
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.errors import InputError
from ytmaker.forms import NewBatch, NewVideo, batch_plan, video_fields
from ytmaker.language import count_units
from ytmaker.providers.local.script_writer import LocalScriptWriter

DEFAULT_RULES = {"YTMAKER_TOTAL_MIN_SECONDS": "180", "YTMAKER_SEGMENT_MIN_SECONDS": "5"}
ARTICLE = ALISHAN_EN * 3  # ~320 words: about two minutes of narration


@pytest.fixture
def default_rules(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The rules a user has (a video of at least 180 s), not the tests' fast ones."""
    for name, value in DEFAULT_RULES.items():
        monkeypatch.setenv(name, value)
    return reload_settings()


def _refusal(error: pytest.ExceptionInfo[InputError]) -> dict[str, str]:
    return {p["field"]: p["message"] for p in error.value.details["problems"]}


def test_the_article_makes_about_two_minutes() -> None:
    words = count_units(ARTICLE, "en")
    script = LocalScriptWriter().write(ARTICLE, "en", formats.ScriptRules(total_min=1))
    assert 250 < words < 400 and 100 < script.total_duration < 170


def test_project_create_refuses_a_short_text_before_any_row(
    default_rules: Settings, tmp_path: Path
) -> None:
    text = tmp_path / "alishan.md"
    text.write_text(ARTICLE, "utf-8")
    ran = run_cli(
        default_rules.data_dir,
        *("project", "create", "--name", "Alishan", "--content-file", str(text), "--lang", "en"),
        **DEFAULT_RULES,
    )
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert "content: is too short: it makes about" in ran.stderr
    assert "needs at least 180 s. Add about" in ran.stderr
    assert "words (or lower YTMAKER_TOTAL_MIN_SECONDS)" in ran.stderr
    assert "length short (60-180 s)" in ran.stderr
    assert bootstrap(default_rules).repo.list_projects() == []

    ran = run_cli(
        default_rules.data_dir,
        *("project", "create", "--name", "Alishan", "--content-file", str(text), "--lang", "en"),
        *("--length", "short"),
        **DEFAULT_RULES,
    )
    assert ran.returncode == 0, ran.stderr
    (project,) = bootstrap(default_rules).repo.list_projects()
    assert project.length == "short"
    rules = formats.rules_for(default_rules, project.format, project.length)
    assert (rules.total_min, rules.total_max) == (60, 180)


def test_how_much_more_text_is_needed_is_about_right(default_rules: Settings) -> None:
    """Adding the text the refusal asks for makes the minimum."""
    with pytest.raises(InputError) as error:
        video_fields(
            NewVideo(name="Alishan", content=ARTICLE, language="en"), settings=default_rules
        )
    message = _refusal(error)["content"]
    missing = int(message.split("Add about ")[1].split(" words")[0])
    more = " ".join((ALISHAN_EN * 20).split()[: int(missing * 1.1)])
    video_fields(
        NewVideo(name="Alishan", content=f"{ARTICLE} {more}", language="en"),
        settings=default_rules,
    )


def test_a_batch_names_each_text_too_short_and_writes_nothing(default_rules: Settings) -> None:
    long_enough = ALISHAN_EN * 8
    form = NewBatch(
        projects=[
            NewVideo(name="ok", content=long_enough, language="en"),
            NewVideo(name="short", content=ARTICLE, language="en"),
            NewVideo(name="short but asked", content=ARTICLE, language="en", length="short"),
        ]
    )
    with pytest.raises(InputError) as error:
        batch_plan(form, settings=default_rules)
    assert list(_refusal(error)) == ["projects[1].content"]
    yaml_text = f"length: short\nprojects:\n  - name: a\n    language: en\n    content: {ARTICLE}\n"
    plan = batch_plan(NewBatch(batch_yaml=yaml_text), settings=default_rules)
    assert plan.projects[0].length == "short"


def test_with_an_llm_writer_a_topic_is_enough(
    default_rules: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    fields = video_fields(
        NewVideo(name="夜市", content="台灣的夜市", language="zh-TW"), settings=reload_settings()
    )
    assert fields["content"] == "台灣的夜市"


def test_the_form_says_the_minimum_per_language() -> None:
    description = NewVideo.model_fields["content"].description or ""
    assert "500 words or 590 Chinese characters (180 s)" in description
    assert "length short 140 words or 150 Chinese characters" in description
    assert "`" not in description


def test_short_stays_within_the_format_and_the_workers_maximum(
    default_rules: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (formats.rules_for(default_rules, "shorts", "short").total_max) == 60
    monkeypatch.setenv("YTMAKER_TOTAL_MAX_SECONDS", "120")
    rules = formats.rules_for(reload_settings(), "landscape", "short")
    assert (rules.total_min, rules.total_max) == (60, 120)
    with pytest.raises(ValueError, match="not a length"):
        formats.check_length("tiny")


def test_the_new_video_run_refuses_with_one_line_and_no_traceback(
    default_rules: Settings, prefect_harness: None
) -> None:
    from flows.new_video import new_video

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("prefect.flow_runs").addHandler(handler)
    try:
        state = new_video(
            NewVideo(name="Alishan", content=ARTICLE, language="en"), return_state=True
        )
    finally:
        logging.getLogger("prefect.flow_runs").removeHandler(handler)
    assert state.is_failed() and "content: is too short" in state.message
    assert bootstrap(default_rules).repo.list_projects() == []
    assert not [r for r in records if r.exc_info], [r.getMessage() for r in records]
    assert any("content: is too short" in r.getMessage() for r in records)
