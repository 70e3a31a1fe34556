from __future__ import annotations

from prefect import task

from ytmaker import pipeline
from ytmaker.context import Context


@task(name="render-video")
def render_video(project_id: int) -> dict:
    """Stage 3: compose the MP4 (FFmpeg); returns video_info."""
    return pipeline.render(Context.create(), project_id)
