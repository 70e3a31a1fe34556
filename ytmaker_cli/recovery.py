"""Interrupted and failed projects: list them, resume them; finished work is kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ytmaker.terminal import literal
from ytmaker_cli.app import app, context, fail, screen

if TYPE_CHECKING:
    from ytmaker.context import Context


@app.command()
def recover(
    list_only: Annotated[bool, typer.Option("--list", help="Only list, do not resume.")] = False,
) -> None:
    """List interrupted or failed projects and resume them; finished work is kept."""
    from ytmaker_cli.running import run_flow

    ctx = context()
    stuck = interrupted_projects(ctx)
    table = Table("id", "status", "stage", "finished assets", "error")
    for row in stuck:
        table.add_row(*(literal(row[k]) for k in ("id", "status", "stage", "finished", "error")))
    screen.out.print(table if stuck else "Nothing to recover: every project finished.")
    if list_only:
        return
    resumable = [row for row in stuck if row["status"] != ORPHAN]
    failed = [row["id"] for row in resumable if run_flow(ctx, row["id"]) is not None]
    if failed:
        fail(f"Still failing: projects {', '.join(map(str, failed))} (see `ytmaker status ID`).")


ORPHAN = "ORPHAN"


def _shortened(text: str, limit: int) -> str:
    """Long enough to keep what to do (the setting to raise); cut visibly when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def interrupted_projects(ctx: Context) -> list[dict[str, Any]]:
    """Projects not COMPLETED, from the database and the state files alike. A state file for a
    project the database does not have (after a reset or a move to PostgreSQL) is listed as
    ORPHAN and never resumed."""
    from ytmaker.db import valid_id
    from ytmaker.errors import ProjectNotFound
    from ytmaker.models import AssetStatus, ProjectStatus
    from ytmaker.review import PERSON_DECIDES
    from ytmaker.state import recover_interrupted_tasks
    from ytmaker.summary import stage_of

    settled = (ProjectStatus.COMPLETED, ProjectStatus.INITIALIZED, *PERSON_DECIDES)
    ids = {p.id for p in ctx.repo.list_projects(limit=1000) if p.status not in settled}
    ids |= {
        s["project_id"]
        for s in recover_interrupted_tasks(ctx.settings.data_dir)
        if valid_id(s.get("project_id"))
    }
    rows = []
    for project_id in sorted(ids):
        try:
            project = ctx.repo.get_project(project_id)
        except ProjectNotFound:
            rows.append(_orphan(ctx, project_id))
            continue
        if project.status in settled:  # a person decides what happens to a held video
            continue
        finished = sum(a.status is AssetStatus.COMPLETED for a in ctx.repo.assets(project_id))
        rows.append(
            {
                "id": project_id,
                "status": project.status.value,
                "stage": stage_of(project),
                "finished": finished,
                "error": _shortened((project.error_info or {}).get("message", ""), 160),
            }
        )
    return rows


def _orphan(ctx: Context, project_id: int) -> dict[str, Any]:
    where = ctx.project_dir(project_id)
    return {
        "id": project_id,
        "status": ORPHAN,
        "stage": "-",
        "finished": 0,
        "error": f"only a state file in {where}: not in the database; skipped",
    }
