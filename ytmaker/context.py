"""What every stage needs: settings, the database, the progress bus, the project's folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ytmaker.attempt import Attempt
from ytmaker.config import Settings, get_settings
from ytmaker.db import Repository
from ytmaker.progress import ProgressBus
from ytmaker.redis_conn import connect


@dataclass
class Context:
    settings: Settings
    repo: Repository
    bus: ProgressBus
    attempt: Attempt = field(default_factory=Attempt)

    @classmethod
    def create(cls, settings: Settings | None = None, attempt: Attempt | None = None) -> Context:
        settings = settings or get_settings()
        return cls(
            settings=settings,
            repo=Repository(settings.resolved_database_url),
            bus=ProgressBus(connect(settings.redis_url, settings.data_dir)),
            attempt=attempt or Attempt(),
        )

    def project_dir(self, project_id: int) -> Path:
        return self.settings.project_dir(project_id)
