"""`ytmaker`: create projects and run the video flow, with live progress.

The command line lives outside the domain package (`ytmaker/` never imports Prefect, flows or
tasks); its commands are split by area: projects, batches, recovery, watching, services.
"""

from __future__ import annotations

import contextlib
import sys

import typer

from ytmaker.errors import YTMakerError
from ytmaker_cli import (  # noqa: F401
    batches,
    observing,
    projects,
    recovery,
    review,
    services,
    watching,
)
from ytmaker_cli.app import app, fail, log_format_output

__all__ = ["app", "main"]


def main(args: list[str] | None = None) -> None:
    """The `ytmaker` command (`args`: the command line, else sys.argv): a typed error anywhere
    (settings, database, Redis) is one line."""
    try:
        with log_format_output():
            app(args)
    except KeyboardInterrupt:
        sys.exit(130)
    except YTMakerError as exc:
        with contextlib.suppress(typer.Exit):
            fail(exc.message, exc.to_info())
        sys.exit(1)
