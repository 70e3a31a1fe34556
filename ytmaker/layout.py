"""Where a project's files live, and its stored script: one place so every stage agrees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ytmaker.context import Context
from ytmaker.errors import InputError
from ytmaker.files import clip_path
from ytmaker.media.visual import VisualConfig
from ytmaker.script import Script

__all__ = ["clip_path", "load_script", "piece_paths", "visual_config"]


def load_script(ctx: Context, project_id: int) -> Script:
    project = ctx.repo.get_project(project_id)
    if not project.script:
        raise InputError(
            f"Project {project_id} has no script yet; run the script stage first.",
            project_id=project_id,
        )
    return Script.model_validate(project.script)


def piece_paths(ctx: Context, project_id: int, script: Script) -> dict[str, Any]:
    root: Path = ctx.project_dir(project_id)
    return {
        "audio": [root / "audio" / f"piece_{i:03d}.wav" for i in range(len(script.pieces()))],
        "images": {
            s.index: root / "images" / f"segment_{s.index:03d}.png" for s in script.segments
        },
        "avatar": {role: root / "avatar" / f"{role}.mp4" for role in ("intro", "outro")},
        "video": root / "output" / "video.mp4",
        "thumbnail": root / "output" / "thumbnail.jpg",
        "work": root / "work",
    }


def visual_config(ctx: Context, project_id: int) -> VisualConfig:
    """The project's look; relative logo/music/font paths resolve against its folder, then the
    working directory."""
    project = ctx.repo.get_project(project_id)
    return VisualConfig.from_dict(
        project.visual_config, base_dirs=[ctx.project_dir(project_id), Path.cwd()]
    )
