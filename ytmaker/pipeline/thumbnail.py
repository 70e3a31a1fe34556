"""Stage 4: the thumbnail, from the first segment's picture and the title."""

from __future__ import annotations

from ytmaker.bookkeeping import run_stage
from ytmaker.context import Context
from ytmaker.layout import load_script, piece_paths, visual_config
from ytmaker.models import AssetType
from ytmaker.pipeline.records import AssetRecord
from ytmaker.script import Script


def run(ctx: Context, project_id: int) -> str:
    with run_stage(ctx, project_id, "thumbnail") as report:
        script = load_script(ctx, project_id)
        report(30, "正在繪製縮圖...")
        path = draw(ctx, project_id, script, script.metadata.title)
    return path


def draw(ctx: Context, project_id: int, script: Script, title: str) -> str:
    """The thumbnail with `title` (Pillow, on this machine: nothing paid)."""
    from ytmaker.media.thumbnail import make_thumbnail

    project = ctx.repo.get_project(project_id)
    paths = piece_paths(ctx, project_id, script)
    with AssetRecord(ctx, project_id, AssetType.THUMBNAIL, None, paths["thumbnail"]):
        make_thumbnail(
            paths["images"][script.segments[0].index],
            title,
            paths["thumbnail"],
            subtitle=(project.youtube_settings or {}).get("channel"),
            visual=visual_config(ctx, project_id),
        )
    return str(paths["thumbnail"])


def ensure_title(ctx: Context, project_id: int, script: Script, title: str) -> bool:
    """Before the upload: a title edited at review is drawn on the thumbnail again (the one
    made before review shows the script's). True when it was drawn again."""
    from ytmaker.providers.youtube import clean_title

    if title == clean_title(script.metadata.title):
        return False
    draw(ctx, project_id, script, title)
    return True
