"""Hostile input, second round (issue 13): what the CLI prints, which files it reads, how long it
waits for silent services, and that every failure is one line. Real Redis, SQLite, sockets."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from tests.helpers import timed_real_cli
from ytmaker import batch
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.context import Context
from ytmaker.models import BatchTask, ProjectStatus
from ytmaker.terminal import clean, json_line
from ytmaker_cli import app, display, running, watching
from ytmaker_cli.app import screen as cli_screen

# Rich markup and terminal escapes a name, a title or an error message may carry.
MARKUP = ["x [/b]", "[/]", "title [/] end", "[link=file:///etc/passwd]click[/link]", "[bold]b"]
ESCAPES = ["\x1b]0;pwned\x07", "\x1b[2J", "\x1b]8;;file:///etc/passwd\x1b\\x\x1b]8;;\x1b\\"]
ESCAPES += ["\x9b2J", "a\u202egnp.exe", "one\u2028two"]


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    """The CLI in-process, printing to a real (forced) terminal: what a user's screen gets."""
    screen = io.StringIO()
    console = Console(file=screen, width=300, force_terminal=True, color_system="truecolor")
    monkeypatch.setattr(cli_screen, "out", console)
    monkeypatch.setattr(cli_screen, "err", console)
    result = CliRunner().invoke(app, list(args))
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
    ctx = bootstrap(settings)
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
    monkeypatch.setattr(cli_screen, "out", Console(file=screen, width=300, force_terminal=True))
    title = "夜市 [/] [link=file:///etc/passwd]x[/link] \x1b]0;t\x07"
    display.show_summary({"project_id": 1, "status": "COMPLETED [/]", "title": title})
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
    ctx = bootstrap(settings)
    with ctx.repo.session() as session:
        assert session.query(BatchTask).count() == 1  # no retry needed, so no duplicate
    code, screen = run_cli(monkeypatch, "batch", "status", "1")
    assert code == 0 and name in screen


def test_errors_and_progress_messages_from_redis_are_shown_literally(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = bootstrap(settings)
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
    monkeypatch.setattr(cli_screen, "err", Console(file=screen, width=300, force_terminal=True))
    with pytest.raises(typer.Exit):
        running.fail("file is not valid:\n  projects[0].name: [/] \x1b]0;x\x07 \x1b[2J")
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


# --- class 1: a batch file reaches only files under its own folder --------------------------


def outside_layout(tmp_path: Path) -> tuple[Path, Path]:
    """A batch folder, and beside it a 'secret' file the batch must not reach."""
    folder = tmp_path / "batch"
    (folder / "articles").mkdir(parents=True)
    (folder / "articles" / "ok.md").write_text("夜市的小吃很多。", "utf-8")
    secret = tmp_path / "secret" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN PRIVATE KEY----- not for Gemini", "utf-8")
    (folder / "link.md").symlink_to(secret)
    (folder / "linked-dir").symlink_to(secret.parent, target_is_directory=True)
    return folder, secret


def outside_paths(folder: Path, secret: Path) -> list[str]:
    return [
        "../secret/id_rsa",
        "articles/../../secret/id_rsa",
        str(secret),
        "link.md",
        "linked-dir/id_rsa",
        "/etc/passwd",
        "../../../../../../../../etc/passwd",
        "~/.bashrc",
    ]


def batch_yaml(*content_files: str) -> str:
    projects = "".join(
        f"  - name: p{i}\n    content_file: '{path}'\n" for i, path in enumerate(content_files)
    )
    return f"name: b\nprojects:\n{projects}"


def test_a_batch_file_cannot_reach_files_outside_its_folder(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, secret = outside_layout(tmp_path)
    paths = outside_paths(folder, secret)
    plan = folder / "b.yaml"
    plan.write_text(batch_yaml("articles/ok.md", *paths), "utf-8")
    code, screen = run_cli(monkeypatch, "batch", "create", "--file", str(plan))
    assert code == 1 and "BEGIN PRIVATE KEY" not in screen and "root:" not in screen
    for i, path in enumerate(paths, start=1):
        assert f"projects[{i}].content_file: {path} is outside the batch file's folder" in screen
    assert "--allow-outside" in screen and "projects[0]" not in screen
    assert bootstrap(settings).repo.list_projects() == []  # nothing written


def test_allow_outside_lets_the_user_reach_other_folders(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, secret = outside_layout(tmp_path)
    plan = folder / "b.yaml"
    plan.write_text(batch_yaml("articles/ok.md", "../secret/id_rsa", "link.md"), "utf-8")
    code, _ = run_cli(monkeypatch, "batch", "create", "--file", str(plan), "--allow-outside")
    assert code == 0
    contents = [p.content for p in bootstrap(settings).repo.list_projects()]
    assert sorted(contents)[0].startswith("-----BEGIN") and len(contents) == 3


def test_a_symlink_that_stays_inside_the_folder_is_fine(tmp_path: Path) -> None:
    folder, _ = outside_layout(tmp_path)
    (folder / "alias.md").symlink_to(folder / "articles" / "ok.md")
    plan = folder / "b.yaml"
    plan.write_text(batch_yaml("alias.md", "./articles/ok.md"), "utf-8")
    assert [p.content for p in batch.load_batch_file(plan).projects] == ["夜市的小吃很多。"] * 2


# --- class 5: only regular files, never more than the limit plus one byte -------------------


def test_fifos_devices_and_folders_are_refused_without_reading(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    fifo = tmp_path / "batch" / "pipe.md"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    (tmp_path / "batch" / "folder.md").mkdir()
    for given, kind in ((fifo, "a FIFO"), ("/dev/zero", "a character device")):
        code, screen = run_cli(
            monkeypatch, "project", "create", "--name", "a", "--content-file", str(given)
        )
        assert code == 1 and f"--content-file: {given} is not a regular file but {kind}" in screen
        code, screen = run_cli(
            monkeypatch,
            *("project", "create", "--name", "a", "--content-file", str(tmp_path / "batch")),
            *("--prompt-template-file", str(given)),
        )
        assert code == 1 and "is not a regular file but a folder" in screen
    plan = tmp_path / "batch" / "b.yaml"
    plan.write_text(batch_yaml("pipe.md", "folder.md", "/dev/zero", "/dev/urandom"), "utf-8")
    code, screen = run_cli(monkeypatch, "batch", "create", "--file", str(plan), "--allow-outside")
    assert code == 1 and screen.count("is not a regular file") == 4
    code, screen = run_cli(monkeypatch, "batch", "create", "--file", str(fifo))
    assert code == 1 and "is not a regular file but a FIFO" in screen
    assert bootstrap(settings).repo.list_projects() == []


def test_a_huge_file_is_refused_after_reading_at_most_the_limit_plus_one_byte(
    tmp_path: Path,
) -> None:
    import tracemalloc

    from ytmaker.files import read_text_file
    from ytmaker.project_input import CONTENT_MAX_BYTES

    huge = tmp_path / "huge.md"
    with huge.open("wb") as handle:
        handle.truncate(8 * 1024**3)  # 8 GB, sparse: costs no disk
    tracemalloc.start()
    with pytest.raises(ValueError, match="is larger than 200,000 bytes"):
        read_text_file(huge, CONTENT_MAX_BYTES)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * CONTENT_MAX_BYTES
    exact = tmp_path / "exact.md"
    exact.write_bytes("字".encode() * (CONTENT_MAX_BYTES // 3))
    assert len(read_text_file(exact, CONTENT_MAX_BYTES)) == CONTENT_MAX_BYTES // 3


def test_the_real_cli_does_not_hang_on_a_fifo_or_dev_zero(tmp_path: Path) -> None:
    import os

    from tests.helpers import run_cli

    os.mkfifo(tmp_path / "pipe")
    for given in (tmp_path / "pipe", "/dev/zero"):
        result = run_cli(tmp_path, "project", "create", "--name", "a", "--content-file", str(given))
        assert result.returncode == 1 and "is not a regular file" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{content:>2000000000}", "2,000,000,000; widths and precisions go up to 200"),
        ("{content} {segment_min:.100000f}", "100,000"),
        ("{content} {language:x^999}", "999"),
        ("{content}" * 3, "uses {content} 3 times; at most 2"),
    ],
)
def test_format_specs_cannot_build_a_huge_prompt(template: str, words: str) -> None:
    from ytmaker.errors import InputError
    from ytmaker.project_input import new_project

    with pytest.raises(InputError) as refused:
        new_project("a", "text", "zh-TW", {}, template)
    assert refused.value.details["field"] == "prompt_template" and words in refused.value.message
    with pytest.raises(InputError, match="prompt_template"):
        batch.parse_batch(
            {"projects": [{"name": "a", "content": "x", "prompt_template": template}]}, Path()
        )


def test_small_format_specs_still_work() -> None:
    from ytmaker.prompts import check_template, fill

    template = "{content:>12}|{segment_min:.1f}|{total_max:g}|{content}"
    assert fill(
        check_template(template), {"content": "夜市", "segment_min": 5, "total_max": 600.0}
    ) == ("          夜市|5.0|600|夜市")


# --- class 8 and 6: YAML that would silently drop projects or crash the parser ---------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "projects:\n  - {name: a, content: x}\nprojects:\n  - {name: b, content: y}\n",
            "the key 'projects' is given twice (lines 1 and 3)",
        ),
        (
            "projects:\n  - name: a\n    content: x\n    name: b\n",
            "the key 'name' is given twice (lines 2 and 4)",
        ),
        ("projects:\n  - {name: a, content: x, youtube: {tags: [t], tags: [u]}}\n", "'tags'"),
        ("projects: " + "[" * 100_000, "nested too deeply"),
        ("projects: " + "{a: " * 50_000, "nested too deeply"),
    ],
)
def test_yaml_with_duplicate_keys_or_deep_nesting_is_one_clear_error(
    text: str, words: str, tmp_path: Path
) -> None:
    from ytmaker.errors import InputError

    plan = tmp_path / "b.yaml"
    plan.write_text(text, "utf-8")
    with pytest.raises(InputError) as refused:
        batch.load_batch_file(plan)
    assert refused.value.details["field"] == "file" and words in refused.value.message


def test_merge_keys_and_aliases_still_work_and_stay_small(tmp_path: Path) -> None:
    import time

    from ytmaker.errors import InputError

    plan = tmp_path / "b.yaml"
    plan.write_text(
        "x: &d {content: hi, language: en}\nprojects:\n  - <<: *d\n    name: a\n", "utf-8"
    )
    with pytest.raises(InputError, match="x: unknown field"):
        batch.load_batch_file(plan)
    laughs = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    laughs += [
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    plan.write_text(
        "\n".join(laughs) + "\nprojects:\n  - {name: a, content: x, youtube: {tags: *i}}\n"
    )
    started = time.monotonic()
    with pytest.raises(InputError, match="projects\\[0\\].youtube.tags"):
        batch.load_batch_file(plan)
    assert time.monotonic() - started < 5  # 9^9 tags by reference, never expanded


# --- class 4: services that accept and never answer ------------------------------------------


class SilentServer:
    """Accepts TCP connections and never answers: a hung Redis or Prefect API."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_a_silent_redis_costs_a_stage_about_a_second_and_warns_once(
    silent: SilentServer, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    import logging
    import time

    from ytmaker.pipeline import script

    caplog.set_level(logging.WARNING, logger="ytmaker.progress")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{silent.port}/0")
    ctx = bootstrap(Settings())
    project = ctx.repo.create_project(name="夜市", content="夜市的小吃很多。" * 20)
    started = time.monotonic()
    script.run(ctx, project.id)
    for step in range(100):  # a stage's worth of progress messages
        ctx.bus.publish(project.id, "asset_generation", step, "working")
    spent = time.monotonic() - started
    assert ctx.repo.get_project(project.id).status is ProjectStatus.SCRIPT_GENERATED
    assert spent < 3.0, spent  # one 1-s timeout, then skipped (was 10 s a message)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warned == [
        f"Progress not published (Redis at redis://127.0.0.1:{silent.port}/0 did not answer "
        "within 1.0 s); the video goes on"
    ]


def test_timeouts_back_off_so_a_long_video_tries_a_silent_redis_a_few_times(
    silent: SilentServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from ytmaker import progress

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{silent.port}/0")
    bus = bootstrap(Settings()).bus
    pauses = []
    for _ in range(4):
        bus._breaker.down_until = 0.0  # as if the pause had passed
        bus.publish(1, "video_rendering", 1, "x")
        pauses.append(round(bus._breaker.down_until - time.monotonic()))
    assert pauses == [30, 60, 120, 240]
    tries, t = 0, 0.0  # a 10-minute video: tries at 0, 30, 90, 210, 450 s
    while t < 600:
        tries += 1
        t += min(progress.SLOW_RETRY_AFTER * 2 ** (tries - 1), progress.SLOW_RETRY_MAX)
    assert tries == 5


def test_batch_status_names_a_silent_redis_within_seconds(
    silent: SilentServer, tmp_path: Path
) -> None:
    plan = tmp_path / "b.yaml"
    plan.write_text(
        "projects:\n" + "".join(f"  - {{name: p{i}, content: x}}\n" for i in range(5)), "utf-8"
    )
    assert timed_real_cli(tmp_path, "batch", "create", "--file", str(plan))[0] == 0
    url = f"redis://127.0.0.1:{silent.port}/0"
    code, shown, _ = timed_real_cli(tmp_path, "batch", "status", "1", REDIS_URL=url)
    assert code == 0 and "p4" in shown
    assert len(silent.held) <= 2  # the breaker stops asking after one silence (was: once a row)
    assert f"Redis at {url} did not answer within 1.0 s" in shown
    assert "Traceback" not in shown


def test_the_prefect_api_check_gives_up_after_its_wait(
    silent: SilentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from prefect.settings import PREFECT_API_URL, temporary_settings

    screen = io.StringIO()
    monkeypatch.setattr(cli_screen, "err", Console(file=screen, width=300))
    url = f"http://user:pw-123@127.0.0.1:{silent.port}/api"
    started = time.monotonic()
    with temporary_settings({PREFECT_API_URL: url}), pytest.raises(typer.Exit):
        running.check_prefect_api()
    assert time.monotonic() - started < running.PREFECT_API_WAIT + 2
    assert f"The Prefect API at http://user:***@127.0.0.1:{silent.port}/api did not answer" in (
        screen.getvalue()
    )


def test_generate_and_batch_run_name_a_silent_prefect_api_in_one_line(
    silent: SilentServer, tmp_path: Path
) -> None:
    plan = tmp_path / "b.yaml"
    plan.write_text("projects:\n  - {name: a, content: 夜市的小吃很多。}\n", "utf-8")
    assert timed_real_cli(tmp_path, "batch", "create", "--file", str(plan))[0] == 0
    url = f"http://user:pw-123@127.0.0.1:{silent.port}/api"
    for args in (("generate", "1"), ("batch", "run", "1"), ("batch", "run", "1", "--deployment")):
        code, shown, seconds = timed_real_cli(tmp_path, *args, PREFECT_API_URL=url)
        # ~8 s on this machine (Python and Prefect start-up + the 5 s check); was for ever
        assert code == 1 and seconds < 60, (args, seconds)
        assert (
            f"The Prefect API at http://user:***@127.0.0.1:{silent.port}/api did not answer"
            in shown
        )
        assert "pw-123" not in shown and len(shown.strip().splitlines()) == 1


# --- class 6: values in Redis that are not what we wrote ------------------------------------

NOT_OURS = [
    "garbage",
    "[1, 2]",
    "null",
    '{"stage": "script_generation", "progress": "abc"}',
    '{"stage": "nope", "progress": 1e999}',
    '{"stage": 5, "progress": 5}',
    '{"stage": "video_rendering", "progress": true, "message": "[/]"}',
    "[" * 100_000,
]


@pytest.fixture
def own_redis(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Context, object]]:
    """A private redis-server (no other test run publishes on its progress:1)."""
    from tests.test_faults import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    monkeypatch.setenv("REDIS_URL", server.url)
    yield bootstrap(reload_settings()), server.client()  # the CLI reads the same settings
    server.kill()


@pytest.mark.parametrize("body", NOT_OURS)
def test_a_latest_progress_value_not_ours_is_ignored(
    body: str, own_redis: tuple[Context, object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ctx, client = own_redis
    plan = tmp_path / "b.yaml"
    plan.write_text("projects:\n  - {name: a, content: x}\n", "utf-8")
    batch.create_batch(ctx.repo, batch.load_batch_file(plan))
    ctx.repo.update_project(1, status=ProjectStatus.RENDERING)
    client.set(ctx.bus.latest_key(1), body)
    assert ctx.bus.latest(1) is None
    code, screen = run_cli(monkeypatch, "batch", "status", "1")
    assert code == 0 and "RENDERING" in screen
    code, screen = run_cli(monkeypatch, "watch", "1", "--timeout", "0.5")
    assert code == 0


def test_messages_not_ours_on_the_channel_are_skipped_by_watch(
    own_redis: tuple[Context, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    ctx, client = own_redis
    project = ctx.repo.create_project(name="a", content="x")

    def publish() -> None:
        time.sleep(0.5)
        for body in NOT_OURS:
            client.publish(f"progress:{project.id}", body)
        good = '{"stage": "youtube_upload", "progress": 100, "message": "done [/]"}'
        ctx.repo.update_project(project.id, status=ProjectStatus.COMPLETED)  # as the stage does
        client.publish(f"progress:{project.id}", good)

    threading.Thread(target=publish, daemon=True).start()
    screen = io.StringIO()
    outcome = watching.follow(ctx, project.id, timeout=10, console=Console(file=screen, width=200))
    assert outcome == "COMPLETED" and "done [/]" in screen.getvalue()


@pytest.mark.parametrize(
    "body",
    [
        "garbage",
        "[1]",
        '{"service": "gemini"}',
        '{"service": "gemini", "used": "lots"}',
        '{"service": "did", "used": 1}',
        '{"service": "gemini", "used": 1, "percent": NaN}',
        '{"service": "gemini", "used": 1, "surprise": 2}',
    ],
)
def test_a_quota_value_not_ours_falls_back_to_the_database(
    body: str, own_redis: tuple[Context, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, client = own_redis
    client.set("quota:gemini", body)
    code, screen = run_cli(monkeypatch, "quota")
    assert code == 0 and "gemini" in screen
    code, screen = run_cli(monkeypatch, "quota", "--json")
    assert code == 0 and "lots" not in screen


# --- class 6: one line, exit code 1, nothing written ----------------------------------------


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DATABASE_URL": "garbage"}, "DATABASE_URL: is not a database URL"),
        ({"DATABASE_URL": "foo://x"}, "Can't load plugin"),
        ({"DATABASE_URL": "postgresql://u:pw-123@127.0.0.1:1/x"}, "u:***@127.0.0.1:1/x"),
        ({"DATABASE_URL": "sqlite:////nonexistent-ytm/dir/x.db"}, "does not exist; create it"),
        ({"REDIS_URL": "notaurl"}, "REDIS_URL: is not a Redis URL"),
        ({"REDIS_URL": "redis://:pw-123@host:port/0"}, "REDIS_URL: is not a Redis URL"),
        ({"YTMAKER_DATA_DIR": "/proc/ytmaker"}, "YTMAKER_DATA_DIR=/proc/ytmaker cannot be used"),
    ],
)
def test_bad_settings_are_one_line_and_write_nothing(
    env: dict[str, str], words: str, tmp_path: Path
) -> None:
    code, shown, _ = timed_real_cli(tmp_path / "data", "status", **env)
    assert code == 1 and words in shown and len(shown.strip().splitlines()) == 1, shown
    assert "pw-123" not in shown and "Traceback" not in shown
    assert not (tmp_path / "data").exists() and not Path("/nonexistent-ytm").exists()


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    code, shown, _ = timed_real_cli(tmp_path / "file", "status")
    assert code == 1 and "cannot be used as the data folder (it is a file)" in shown
    assert len(shown.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("status", "9223372036854775808"),
        ("generate", "9223372036854775808"),
        ("watch", "99999999999999999999"),
        ("retry-failed", "2147483648"),
        ("batch", "status", "9223372036854775808"),
        ("batch", "run", "0"),
    ],
)
def test_ids_beyond_what_a_database_holds_are_one_line(
    args: tuple[str, ...], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, screen = run_cli(monkeypatch, *args)
    assert code == 1 and "is not an id: ids are whole numbers from 1 to 2,147,483,647" in screen
    assert len(screen.strip().splitlines()) == 1


def test_the_database_layer_treats_huge_ids_as_missing(settings: Settings) -> None:
    from ytmaker.errors import ProjectNotFound

    ctx = bootstrap(settings)
    for huge in (2**63, 2**31, -(2**70)):
        with pytest.raises(ProjectNotFound):
            ctx.repo.get_project(huge)
        with pytest.raises(batch.BatchNotFound):
            batch.get_batch(ctx.repo, huge)
        assert ctx.repo.assets(huge) == []


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59-00:01"])
def test_a_publish_time_past_the_calendar_is_one_line(
    when: str, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = tmp_path / "a.md"
    article.write_text("夜市", "utf-8")
    code, screen = run_cli(
        monkeypatch,
        *("project", "create", "--name", "a", "--content-file", str(article)),
        *("--publish-at", when),
    )
    assert code == 1 and "youtube.publish_at: " in screen and "beyond the last time" in screen
    plan = tmp_path / "b.yaml"
    plan.write_text(f"projects:\n  - {{name: a, content: x, youtube: {{publish_at: '{when}'}}}}\n")
    code, screen = run_cli(monkeypatch, "batch", "create", "--file", str(plan))
    assert code == 1 and "projects[0].youtube.publish_at: " in screen
    assert bootstrap(settings).repo.list_projects() == []


@pytest.mark.slow
def test_a_failed_generate_prints_no_prefect_traceback(tmp_path: Path) -> None:
    article = tmp_path / "a.md"
    article.write_text("夜市的小吃很多。", "utf-8")
    created = timed_real_cli(
        tmp_path, "project", "create", "--name", "a", "--content-file", str(article)
    )
    assert created[0] == 0
    # the in-process API server says more than usual: none of it may reach the terminal (its
    # `Error flushing 1 events` traceback did when it was stopped at the end of the command)
    code, shown, _ = timed_real_cli(
        tmp_path,
        "generate",
        "1",
        YTMAKER_TOTAL_MIN_SECONDS="180",
        PREFECT_SERVER_LOGGING_LEVEL="INFO",
    )
    assert code == 1 and "Traceback" not in shown and "flow_engine.py" not in shown, shown
    errors = [line for line in shown.splitlines() if "Error" in line or "ERROR" in line]
    assert len(errors) == 1 and errors[0].startswith("錯誤 Error: The content is too short")
    assert "uvicorn" not in shown and "prefect.server" not in shown, shown
    server_log = (tmp_path / "prefect" / "server.log").read_text("utf-8")
    assert "Started server process" in server_log and "prefect.server" in server_log


# --- class 7: recover and stored state -----------------------------------------------------


def test_recover_lists_orphan_state_files_and_skips_them(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = bootstrap(settings)
    failed = ctx.repo.create_project(name="kept", content="x", status=ProjectStatus.FAILED)
    for folder, state in (
        ("77", {"project_id": 77, "status": "rendering"}),  # the database was reset
        ("78", {"project_id": "seventy-eight", "status": "rendering"}),
        ("79", {"project_id": 2**80, "status": "rendering"}),
    ):
        (settings.data_dir / "projects" / folder).mkdir(parents=True)
        (settings.data_dir / "projects" / folder / "project_state.json").write_text(
            json.dumps(state)
        )
    code, screen = run_cli(monkeypatch, "recover", "--list")
    assert code == 0, screen
    rows = [line for line in screen.splitlines() if line.startswith("│ ")]
    assert rows[0].startswith(f"│ {failed.id} ") and "FAILED" in rows[0]
    assert "77" in screen and "ORPHAN" in screen and "not in the database; skipped" in screen
    assert "seventy-eight" not in screen and str(2**80) not in screen
    ctx.repo.update_project(failed.id, status=ProjectStatus.COMPLETED)
    code, screen = run_cli(monkeypatch, "recover")  # nothing it can resume: no flow is started
    assert code == 0 and "ORPHAN" in screen


def visual_file(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "look" / "visual.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(data), "utf-8")
    return path


def font_and_logo(folder: Path) -> tuple[Path, Path]:
    from ytmaker.media.fonts import font_path

    folder.mkdir(parents=True, exist_ok=True)
    font = folder / "brand.otf"
    font.write_bytes(Path(font_path()).read_bytes())  # a real font: it is opened at create
    logo = folder / "logo.png"
    from PIL import Image

    Image.new("RGBA", (8, 8)).save(logo)
    return font, logo


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"subtitles": {"colour": "#FFF"}}, "unknown field 'subtitles.colour'"),
        ({"subtitles": {"font_family": "A\nDialogue: 0,0:00:00.00"}}, "U+000A"),
        ({"subtitles": {"font_family": "Arial,Bold"}}, "U+002C"),
        ({"subtitles": {"font_file": "notes.txt"}}, "is not an OpenType or TrueType font"),
        ({"logo": {"path": "missing.png"}}, "file not found"),
        ({"music": {"path": "/dev/zero"}}, "file not found"),
        ({"crossfade": 99}, "'crossfade'"),
        ([1, 2], "must hold a JSON object"),
    ],
)
def test_a_bad_visual_config_is_refused_at_create(
    data: object,
    words: str,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    article = tmp_path / "a.md"
    article.write_text("夜市", "utf-8")
    (tmp_path / "look").mkdir()
    (tmp_path / "look" / "notes.txt").write_text("not a font")
    code, screen = run_cli(
        monkeypatch,
        *("project", "create", "--name", "a", "--content-file", str(article)),
        *("--visual-config", str(visual_file(tmp_path, data))),
    )
    assert code == 1 and words in screen, screen
    assert bootstrap(settings).repo.list_projects() == []


def test_a_good_visual_config_is_stored_with_absolute_paths(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    font, logo = font_and_logo(tmp_path / "look")
    article = tmp_path / "a.md"
    article.write_text("夜市", "utf-8")
    data = {"subtitles": {"font_file": "brand.otf", "size": 60}, "logo": {"path": "logo.png"}}
    code, _ = run_cli(
        monkeypatch,
        *("project", "create", "--name", "a", "--content-file", str(article)),
        *("--visual-config", str(visual_file(tmp_path, data))),
    )
    assert code == 0
    (project,) = bootstrap(settings).repo.list_projects()
    assert project.visual_config == {
        "subtitles": {"font_file": str(font.resolve()), "size": 60},
        "logo": {"path": str(logo.resolve())},
    }


def test_a_batch_visual_config_is_checked_and_its_files_stay_in_the_folder(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "batch"
    font, logo = font_and_logo(folder / "brand")
    font_and_logo(tmp_path / "elsewhere")
    plan = folder / "b.yaml"
    plan.write_text(
        "visual_config: {logo: {path: brand/logo.png}}\n"
        "projects:\n"
        "  - {name: ok, content: x, visual_config: {subtitles: {font_file: brand/brand.otf}}}\n"
        "  - {name: out, content: x, visual_config: {logo: {path: ../elsewhere/logo.png}}}\n"
        "  - {name: font, content: x, visual_config: {subtitles: {font_file: b.yaml}}}\n"
        "  - {name: bad, content: x, visual_config: {avatar: {mode: huge}}}\n"
        "  - {name: inj, content: x, visual_config: {subtitles: {font_family: 'a}{\\\\an8'}}}\n",
        "utf-8",
    )
    code, screen = run_cli(monkeypatch, "batch", "create", "--file", str(plan))
    assert code == 1
    assert "projects[1].visual_config.logo.path: ../elsewhere/logo.png is outside" in screen
    assert "projects[2].visual_config" in screen and "not an OpenType or TrueType" in screen
    assert "projects[3].visual_config" in screen and "'avatar.mode'" in screen
    assert "projects[4].visual_config" in screen and "U+007D" in screen
    assert "projects[0]" not in screen
    plan.write_text(plan.read_text().split("  - {name: out")[0], "utf-8")
    code, _ = run_cli(monkeypatch, "batch", "create", "--file", str(plan))
    assert code == 0
    (project,) = bootstrap(settings).repo.list_projects()
    assert project.visual_config == {
        "logo": {"path": str(logo.resolve())},
        "subtitles": {"font_file": str(font.resolve())},
    }


def test_a_stored_bad_visual_config_fails_before_the_script_is_paid_for(
    settings: Settings,
) -> None:
    from tests.servers.gemini import FakeGemini, valid_script
    from ytmaker.errors import ConfigError
    from ytmaker.pipeline import script
    from ytmaker.providers.gemini import GeminiScriptWriter

    with FakeGemini() as server:
        server.script_text = valid_script(segments=3, seconds=6)
        writer = GeminiScriptWriter(server.api_key, base_url=server.url)
        ctx = bootstrap(settings, script_writer=writer)
        fresh = ctx.repo.create_project(
            name="a", content="夜市", visual_config={"subtitles": {"colour": "red"}}
        )
        with pytest.raises(ConfigError, match="subtitles.colour"):
            script.run(ctx, fresh.id)
        stored = ctx.repo.get_project(fresh.id)
        assert stored.status is ProjectStatus.FAILED and stored.script is None
        assert stored.error_info["field"] == "visual_config.subtitles.colour"
        published = ctx.repo.create_project(
            name="b",
            content="夜市",
            status=ProjectStatus.COMPLETED,
            youtube_video_id="abcdefghijk",
            visual_config={"logo": {"path": "gone.png"}},
        )
        with pytest.raises(ConfigError, match="logo.path"):
            script.run(ctx, published.id)
        assert ctx.repo.get_project(published.id).status is ProjectStatus.COMPLETED
        assert server.requests_to(":generateContent", "POST") == []  # nothing paid for


def test_a_font_family_cannot_add_lines_to_the_subtitles() -> None:
    from ytmaker.media.subtitles import AssStyle, Cue, to_ass

    family = "Evil,1\nDialogue: 0,0:00:00.00,9:00:00.00,Default,,0,0,0,,INJECTED"
    ass = to_ass([Cue(0.0, 1.0, "hi")], style=AssStyle(font_family=family))
    assert [line for line in ass.splitlines() if line.startswith("Dialogue:")] == [
        "Dialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,hi"
    ]
    (style,) = [line for line in ass.splitlines() if line.startswith("Style:")]
    assert len(style.split(",")) == 23  # the fields of the Format line, no more


# --- class 8: tags and titles YouTube would refuse -----------------------------------------


@pytest.mark.parametrize("tags", ["a\x1b[2Jb,c", "<script>,b", "x>y", "a\u202eb", "one\u2028two"])
def test_tags_with_controls_or_angle_brackets_are_refused(
    tags: str, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = tmp_path / "a.md"
    article.write_text("夜市", "utf-8")
    code, screen = run_cli(
        monkeypatch,
        *("project", "create", "--name", "a", "--content-file", str(article), "--tags", tags),
    )
    assert code == 1 and "youtube.tags: " in screen and "YouTube refuses" in screen
    no_terminal_commands(screen)
    data = {"projects": [{"name": "a", "content": "x", "youtube": {"tags": tags.split(",")}}]}
    with pytest.raises(Exception, match="projects\\[0\\].youtube.tags"):
        batch.parse_batch(data, tmp_path)
    assert bootstrap(settings).repo.list_projects() == []


def test_an_llm_title_is_made_acceptable_before_upload() -> None:
    from tests.servers.gemini import valid_script
    from ytmaker.models import Project
    from ytmaker.pipeline.upload import publish_request
    from ytmaker.script import Script

    raw = valid_script(segments=3, seconds=6)
    raw["metadata"].update(
        title="<b>夜市</b> \x1b[2J A > B", description="x <i>y</i>\x07", tags=["a<b", "c\x1bd"]
    )
    request = publish_request(
        Project(name="n", youtube_settings={}),
        Script.model_validate({**raw, "language": "zh-TW"}),
        "private",
    )
    assert request.title == "b夜市/b [2J A B" and request.description == "x iy/i"
    assert request.tags == ["ab", "cd"]
    raw["metadata"]["title"] = "<>\x1b"
    request = publish_request(
        Project(name="夜市", youtube_settings={}),
        Script.model_validate({**raw, "language": "zh-TW"}),
        "private",
    )
    assert request.title == "夜市"
