"""A person approves a finished video before it is published.

A video waits before the upload (`AWAITING_REVIEW`) when review is on for its project (`review:
true`, `project create --review`, or YTMAKER_REVIEW=before_upload), or when refused or failing
images were replaced by placeholders (a partial success) unless YTMAKER_ON_PARTIAL=publish.

The decision is taken once, by whoever comes first (the Prefect UI's Resume form, `ytmaker
review ID --approve/--reject`, `ytmaker publish ID`): `decide` moves the project out of its
waiting status in one conditional UPDATE, so a second approval finds it decided and uploads
nothing. Approved: THUMBNAIL_GENERATED (the upload is what is left; `recover` resumes it),
with the edited metadata kept in `review.decision`. Rejected: REJECTED with the reason. Nobody
within YTMAKER_REVIEW_TIMEOUT: REVIEW_EXPIRED, which can still be approved later.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, select, update

from ytmaker.config import Settings
from ytmaker.context import Context
from ytmaker.db import Repository
from ytmaker.models import AssetStatus, AssetType, Project, ProjectStatus
from ytmaker.progress import Stage, utc_timestamp
from ytmaker.providers.base import PublishRequest
from ytmaker.review_modes import ReviewMode, project_mode, reviews_script, reviews_upload
from ytmaker.state import Replace, update_state

log = logging.getLogger(__name__)
WAITING = (ProjectStatus.AWAITING_REVIEW, ProjectStatus.REVIEW_EXPIRED)
# Statuses a person moves on from, never a run by itself (recover, batch reruns leave them).
PERSON_DECIDES = (*WAITING, ProjectStatus.REJECTED)
Outcome = Literal["upload", "held", "rejected"]
ScriptOutcome = Literal["go", "held", "rejected"]


def replaced_images(repo: Repository, project_id: int) -> list[dict[str, Any]]:
    """Images shown as placeholders: failed image rows whose (placeholder) file exists."""
    return [
        {
            "segment_index": asset.segment_index,
            "code": (asset.error or {}).get("code"),
            "message": (asset.error or {}).get("message"),
        }
        for asset in repo.assets(project_id)
        if asset.type is AssetType.IMAGE
        and asset.status is AssetStatus.FAILED
        and asset.path
        and Path(asset.path).exists()
    ]


def mode(project: Project, settings: Settings) -> ReviewMode:
    """This project's review mode: its own, else YTMAKER_REVIEW."""
    return project_mode(project.review_mode, project.review_required, settings.review)


def required(project: Project, settings: Settings) -> bool:
    """A person approves this project's video before upload."""
    return reviews_upload(mode(project, settings))


def script_required(project: Project, settings: Settings) -> bool:
    """A person reads (and may edit) this project's script before anything else is paid for."""
    return reviews_script(mode(project, settings))


def hold_before_upload(ctx: Context, project_id: int) -> Outcome:
    """What happens at the upload: go on, wait for a person (held now), or nothing (rejected)."""
    project = ctx.repo.get_project(project_id)
    state = (project.review or {}).get("status")
    if project.youtube_video_id or state == "approved":
        return "upload"
    if state == "rejected":
        _set(ctx, project_id, ProjectStatus.REJECTED, project.review)
        return "rejected"
    replaced = replaced_images(ctx.repo, project_id)
    partial = bool(replaced) and ctx.settings.on_partial == "hold"
    if not partial and not required(project, ctx.settings):
        return "upload"
    _hold(ctx, project, "partial" if partial else "review", replaced)
    return "held"


def _hold(ctx: Context, project: Project, reason: str, replaced: list[dict[str, Any]]) -> None:
    since = datetime.now(UTC)
    expires = since + timedelta(seconds=ctx.settings.review_timeout)
    kept = {k: v for k, v in (project.review or {}).items() if k in ("refused", "script")}
    review = {
        **kept,
        "status": "awaiting",
        "reason": reason,
        "replaced": replaced,
        "since": utc_timestamp(),
        "expires_at": _timestamp(expires),
    }
    _set(ctx, project.id, ProjectStatus.AWAITING_REVIEW, review)
    how = f"`ytmaker review {project.id} --approve` (or --reject), or Resume in the Prefect UI"
    if reason == "partial":
        log.warning(
            "Project %s is held before upload: %d image(s) are placeholders; publish it with %s, "
            "or make them again with `ytmaker retry-failed %s`",
            project.id,
            len(replaced),
            how,
            project.id,
        )
        message = (
            f"等待審核：{len(replaced)} 張圖片以替代圖片呈現（ytmaker publish {project.id} "
            f"照常發布，ytmaker retry-failed {project.id} 重新生成）"
        )
    elif reason == "script":
        log.warning(
            "Project %s waits for a person to read its script (nothing else is paid for yet): "
            "`ytmaker review %s` shows it, --edit changes it, --approve / --reject decide; or "
            "Resume in the Prefect UI",
            project.id,
            project.id,
        )
        message = (
            f"等待腳本審核：請閱讀腳本後核准、修改或退回（ytmaker review {project.id} "
            "[--edit] --approve / --reject，或 Prefect UI 的 Resume）"
        )
    else:
        log.warning("Project %s waits for a person before upload: %s", project.id, how)
        message = (
            f"等待審核：請確認影片後核准或退回（ytmaker review {project.id} --approve / --reject，"
            "或 Prefect UI 的 Resume）"
        )
    data = {
        "status": ProjectStatus.AWAITING_REVIEW.value,
        "reason": reason,
        "replaced": replaced,
        "expires_at": review["expires_at"],
    }
    stage, progress = (Stage.SCRIPT, 100.0) if reason == "script" else (Stage.UPLOAD, 0.0)
    ctx.bus.publish(project.id, stage, progress, message, data=data)


def hold_after_script(ctx: Context, project_id: int) -> ScriptOutcome:
    """After the script: go on, wait for a person to read it
    (held now), or nothing more (rejected)."""
    project = ctx.repo.get_project(project_id)
    record = project.review or {}
    if record.get("status") == "rejected":
        _set(ctx, project_id, ProjectStatus.REJECTED, record)
        return "rejected"
    if project.youtube_video_id or not script_required(project, ctx.settings):
        return "go"
    if script_approved(project):
        return "go"
    _hold(ctx, project, "script", [])
    return "held"


def script_approved(project: Project) -> bool:
    """A person approved the script this project has now (a new script is read again)."""
    record = (project.review or {}).get("script") or {}
    return record.get("status") == "approved" and record.get("fingerprint") == (
        project.script_fingerprint
    )


def waits_for_script(project: Project) -> bool:
    return project.status in WAITING and (project.review or {}).get("reason") == "script"


def _timestamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _set(ctx: Context, project_id: int, status: ProjectStatus, review: dict | None) -> None:
    ctx.repo.update_project(project_id, status=status, review=review)
    _mirror(ctx, project_id, status, review)


def _mirror(ctx: Context, project_id: int, status: ProjectStatus, review: dict | None) -> None:
    update_state(
        ctx.project_dir(project_id),
        {"status": status.value.lower(), "review": None if review is None else Replace(review)},
    )


def decide(
    ctx: Context, project_id: int, decision: dict[str, Any], by: str, step: Step = "upload"
) -> bool:
    """Record a person's decision once: True when this call decided it; False when the project
    was no longer waiting at that step (decided before, published, running...)."""
    approve = decision.get("decision", "approve") == "approve"
    with ctx.repo.session() as session:
        row = session.execute(
            select(Project.review, Project.script_fingerprint).where(Project.id == project_id)
        ).one_or_none()
        current, source = (row[0], row[1]) if row is not None else (None, None)
        if ((current or {}).get("reason") == "script") != (step == "script"):
            return False
        values = _decided(current, decision, by, step, approve, source)
        done = session.execute(
            update(Project)
            .where(Project.id == project_id, Project.status.in_(WAITING))
            .values(**values)
        )
        if cast(CursorResult, done).rowcount != 1:  # an UPDATE gives a CursorResult
            return False
    status, review = values["status"], values["review"]
    _mirror(ctx, project_id, status, review)
    if step == "script" and approve:
        _mirror_script(ctx, project_id, values.get("script"))
    stage = Stage.SCRIPT if step == "script" else Stage.UPLOAD
    if approve:
        said = "腳本已核准" if step == "script" else "已核准"
        after = "，開始製作影片" if step == "script" else "，準備上傳"
        ctx.bus.publish(project_id, stage, 100 if step == "script" else 0, f"{said}（{by}）{after}")
    else:
        reason = decision.get("reason") or "no reason given"
        ctx.bus.publish(
            project_id,
            stage,
            100 if step == "script" else 0,
            f"已退回（{by}）：{reason}",
            data={"status": ProjectStatus.REJECTED.value, "reason": reason},
        )
    return True


Step = Literal["script", "upload"]


def _decided(
    current: dict[str, Any] | None,
    decision: dict[str, Any],
    by: str,
    step: Step,
    approve: bool,
    source: str | None,
) -> dict[str, Any]:
    """The columns a decision writes. An approved script leaves only its own record (the
    upload review, if any, starts afresh) and the script as the person approved it."""
    record = {k: v for k, v in (current or {}).items() if k != "refused"}
    when = utc_timestamp()
    if not approve:
        rejected = {"status": "rejected", "decision": decision, "decided_by": by}
        return {
            "status": ProjectStatus.REJECTED,
            "review": {**record, **rejected, "decided_at": when},
        }
    if step == "upload":
        approved = {"status": "approved", "decision": decision, "decided_by": by}
        return {
            "status": ProjectStatus.THUMBNAIL_GENERATED,
            "review": {**record, **approved, "decided_at": when},
        }
    kept = {k: v for k, v in decision.items() if k != "script"}
    script_record = {
        "status": "approved",
        "decision": kept,
        "decided_by": by,
        "decided_at": when,
        "fingerprint": source,
        "since": record.get("since"),
    }
    values: dict[str, Any] = {
        "status": ProjectStatus.SCRIPT_GENERATED,
        "review": {"script": script_record},
    }
    if decision.get("script"):
        values["script"] = decision["script"]
    return values


def _mirror_script(ctx: Context, project_id: int, script: dict[str, Any] | None) -> None:
    if script:
        update_state(
            ctx.project_dir(project_id),
            {
                "script": {
                    "title": script["metadata"]["title"],
                    "segments": len(script["segments"]),
                    "planned_duration": script["total_duration"],
                }
            },
        )


def approve(ctx: Context, project_id: int, decision: dict[str, Any] | None = None) -> bool:
    """Publish it (as it is, or with `decision`'s metadata): the next run uploads."""
    return decide(ctx, project_id, decision or {"decision": "approve"}, by="cli")


def reopen(ctx: Context, project_id: int) -> None:
    """New images are on their way: an earlier approval of the video no longer applies (that
    of the script still does)."""
    kept = {
        k: v for k, v in (ctx.repo.get_project(project_id).review or {}).items() if k == "script"
    }
    review = kept or None
    ctx.repo.update_project(project_id, review=review)
    update_state(
        ctx.project_dir(project_id), {"review": None if review is None else Replace(review)}
    )


def note(ctx: Context, project_id: int, **fields: Any) -> None:
    """Add to a waiting project's review record (the run that waits, a refused form)."""
    review = {**(ctx.repo.get_project(project_id).review or {}), **fields}
    ctx.repo.update_project(project_id, review=review)
    update_state(ctx.project_dir(project_id), {"review": Replace(review)})


def expire_overdue(ctx: Context) -> list[int]:
    """Projects that waited longer than their review timeout become REVIEW_EXPIRED, with a
    message (they can still be approved). Returns their ids."""
    now = datetime.now(UTC)
    expired = []
    for project in waiting(ctx.repo, ProjectStatus.AWAITING_REVIEW):
        review = project.review or {}
        deadline = _parse(review.get("expires_at"))
        if deadline is None or deadline > now:
            continue
        review = {**review, "status": "expired"}
        with ctx.repo.session() as session:
            done = session.execute(
                update(Project)
                .where(Project.id == project.id, Project.status == ProjectStatus.AWAITING_REVIEW)
                .values(status=ProjectStatus.REVIEW_EXPIRED, review=review)
            )
        if cast(CursorResult, done).rowcount == 1:
            _mirror(ctx, project.id, ProjectStatus.REVIEW_EXPIRED, review)
            ctx.bus.publish(
                project.id,
                Stage.UPLOAD,
                0,
                f"審核逾時：{review.get('since')} 起無人核准（YTMAKER_REVIEW_TIMEOUT）；"
                f"仍可核准：ytmaker review {project.id} --approve",
                data={"status": ProjectStatus.REVIEW_EXPIRED.value},
            )
            expired.append(project.id)
    return expired


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def waiting(repo: Repository, *statuses: ProjectStatus) -> list[Project]:
    """Projects waiting for a person (AWAITING_REVIEW and REVIEW_EXPIRED), oldest first."""
    with repo.session() as session:
        query = select(Project).where(Project.status.in_(statuses or WAITING))
        return list(session.scalars(query.order_by(Project.id)))


def approved_title(review: dict[str, Any] | None) -> str | None:
    """The title a person approved (cleaned for YouTube), or None: the script's stands."""
    from ytmaker.providers.youtube import clean_title

    decision = (review or {}).get("decision") or {}
    if (review or {}).get("status") != "approved" or "title" not in decision:
        return None
    return clean_title(decision["title"])


def edited(request: PublishRequest, review: dict[str, Any] | None) -> PublishRequest:
    """The upload as the person approved it: their title, description, tags, privacy, publish
    time and AI flag replace the proposed ones (cleaned for YouTube like the LLM's)."""
    from ytmaker.providers.youtube import clean_description, clean_tags

    title = approved_title(review)
    if title is None:
        return request
    decision = (review or {}).get("decision") or {}
    youtube = decision.get("youtube") or {}
    return dataclasses.replace(
        request,
        title=title,
        description=clean_description(decision.get("description", "")),
        tags=clean_tags(list(youtube.get("tags") or [])),
        privacy=youtube.get("privacy", request.privacy),
        publish_at=youtube.get("publish_at"),
        synthetic_media=bool(decision.get("ai_generated", True)),
    )
