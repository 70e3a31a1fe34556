from __future__ import annotations

from prefect import task

from ytmaker import pipeline
from ytmaker.context import Context


@task(name="generate-thumbnail")
def generate_thumbnail(project_id: int) -> str:
    """Stage 4: the 1280x720 JPEG with the title."""
    return pipeline.thumbnail(Context.create(), project_id)
