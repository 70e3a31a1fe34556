"""`ytmaker review ID` for a project waiting for its script to be read: show it, edit it (YAML
in $EDITOR, or --script FILE), approve or reject it. The decision is taken once; a suspended
run is then resumed with it, or the video is made here in a new run."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markdown import Markdown

from ytmaker.errors import InputError
from ytmaker.terminal import json_line, literal
from ytmaker_cli.app import fail, screen

if TYPE_CHECKING:
    from ytmaker.context import Context
    from ytmaker.models import Project
    from ytmaker.script import Script, ScriptRules

EDIT_FILE = "script-edit.yaml"  # in the project's folder: a refused edit is kept to fix


def script_and_rules(ctx: Context, project: Project) -> tuple[Script, ScriptRules]:
    from ytmaker import formats
    from ytmaker.script import Script

    rules = formats.rules_for(ctx.settings, project.format, project.length)
    return Script.model_validate(project.script), rules


def show_script(ctx: Context, project: Project, as_json: bool) -> None:
    from ytmaker.script_review import rows, script_markdown

    script, _ = script_and_rules(ctx, project)
    refused = (project.review or {}).get("refused")
    if as_json:
        record = project.review or {}
        print(json_line({"project_id": project.id, "waiting_for": "script", "review": record,
                         "title": script.metadata.title, "pieces": rows(script)}))  # fmt: skip
        return
    screen.out.print(Markdown(script_markdown(project.id, project.name, script, refused)))


def edited_text(ctx: Context, project: Project, script_file: Path | None, edit: bool) -> str | None:
    """The YAML the person gave: a file, or what they saved in $EDITOR (None: no edit)."""
    from ytmaker.script_review import to_yaml

    if script_file is not None:
        try:
            return script_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"--script: cannot read {script_file}: {exc}")
    if not edit:
        return None
    script, _ = script_and_rules(ctx, project)
    path = ctx.project_dir(project.id) / EDIT_FILE
    path.write_text(to_yaml(script), encoding="utf-8")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        done = subprocess.run([*shlex.split(editor), str(path)], check=False)  # noqa: S603
    except OSError as exc:
        fail(f"$EDITOR ({editor}) could not start: {exc}; or give the file: --script FILE")
    if done.returncode != 0:
        fail(f"$EDITOR ({editor}) exited {done.returncode}: nothing decided ({path} kept).")
    return path.read_text(encoding="utf-8")


def decide_script(
    ctx: Context,
    project: Project,
    verdict: str,
    reason: str | None,
    text: str | None,
    source: str,
    as_json: bool,
    media_root: Path,
) -> None:
    """Check the edit, decide once, then resume the waiting run or make the video here
    (`media:` paths in the edit are relative to `media_root`)."""
    from ytmaker import review
    from ytmaker.models import ProjectStatus
    from ytmaker.script_review import MediaRules, checked_script_decision, form_values, from_yaml

    script, rules = script_and_rules(ctx, project)
    values: dict[str, Any] = {"decision": verdict, "reason": reason or ""}
    try:
        if text is not None:
            values["script"] = from_yaml(text, source)
        media = MediaRules(media_root)
        decision = checked_script_decision(values, script, rules, source=source, media=media)
    except InputError as exc:
        problems = exc.details.get("problems") or [{"field": "script", "message": exc.message}]
        lines = [f"  {p['field']}: {p['message']}" for p in problems]
        fail("ytmaker review: the script is not accepted:\n" + "\n".join(lines))
    if not review.decide(ctx, project.id, decision, by="cli", step="script"):
        already(ctx, project.id, verdict)
        return
    changed = decision.get("changed") or []
    if verdict == "approve":
        said = f"changed: {', '.join(changed)}" if changed else "as written"
        screen.err.print(literal(f"Project {project.id}: script approved ({said})."))
    run_id = (project.review or {}).get("flow_run_id")
    approved = script if verdict == "reject" else type(script).model_validate(decision["script"])
    from ytmaker_cli.review import resume_run

    if run_id and resume_run(run_id, form_values(approved, verdict, values["reason"])):
        screen.err.print(
            literal(
                f"Project {project.id}: script {verdict}d; its run {run_id} was resumed on the "
                f"worker. Follow it: ytmaker watch {project.id}"
            )
        )
        return
    if verdict == "reject":
        reason_said = values["reason"] or "no reason given"
        screen.out.print(literal(f"Project {project.id} rejected: {reason_said}"))
        return
    from ytmaker_cli.running import run_and_report

    run_and_report(ctx, project.id, as_json)
    if project.batch_id is not None:  # its batch counts it as it is now
        from ytmaker import batch

        batch.finish(ctx.repo, project.batch_id)
    status = ctx.repo.get_project(project.id).status
    if status not in (ProjectStatus.COMPLETED, *review.WAITING):
        fail(f"Project {project.id}'s script was approved but the video was not made: "
             f"ytmaker status {project.id}")  # fmt: skip


def already(ctx: Context, project_id: int, verdict: str) -> None:
    """A second decision on a script: the first one stands."""
    project = ctx.repo.get_project(project_id)
    record = project.review or {}
    first = record.get("script") or {}
    if record.get("status") == "rejected":
        first, decided = record, "reject"
    else:
        decided = "approve" if first.get("status") == "approved" else ""
    if not decided:
        fail(f"Project {project_id} is not waiting for review (status {project.status.value}).")
    said = (
        f"Project {project_id}'s script was already {decided}d ({first.get('decided_by')}, "
        f"{first.get('decided_at')}); status {project.status.value}."
    )
    if decided != verdict:
        fail(said)
    screen.out.print(literal(said + " Nothing more to do."))
