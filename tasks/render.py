from __future__ import annotations

from prefect import task

from tasks.machine import render_slot
from tasks.policy import task_context
from ytmaker.pipeline import render


@task(name="render-video")
def render_video(project_id: int) -> dict:
    """Stage 3: compose the MP4 (FFmpeg); returns video_info. One render per machine at a
    time (tasks/machine.py)."""
    with render_slot():
        return render.run(task_context(), project_id)
