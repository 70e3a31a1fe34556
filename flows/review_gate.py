"""The review step of a video run in Prefect (ytmaker/review.py keeps the books).

A run that reaches the upload with review on (or with placeholder images) holds the project in
AWAITING_REVIEW and writes a markdown artifact (`video-{id}-review`: thumbnail, length,
subtitles, providers, paths). A top-level run of a deployment is then **suspended** with a typed
form, `ReviewDecision` prefilled from the script (Runs → the run → Resume in the Prefect UI): the
worker is free meanwhile, and the server fails the run after YTMAKER_REVIEW_TIMEOUT. Resuming
starts the run again from the top: `collect` applies the decision before any stage, the stages
find their work done (nothing is paid again), and the upload uses the approved metadata. A run
that cannot be suspended (in-process, or a video of a batch) just returns: `ytmaker review ID
--approve` continues it in a new run.

A decision the form could not refuse (a publish time already past, a scheduled video that is
not private) is recorded as refused and the run waits again, the form saying why.

The script review (`review: script` or `both`) works the same way one step earlier: after the
script stage the project waits (reason `script`), the artifact `video-{id}-script` shows the
script as a table and the form (`ScriptDecision`) has one field per piece, prefilled, each
with its limits (ytmaker/script_review.py). An edit that breaks a script rule is refused when
the run goes on and the run waits again, saying which piece and why.
"""

from __future__ import annotations

import logging
from typing import Any, cast
from uuid import UUID

from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from prefect.input.actions import read_flow_run_input
from prefect.input.run_input import keyset_from_base_key
from pydantic import ConfigDict, create_model
from pydantic.fields import FieldInfo

from flows import heartbeats
from flows.artifacts import keep
from ytmaker import formats, review, script_review
from ytmaker.bootstrap import bootstrap
from ytmaker.context import Context
from ytmaker.errors import InputError
from ytmaker.models import ProjectStatus
from ytmaker.reports import review_description, review_markdown
from ytmaker.review_form import ReviewForm, checked_decision
from ytmaker.review_report import review_summary, thumbnail_data_uri
from ytmaker.script import Script, ScriptRules

log = logging.getLogger(__name__)


class ReviewDecision(ReviewForm, RunInput):
    """The Resume form of a run waiting for review."""


def prefilled(description: str, values: dict[str, Any]) -> type[ReviewDecision]:
    """The form with `values` as its defaults. (RunInput.with_initial_data rebuilds each field
    from its bare type and drops titles, descriptions, lengths and patterns: the UI would then
    accept what project create refuses.)"""
    fields: dict[str, Any] = {}
    for name, value in values.items():
        info = ReviewDecision.model_fields[name]
        kept = FieldInfo.merge_field_infos(info, default=value)
        kept.default_factory = None
        fields[name] = (info.annotation, kept)
    form = create_model("ReviewDecision", __base__=ReviewDecision, **fields)
    form._description = description
    return form


def _key_prefix(project_id: int) -> str:
    return f"review-{project_id}-"


def _this_run() -> Any:
    context = FlowRunContext.get()
    return context.flow_run if context else None


def suspendable() -> bool:
    """A top-level run of a deployment: Prefect can suspend it and start it again on resume."""
    run = _this_run()
    return run is not None and run.deployment_id is not None and run.parent_task_run_id is None


def _fired_keys(project_id: int) -> list[str]:
    """This run's review pauses for the project so far, oldest first."""
    run = _this_run()
    keys = (run.empirical_policy.pause_keys or set()) if run else set()
    prefix = _key_prefix(project_id)
    return sorted(
        (k for k in keys if k.startswith(prefix) and k[len(prefix) :].isdigit()),
        key=lambda k: int(k[len(prefix) :]),
    )


def collect(project_id: int) -> None:
    """A run resumed from its review: apply the decision it was given, before any stage (first
    come, first served: a decision taken on the command line meanwhile stands)."""
    fired = _fired_keys(project_id)
    if not fired:
        return
    run_id: UUID = _this_run().id
    given = read_flow_run_input(
        keyset_from_base_key(f"suspended-{fired[-1]}")["response"], flow_run_id=run_id
    )
    if not isinstance(given, dict):
        return
    ctx = bootstrap()
    project = ctx.repo.get_project(project_id)
    step: review.Step = "script" if review.waits_for_script(project) else "upload"
    try:
        if step == "script":
            script, rules = _script_and_rules(ctx, project_id)
            decision = script_review.checked_script_decision(
                script_review.from_form(given, script), script, rules, source="The script form"
            )
        else:
            decision = checked_decision(given, source="The review form")
    except InputError as exc:
        log.warning("Project %s: the %s form was refused: %s", project_id, step, exc.message)
        if ctx.repo.get_project(project_id).status in review.WAITING:
            review.note(ctx, project_id, refused=exc.message)
        return
    if review.decide(ctx, project_id, decision, by="prefect-ui", step=step):
        log.info("Project %s: %s %sd in the Prefect UI", project_id, step, decision["decision"])


def _script_and_rules(ctx: Context, project_id: int) -> tuple[Script, ScriptRules]:
    project = ctx.repo.get_project(project_id)
    rules = formats.rules_for(ctx.settings, project.format, project.length)
    return Script.model_validate(project.script), rules


def script_pending(project_id: int) -> bool:
    """A person approved the script: a video run after that approval makes the video."""
    project = bootstrap().repo.get_project(project_id)
    return review.script_approved(project) and not project.youtube_video_id


def script_gate(project_id: int) -> review.ScriptOutcome:
    """After the script: 'go', 'rejected', or 'held' (this run waits, or ends, for a person)."""
    ctx = bootstrap()
    outcome = review.hold_after_script(ctx, project_id)
    if outcome == "held":
        wait_if_held(ctx, project_id)
    return outcome


def upload_pending(project_id: int) -> bool:
    """Approved by a person and not uploaded yet."""
    project = bootstrap().repo.get_project(project_id)
    approved = (project.review or {}).get("status") == "approved"
    return approved and not project.youtube_video_id and project.status not in review.WAITING


def rejected(project_id: int) -> bool:
    """Nothing more to do: a person rejected it."""
    return bootstrap().repo.get_project(project_id).status is ProjectStatus.REJECTED


def gate(project_id: int) -> review.Outcome:
    """At the upload: 'upload', 'rejected', or 'held' (this run waits, or ends, for a person)."""
    ctx = bootstrap()
    outcome = review.hold_before_upload(ctx, project_id)
    if outcome == "held":
        wait_if_held(ctx, project_id)
    return outcome


def wait_if_held(ctx: Context, project_id: int) -> None:
    """Show the review artifact; a run that can be suspended is suspended with the form (the
    process ends here; Prefect starts the run again when it is resumed)."""
    project = ctx.repo.get_project(project_id)
    if project.status is not ProjectStatus.AWAITING_REVIEW:
        return
    if review.waits_for_script(project):
        _wait_for_script(ctx, project_id)
        return
    info = review_summary(ctx, project_id)
    _artifact(project_id, review_markdown(info, thumbnail_data_uri(info.get("thumbnail_path"))))
    if not suspendable() or not info.get("proposed"):
        return
    _suspend(ctx, project_id, prefilled(_description(info), info["proposed"]))


def _suspend(ctx: Context, project_id: int, form: type[RunInput]) -> None:
    key = f"{_key_prefix(project_id)}{len(_fired_keys(project_id)) + 1}"
    run_id = _this_run().id
    review.note(ctx, project_id, flow_run_id=str(run_id), pause_key=key)
    heartbeats.stop(run_id)  # one sent after the Suspended state would get the run crashed
    suspend_flow_run(wait_for_input=form, timeout=ctx.settings.review_timeout, key=key)


def _wait_for_script(ctx: Context, project_id: int) -> None:
    """The script as a table beside a form with every piece in it."""
    project = ctx.repo.get_project(project_id)
    script, rules = _script_and_rules(ctx, project_id)
    refused = (project.review or {}).get("refused")
    markdown = script_review.script_markdown(project_id, project.name, script, refused)
    keep(f"video-{project_id}-script", "markdown", markdown, f"Project {project_id}: script")
    if not suspendable():
        return
    form = cast(type[ScriptDecision], script_review.form_model(script, rules, ScriptDecision))
    lines = [
        f"**Project {project_id}: {project.name}**: read the script before any voice or picture "
        f"is paid for. The artifact `video-{project_id}-script` of this run shows it as a table.",
    ]
    if refused:
        lines += ["", f"**Your last edit was refused:** {refused}"]
    form._description = "\n".join(lines)
    _suspend(ctx, project_id, form)


class ScriptDecision(RunInput):
    """The Resume form of a run waiting for its script to be read (fields per project)."""

    model_config = ConfigDict(extra="forbid", title="Review the script")


def _description(info: dict[str, Any]) -> str:
    return review_description(info)


def _artifact(project_id: int, markdown: str) -> None:
    keep(f"video-{project_id}-review", "markdown", markdown, f"Project {project_id}: review")
