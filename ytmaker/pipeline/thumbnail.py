"""Stage 4: the thumbnail, from the first segment's picture and the title."""

from __future__ import annotations

from ytmaker.bookkeeping import run_stage
from ytmaker.context import Context
from ytmaker.layout import load_script, piece_paths, visual_config
from ytmaker.models import AssetType
from ytmaker.pipeline.records import AssetRecord


def run(ctx: Context, project_id: int) -> str:
    from ytmaker.media.thumbnail import make_thumbnail

    with run_stage(ctx, project_id, "thumbnail") as report:
        project = ctx.repo.get_project(project_id)
        script = load_script(ctx, project_id)
        paths = piece_paths(ctx, project_id, script)
        report(30, "正在繪製縮圖...")
        with AssetRecord(ctx, project_id, AssetType.THUMBNAIL, None, paths["thumbnail"]):
            make_thumbnail(
                paths["images"][script.segments[0].index],
                script.metadata.title,
                paths["thumbnail"],
                subtitle=(project.youtube_settings or {}).get("channel"),
                visual=visual_config(ctx, project_id),
            )
    return str(paths["thumbnail"])
