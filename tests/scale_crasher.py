"""A flow whose process always dies (deployed only by the scale-out test): it marks its project
busy, as a video run would, then exits at once, as a machine that keeps losing power would."""

from __future__ import annotations

import os

from prefect import flow

from ytmaker.bootstrap import bootstrap
from ytmaker.models import ProjectStatus


@flow(name="crasher")
def crasher(project_id: int) -> None:
    bootstrap().repo.update_project(project_id, status=ProjectStatus.ASSETS_GENERATING)
    os._exit(1)
