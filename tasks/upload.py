from __future__ import annotations

from prefect import task

from tasks.policy import task_context
from ytmaker.pipeline import upload


@task(name="upload-video")
def upload_video(project_id: int) -> dict:
    """Stage 5: publish (YouTube, or the local channel folder offline)."""
    return upload.run(task_context(), project_id)
