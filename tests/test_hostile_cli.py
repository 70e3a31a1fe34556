"""Hostile input, second round (issue 13): what the CLI prints, which files it reads, how long it
waits for silent services, and that every failure is one line. Real Redis, SQLite, sockets."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from ytmaker import batch, cli
from ytmaker.config import Settings
from ytmaker.context import Context
from ytmaker.models import BatchTask, ProjectStatus
from ytmaker.terminal import clean, json_line

# Rich markup and terminal escapes a name, a title or an error message may carry.
MARKUP = ["x [/b]", "[/]", "title [/] end", "[link=file:///etc/passwd]click[/link]", "[bold]b"]
ESCAPES = ["\x1b]0;pwned\x07", "\x1b[2J", "\x1b]8;;file:///etc/passwd\x1b\\x\x1b]8;;\x1b\\"]
ESCAPES += ["\x9b2J", "a\u202egnp.exe", "one\u2028two"]


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    """The CLI in-process, printing to a real (forced) terminal: what a user's screen gets."""
    screen = io.StringIO()
    console = Console(file=screen, width=300, force_terminal=True, color_system="truecolor")
    monkeypatch.setattr(cli, "out", console)
    monkeypatch.setattr(cli, "err", console)
    result = CliRunner().invoke(cli.app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, visible(screen.getvalue() + result.output)


def visible(screen: str) -> str:
    """The text a user reads: Rich's colour codes (CSI ... m) removed, nothing else."""
    return re.sub(r"\x1b\[[0-9;]*m", "", screen)


def no_terminal_commands(screen: str) -> None:
    """Only Rich's own colour codes (CSI ... m) reach the terminal: no OSC (window title,
    hyperlinks), no screen clearing, no C1 controls, no bidi overrides."""
    assert "\x1b]" not in screen and "\x1b[2J" not in screen and "\x9b" not in screen
    assert "\u202e" not in screen and "\u2028" not in screen and "\x07" not in screen


# --- class 2 and 3: text is shown literally, without terminal commands ----------------------


@pytest.mark.parametrize("name", MARKUP)
def test_names_with_markup_are_listed_literally_by_status(
    name: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = Context.create(settings)
    ctx.repo.create_project(name="plain", content="x")
    hostile = ctx.repo.create_project(name=name, content="x")
    code, screen = run_cli(monkeypatch, "status")
    assert code == 0 and name in screen and "plain" in screen
    code, screen = run_cli(monkeypatch, "status", str(hostile.id))
    assert code == 0
    no_terminal_commands(screen)


def test_a_title_with_markup_is_shown_literally_in_the_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=screen, width=300, force_terminal=True))
    title = "夜市 [/] [link=file:///etc/passwd]x[/link] \x1b]0;t\x07"
    cli.show_summary({"project_id": 1, "status": "COMPLETED [/]", "title": title})
    shown = visible(screen.getvalue())
    assert "夜市 [/] [link=file:///etc/passwd]x[/link]" in shown and "COMPLETED [/]" in shown
    no_terminal_commands(shown)


@pytest.mark.parametrize("name", ["[/]", "x [/b]", "[link=file:///etc]y[/link]"])
def test_a_batch_named_with_markup_is_created_once_and_exits_0(
    name: str, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "b.yaml"
    plan.write_text(f'name: "{name}"\nprojects:\n  - name: a\n    content: hi\n', "utf-8")
    code, screen = run_cli(monkeypatch, "batch", "create", "--file", str(plan))
    assert code == 0 and f"({name})" in screen
    ctx = Context.create(settings)
    with ctx.repo.session() as session:
        assert session.query(BatchTask).count() == 1  # no retry needed, so no duplicate
    code, screen = run_cli(monkeypatch, "batch", "status", "1")
    assert code == 0 and name in screen


def test_errors_and_progress_messages_from_redis_are_shown_literally(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = Context.create(settings)
    project = ctx.repo.create_project(name="p", content="x", status=ProjectStatus.FAILED)
    ctx.repo.update_project(
        project.id, error_info={"code": "X", "message": "bad [/] \x1b[2J [link=file:///]l[/link]"}
    )
    code, screen = run_cli(monkeypatch, "status", str(project.id))
    assert code == 0 and "bad [/]" in screen and "[link=file:///]l[/link]" in screen
    no_terminal_commands(screen)
    code, screen = run_cli(monkeypatch, "recover", "--list")
    assert code == 0 and "bad [/]" in screen
    no_terminal_commands(screen)


@pytest.mark.parametrize("text", ESCAPES + MARKUP)
def test_clean_and_json_lines_leave_no_terminal_command(text: str) -> None:
    no_terminal_commands(clean(text))
    no_terminal_commands(json_line({"name": text}))
    assert json.loads(json_line({"name": text})) == {"name": text}  # same data, escaped


def test_a_one_line_error_keeps_its_lines_but_not_its_escapes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, width=300, force_terminal=True))
    with pytest.raises(typer.Exit):
        cli.fail("file is not valid:\n  projects[0].name: [/] \x1b]0;x\x07 \x1b[2J")
    shown = visible(screen.getvalue())
    assert "projects[0].name: [/]" in shown and shown.count("\n") == 2
    no_terminal_commands(shown)


# --- class 3 and 8: names of projects and batches follow one rule ---------------------------

BAD_NAMES = {
    "\u200b\u200b": "no visible character",
    "\ufeff \u200d": "no visible character",
    "\u3000": "is empty",
    "a\u2028b": "U+2028",
    "a\u2029b": "U+2029",
    "\u202egnp.exe": "U+202E",
    "x\u2066y": "U+2066",
    "\x1b]0;pwned\x07": "U+001B",
    "\x1b[2Jx": "U+001B",
    "a\x9bb": "U+009B",
}
GOOD_NAMES = ["👨\u200d👩\u200d👧 家庭", "e\u0301te", "می\u200cخواهم", "夜市 [/] {x}"]


@pytest.mark.parametrize(("name", "rule"), BAD_NAMES.items())
def test_invisible_or_controlling_names_are_refused_for_projects_and_batches(
    name: str, rule: str, tmp_path: Path
) -> None:
    from ytmaker.errors import InputError
    from ytmaker.project_input import new_project

    with pytest.raises(InputError) as project:
        new_project(name, "content", "zh-TW", {})
    assert project.value.details["field"] == "name" and rule in project.value.message
    for field, data in (
        ("name", {"name": name, "projects": [{"name": "ok", "content": "x"}]}),
        ("projects[0].name", {"projects": [{"name": name, "content": "x"}]}),
    ):
        with pytest.raises(InputError) as refused:
            batch.parse_batch(data, tmp_path)
        assert refused.value.details["field"] == field and rule in refused.value.message


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_names_with_joiners_and_marks_inside_visible_text_are_kept(name: str) -> None:
    from ytmaker.project_input import new_project

    assert new_project(name, "content", "zh-TW", {})["name"] == name
    assert batch.parse_batch({"name": name, "projects": [{"name": name, "content": "x"}]}, Path())


def test_a_batch_file_named_with_an_escape_needs_its_own_name(tmp_path: Path) -> None:
    from ytmaker.errors import InputError

    plan = tmp_path / "\x1b[2Jevil.yaml"
    plan.write_text("projects:\n  - name: a\n    content: hi\n", "utf-8")
    with pytest.raises(InputError) as refused:
        batch.load_batch_file(plan)
    assert refused.value.details["field"] == "name" and "give the batch a `name:`" in str(
        refused.value
    )
    (tmp_path / "named.yaml").write_text(
        'name: "\\e]0;pwned\\a"\nprojects:\n  - name: a\n    content: hi\n', "utf-8"
    )
    with pytest.raises(InputError, match="name: contains the control character U\\+001B"):
        batch.load_batch_file(tmp_path / "named.yaml")
