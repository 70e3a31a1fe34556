"""The Typer apps and what every command shares: settings into a context, ids checked, errors
as one line.

The command modules import the domain (database, Redis, Prefect) inside their commands, not at
the top: `ytmaker --help` then loads none of it, and `status` no Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, NoReturn

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


def an_id(value: int | None) -> int | None:
    """Ids are whole numbers the database can hold: anything else is one line, not a crash."""
    from ytmaker.models import ID_MAX

    if value is not None and not 1 <= value <= ID_MAX:
        fail(f"{value} is not an id: ids are whole numbers from 1 to {ID_MAX:,}.")
    return value


ProjectId = Annotated[int, typer.Argument(help="A project id.", callback=an_id)]
BatchId = Annotated[int, typer.Argument(help="A batch id.", callback=an_id)]


def fail(message: str) -> NoReturn:
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
        return bootstrap(get_settings())
    except YTMakerError as exc:
        fail(exc.message)
        raise  # unreachable
