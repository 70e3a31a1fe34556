from __future__ import annotations

from prefect import task

from tasks.policy import task_context
from ytmaker.pipeline import thumbnail


@task(name="generate-thumbnail")
def generate_thumbnail(project_id: int) -> str:
    """Stage 4: the 1280x720 JPEG with the title."""
    return thumbnail.run(task_context(), project_id)
