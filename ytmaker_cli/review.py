"""`ytmaker review`: list the videos waiting for a person, show one, approve or reject it.

A decision is taken once (ytmaker.review.decide). Then, for a project whose run is suspended on
a work pool, that run is resumed through the API the Prefect UI's Resume button uses (the
worker uploads); otherwise the remaining stages run here in a new run that finds every asset
made (nothing is paid again) and uploads with the approved metadata.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer
from rich.markdown import Markdown
from rich.table import Table

from ytmaker.errors import InputError, YTMakerError
from ytmaker.terminal import json_line, literal
from ytmaker_cli.app import an_id, app, context, fail, screen

if TYPE_CHECKING:
    from ytmaker.context import Context

log = logging.getLogger(__name__)


@app.command("review")
def review_command(
    project_id: Annotated[int | None, typer.Argument(help="A project id.")] = None,
    approve: Annotated[bool, typer.Option("--approve", help="Publish it.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Do not publish it.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (kept with the project).")] = None,
    title: Annotated[str | None, typer.Option(help="Upload with this title.")] = None,
    description: Annotated[str | None, typer.Option(help="... this description.")] = None,
    tags: Annotated[str | None, typer.Option(help="... these tags (comma-separated).")] = None,
    privacy: Annotated[str | None, typer.Option(help="private, unlisted or public.")] = None,
    publish_at: Annotated[
        str | None, typer.Option(help="Schedule, e.g. 2026-12-24T20:00 (Asia/Taipei if no offset).")
    ] = None,
    ai_generated: Annotated[
        bool | None,
        typer.Option("--ai-generated/--not-ai-generated", help="YouTube's synthetic-media flag."),
    ] = None,
    edit: Annotated[
        bool, typer.Option("--edit", help="Script review: edit the script in $EDITOR, approve.")
    ] = False,
    script_file: Annotated[
        Path | None,
        typer.Option("--script", help="Script review: approve with this YAML script."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Videos waiting for a person (after the script, before upload): list them, show one
    (its script, or the finished video), edit the script, approve or reject it."""
    from ytmaker import review
    from ytmaker.review_report import review_summary

    an_id(project_id)
    ctx = context()
    review.expire_overdue(ctx)
    edits = {
        "title": title,
        "description": description,
        "tags": None if tags is None else [t.strip() for t in tags.split(",") if t.strip()],
        "privacy": privacy,
        "publish_at": publish_at,
        "ai_generated": ai_generated,
    }
    edits = {key: value for key, value in edits.items() if value is not None}
    if project_id is None:
        if approve or reject or edits or reason is not None:
            fail("Give the project id: ytmaker review ID --approve (or --reject).")
        show_waiting(ctx, as_json)
        return
    if approve and reject:
        fail("--approve or --reject, not both.")
    if _script_step(ctx, project_id, approve, reject, reason, edits, edit, script_file, as_json):
        return
    if (edits and not approve) or (reason is not None and not (approve or reject)):
        fail(
            "--title, --description, --tags, --privacy, --publish-at go with --approve; "
            "--reason with --approve or --reject."
        )
    try:
        info = review_summary(ctx, project_id)
    except YTMakerError as exc:
        fail(exc.message)
    if not (approve or reject):
        show_one(info, as_json)
        return
    decision = _decision(info, "approve" if approve else "reject", reason, edits)
    take_decision(ctx, project_id, decision, as_json)


def _script_step(
    ctx: Context,
    project_id: int,
    approve: bool,
    reject: bool,
    reason: str | None,
    edits: dict[str, Any],
    edit: bool,
    script_file: Path | None,
    as_json: bool,
) -> bool:
    """A project waiting for its script to be read: show, edit, decide (True: done here)."""
    from ytmaker import review
    from ytmaker_cli import script_review

    try:
        project = ctx.repo.get_project(project_id)
    except YTMakerError as exc:
        fail(exc.message)
    if not review.waits_for_script(project):
        if edit or script_file is not None:
            fail(
                f"Project {project_id} is not waiting for its script to be read (status "
                f"{project.status.value}): --edit and --script are for the script review."
            )
        return False
    if edits:
        fail(
            "The script review takes --edit or --script FILE (the title, description and tags "
            "are in the script), --approve, or --reject [--reason]."
        )
    if reject and (edit or script_file is not None):
        fail("--edit and --script approve an edited script: not with --reject.")
    if not (approve or reject or edit or script_file is not None):
        if reason is not None:
            fail("--reason goes with --approve or --reject.")
        script_review.show_script(ctx, project, as_json)
        return True
    text = script_review.edited_text(ctx, project, script_file, edit)
    source = f"--script {script_file}" if script_file is not None else "The edited script"
    verdict = "reject" if reject else "approve"
    root = script_file.resolve().parent if script_file is not None else Path.cwd()
    script_review.decide_script(ctx, project, verdict, reason, text, source, as_json, root)
    return True


def _decision(
    info: dict[str, Any], verdict: str, reason: str | None, edits: dict[str, Any]
) -> dict[str, Any]:
    """The form as the user filled it: what was proposed, with their edits; checked by the
    form's and project create's rules, each refusal naming the option."""
    from ytmaker.review_form import CLI_OPTIONS, checked_decision

    proposed = info.get("proposed") or {"title": info.get("name") or "Untitled"}
    values = {**proposed, **edits, "decision": verdict, "reason": reason or ""}
    try:
        checked_decision(values)
    except InputError as exc:
        lines = [
            f"  {CLI_OPTIONS.get(p['field'].split('[')[0], p['field'])}: {p['message']}"
            for p in exc.details["problems"]
        ]
        fail("ytmaker review: not accepted:\n" + "\n".join(lines))
    return values


def take_decision(ctx: Context, project_id: int, values: dict[str, Any], as_json: bool) -> None:
    """Decide once; then resume the suspended run, or run what is left here."""
    from ytmaker import review
    from ytmaker.models import ProjectStatus
    from ytmaker.review_form import ReviewForm, checked_decision

    project = ctx.repo.get_project(project_id)
    if project.status is ProjectStatus.COMPLETED:
        screen.out.print(literal(f"Project {project_id} is already published: {project.video_url}"))
        return
    if not review.decide(ctx, project_id, checked_decision(values), by="cli"):
        _already(ctx, project_id, values["decision"])
        return
    run_id = (project.review or {}).get("flow_run_id")
    form = ReviewForm.model_validate(values).model_dump()
    if run_id and resume_run(run_id, form):
        screen.err.print(
            literal(
                f"Project {project_id}: {values['decision']}d; its run {run_id} was resumed on "
                f"the worker. Follow it: ytmaker watch {project_id}"
            )
        )
        return
    if values["decision"] == "reject":
        reason = values["reason"] or "no reason given"
        screen.out.print(literal(f"Project {project_id} rejected: {reason}"))
        return
    if run_id:
        screen.err.print(literal(f"Run {run_id} is not waiting any more: uploading in a new run."))
    from ytmaker_cli.running import run_and_report

    run_and_report(ctx, project_id, as_json)
    if ctx.repo.get_project(project_id).status is not ProjectStatus.COMPLETED:
        fail(f"Project {project_id} was approved but not published: ytmaker status {project_id}")


def _already(ctx: Context, project_id: int, verdict: str) -> None:
    from ytmaker.models import ProjectStatus

    project = ctx.repo.get_project(project_id)
    record = project.review or {}
    if project.status is ProjectStatus.COMPLETED:
        screen.out.print(literal(f"Project {project_id} is already published: {project.video_url}"))
        return
    decided = {"approved": "approve", "rejected": "reject"}.get(record.get("status", ""))
    if decided is None:
        fail(f"Project {project_id} is not waiting for review (status {project.status.value}).")
    said = (
        f"Project {project_id} was already {record['status']} ({record.get('decided_by')}, "
        f"{record.get('decided_at')}); status {project.status.value}."
    )
    if decided != verdict:
        fail(said)
    screen.out.print(literal(said + " Nothing more to do."))


def resume_run(run_id: str, form: dict[str, Any]) -> bool:
    """Resume the run suspended for this review with the decision (the Resume button's call).
    True when the run goes on with it; False when no run waits (ended, expired, another API)."""
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(run_id)).state
        if state is not None and state.is_paused():
            resume_flow_run(UUID(run_id), run_input=form)
            return True
        return state is not None and not state.is_final()  # resumed already: it reads the DB
    except Exception as exc:  # noqa: BLE001 - then the remaining stages run here
        log.debug("Could not resume run %s: %s", run_id, exc)
        return False


def show_waiting(ctx: Context, as_json: bool) -> None:
    from ytmaker import review

    rows = [
        {
            "project_id": p.id,
            "name": p.name,
            "status": p.status.value,
            "why": (p.review or {}).get("reason"),
            "since": (p.review or {}).get("since"),
            "expires_at": (p.review or {}).get("expires_at"),
            "flow_run_id": (p.review or {}).get("flow_run_id"),
        }
        for p in review.waiting(ctx.repo)
    ]
    if as_json:
        print(json_line(rows))
        return
    if not rows:
        screen.out.print("No video is waiting for review.")
        return
    table = Table("id", "name", "status", "why", "waiting since", "expires (UTC)", "Prefect run")
    for row in rows:
        table.add_row(
            str(row["project_id"]),
            *(literal(row[key] or "") for key in ("name", "status", "why", "since", "expires_at")),
            literal(row["flow_run_id"] or "(none: approve here)"),
        )
    screen.out.print(table)
    screen.out.print("Look: ytmaker review ID; decide: ytmaker review ID --approve | --reject")


def show_one(info: dict[str, Any], as_json: bool) -> None:
    from ytmaker.reports import review_markdown

    if as_json:
        print(json_line(info))
        return
    screen.out.print(Markdown(review_markdown(info)))
