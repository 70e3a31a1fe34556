from __future__ import annotations

from prefect import task

from tasks.policy import task_context
from ytmaker.pipeline import script


@task(name="generate-script")
def generate_script(project_id: int) -> dict:
    """Stage 1: write and validate the script; returns the plan the asset stage maps over."""
    return script.run(task_context(), project_id)
