"""The Typer apps and what every command shares: settings into a context, ids checked, errors
as one line.

The command modules import the domain (database, Redis, Prefect) inside their commands, not at
the top: `ytmaker --help` then loads none of it, and `status` no Prefect.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from ytmaker.errors import YTMakerError
from ytmaker.terminal import markup_safe

if TYPE_CHECKING:
    from ytmaker.context import Context

app = typer.Typer(help="YTMaker Flow: text in, narrated video out.", no_args_is_help=True)
project_app = typer.Typer(help="Create projects.", no_args_is_help=True)
batch_app = typer.Typer(help="Batches of projects from a YAML file.", no_args_is_help=True)
youtube_app = typer.Typer(help="YouTube channel access.", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(batch_app, name="batch")
app.add_typer(youtube_app, name="youtube")


@dataclass
class Screen:
    """Where commands print: results on stdout, progress and errors on stderr (tests swap them)."""

    out: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))


screen = Screen()
log = logging.getLogger("ytmaker_cli")


class LogLines(io.StringIO):
    """A stream whose lines become log records: with YTMAKER_LOG_FORMAT=json, what commands
    print on stderr arrives as JSON lines like every other log line."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            if line.strip():
                log.info(line.rstrip())
        return len(text)


@contextlib.contextmanager
def log_format_output() -> Iterator[None]:
    """Around one command: what `context()` switched stderr to is switched back after it."""
    kept = screen.err
    try:
        yield
    finally:
        screen.err = kept


def use_log_format(log_format: str) -> None:
    """With JSON log lines, what the command prints on stderr becomes such lines too; with
    text, a stage's failure is not logged on the screen beside the command's own one line."""
    if log_format == "json" and live():
        screen.err = Console(file=LogLines(), width=10_000, no_color=True, highlight=False)
    elif log_format != "json":
        from ytmaker import logs

        logs.on_consoles(StageFailureShownByCommand())


class StageFailureShownByCommand(logging.Filter):
    """The command prints a failed stage as `錯誤 Error: …` (and `status` shows it later): the
    same failure as an ERROR log line on the terminal said it twice. The run log keeps it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "ytmaker.bookkeeping" and hasattr(record, "error_code"))


def live() -> bool:
    """Whether progress is drawn live on stderr (not when stderr carries JSON log lines)."""
    return not isinstance(screen.err.file, LogLines)


def an_id(value: int | None) -> int | None:
    """Ids are whole numbers the database can hold: anything else is one line, not a crash."""
    from ytmaker.models import ID_MAX

    if value is not None and not 1 <= value <= ID_MAX:
        fail(f"{value} is not an id: ids are whole numbers from 1 to {ID_MAX:,}.")
    return value


ProjectId = Annotated[int, typer.Argument(help="A project id.", callback=an_id)]
BatchId = Annotated[int, typer.Argument(help="A batch id.", callback=an_id)]


def fail(message: str, error: dict[str, Any] | None = None) -> NoReturn:
    """The command's error in one line and exit 1; `error` (an error_info) gives a JSON log
    line its code and details."""
    if not live():
        from ytmaker import logs

        log.error(message, extra=logs.error_fields(error) if error else None)
        raise typer.Exit(1)
    screen.err.print(
        f"[bold red]錯誤 Error:[/] {markup_safe(message, multiline=True)}",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


def context() -> Context:
    from ytmaker.bootstrap import bootstrap
    from ytmaker.config import get_settings

    try:
        settings = get_settings()
        use_log_format(settings.log_format)
        return bootstrap(settings)
    except YTMakerError as exc:
        fail(exc.message)
        raise  # unreachable
