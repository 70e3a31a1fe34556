"""What a person looks at before approving a video: one summary for the Prefect UI (a markdown
artifact beside the Resume form, thumbnail embedded) and for `ytmaker review ID` (both drawn by
ytmaker.reports.review_markdown)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from ytmaker.context import Context
from ytmaker.layout import piece_paths
from ytmaker.models import AssetStatus, AssetType
from ytmaker.pipeline import assets
from ytmaker.review_form import proposed
from ytmaker.script import Script
from ytmaker.summary import project_summary

THUMBNAIL_WIDTH = 640  # embedded as a data URI: small enough for an artifact, big enough to read


def review_summary(ctx: Context, project_id: int) -> dict[str, Any]:
    """The project as a reviewer needs it: status, waiting since/until, the metadata proposed
    for upload, video length and path, subtitles, providers, replaced images."""
    result = project_summary(ctx, project_id)
    project = ctx.repo.get_project(project_id)
    record = project.review or {}
    result.update(
        {
            "review": record,
            "waiting_since": record.get("since"),
            "expires_at": record.get("expires_at"),
            "flow_run_id": record.get("flow_run_id"),
            "proposed": None,
            "subtitles": "",
            "providers": [],
        }
    )
    if project.script:
        script = Script.model_validate(project.script)
        result["proposed"] = proposed(
            script.metadata.title,
            script.metadata.description,
            list(script.metadata.tags),
            project.youtube_settings or {},
            ctx.settings.default_privacy,
        )
        srt = piece_paths(ctx, project_id, script)["video"].with_suffix(".srt")
        result["subtitles"] = subtitle_text(srt)
        result["providers"] = providers_used(ctx, project_id)
    return result


def subtitle_text(srt: Path) -> str:
    """The cues' text in order, without numbers and times."""
    if not srt.exists():
        return ""
    lines = []
    for line in srt.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.strip().isdigit() and "-->" not in line:
            lines.append(line.strip())
    return "\n".join(lines)


def providers_used(ctx: Context, project_id: int) -> list[dict[str, Any]]:
    """Which provider made each kind of asset: the one configured now, and how many of the
    finished files its fingerprint matches (the rest were made with other settings)."""
    rows = {(a.type, a.segment_index): a for a in ctx.repo.assets(project_id)}
    kinds = (
        ("voice", assets.voice_jobs, lambda job: (AssetType.AUDIO, job.index)),
        ("images", assets.image_jobs, lambda job: (AssetType.IMAGE, job.index)),
        ("avatar", assets.avatar_jobs, lambda job: (_avatar_type(job.index), None)),
    )
    found = []
    for kind, jobs_of, key_of in kinds:
        jobs = jobs_of(ctx, project_id)
        matching = sum(
            1
            for job in jobs
            if (row := rows.get(key_of(job))) is not None and row.fingerprint == job.fingerprint
        )
        placeholders = sum(
            1 for job in jobs if (row := rows.get(key_of(job))) and row.status is AssetStatus.FAILED
        )
        found.append(
            {
                "asset": kind,
                "provider": _provider_name(ctx, kind, project_id),
                "made_by_it": matching,
                "placeholders": placeholders,
                "total": len(jobs),
            }
        )
    return found


def _avatar_type(role: Any) -> AssetType:
    return AssetType.AVATAR_INTRO if role == "intro" else AssetType.AVATAR_OUTRO


def _provider_name(ctx: Context, kind: str, project_id: int) -> str:
    if kind == "voice":  # the project's own voice, if it chose one
        return assets.project_voice(ctx, project_id).name
    return (ctx.providers.images if kind == "images" else ctx.providers.avatar)().name


def thumbnail_data_uri(path: str | None, width: int = THUMBNAIL_WIDTH) -> str | None:
    """The thumbnail as a small JPEG data URI (the Prefect UI shows it inline)."""
    if not path or not Path(path).exists():
        return None
    from PIL import Image

    with Image.open(path) as opened:
        image = opened.convert("RGB")
        image.thumbnail((width, width))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
