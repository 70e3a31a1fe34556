from __future__ import annotations

from prefect import task

from ytmaker import pipeline
from ytmaker.context import Context


@task(name="upload-video")
def upload_video(project_id: int) -> dict:
    """Stage 5: publish (YouTube, or the local channel folder offline)."""
    return pipeline.upload(Context.create(), project_id)
