from __future__ import annotations

from prefect import task

from tasks.policy import task_context
from ytmaker.pipeline import render


@task(name="render-video")
def render_video(project_id: int) -> dict:
    """Stage 3: compose the MP4 (FFmpeg); returns video_info."""
    return render.run(task_context(), project_id)
