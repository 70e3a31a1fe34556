"""A video with placeholder pictures waits for a person before it is published.

Refused or failing images are replaced by offline placeholders (a partial success). Such a
video is held before the upload (`AWAITING_REVIEW`) unless YTMAKER_ON_PARTIAL=publish:
`ytmaker publish ID` publishes it as it is, `ytmaker retry-failed ID` makes the images again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ytmaker.context import Context
from ytmaker.db import Repository
from ytmaker.models import AssetStatus, AssetType, ProjectStatus
from ytmaker.progress import Stage, utc_timestamp
from ytmaker.state import Replace, update_state

log = logging.getLogger(__name__)


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


def hold_before_upload(ctx: Context, project_id: int) -> bool:
    """Stop before the upload when a person must look first; True when held."""
    project = ctx.repo.get_project(project_id)
    replaced = replaced_images(ctx.repo, project_id)
    approved = (project.review or {}).get("status") == "approved"
    if project.youtube_video_id or not replaced or approved:
        return False
    if ctx.settings.on_partial == "publish":
        return False
    review = {"status": "awaiting", "reason": "partial", "replaced": replaced}
    review["since"] = utc_timestamp()
    ctx.repo.update_project(project_id, status=ProjectStatus.AWAITING_REVIEW, review=review)
    update_state(
        ctx.project_dir(project_id),
        {"status": ProjectStatus.AWAITING_REVIEW.value.lower(), "review": Replace(review)},
    )
    log.warning(
        "Project %s is held before upload: %d image(s) are placeholders; publish it with "
        "`ytmaker publish %s` or make them again with `ytmaker retry-failed %s`",
        project_id,
        len(replaced),
        project_id,
        project_id,
    )
    ctx.bus.publish(
        project_id,
        Stage.UPLOAD,
        0,
        f"等待審核：{len(replaced)} 張圖片以替代圖片呈現（ytmaker publish {project_id} 照常發布，"
        f"ytmaker retry-failed {project_id} 重新生成）",
        data={
            "status": ProjectStatus.AWAITING_REVIEW.value,
            "reason": "partial",
            "replaced": replaced,
        },
    )
    return True


def approve(ctx: Context, project_id: int) -> None:
    """Publish as it is: the next run uploads despite the placeholders."""
    project = ctx.repo.get_project(project_id)
    review = {**(project.review or {}), "status": "approved", "approved_at": utc_timestamp()}
    ctx.repo.update_project(project_id, review=review)
    update_state(ctx.project_dir(project_id), {"review": Replace(review)})


def reopen(ctx: Context, project_id: int) -> None:
    """New images are on their way: an earlier approval no longer applies."""
    ctx.repo.update_project(project_id, review=None)
    update_state(ctx.project_dir(project_id), {"review": None})
