"""What every stage needs: settings, the database, the progress bus, the providers, the project's
folder. `ytmaker.bootstrap` builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ytmaker.attempt import Attempt
from ytmaker.config import Settings
from ytmaker.db import Repository
from ytmaker.errors import ConfigError
from ytmaker.progress import ProgressBus
from ytmaker.providers import Providers


@dataclass
class Context:
    settings: Settings
    repo: Repository
    bus: ProgressBus
    attempt: Attempt = field(default_factory=Attempt)
    providers: Providers = None  # type: ignore[assignment]  # set from settings when not given

    def __post_init__(self) -> None:
        if self.providers is None:
            self.providers = Providers(self.settings)

    def project_dir(self, project_id: int) -> Path:
        return self.settings.project_dir(project_id)


def ensure_data_dir(settings: Settings) -> None:
    """The data dir is a folder, or a ConfigError naming the setting. It is made here only when
    it holds the database (the default SQLite file): a bad DATABASE_URL then writes nothing."""
    data_dir = Path(settings.data_dir)
    try:
        if settings.database_url is None:
            data_dir.mkdir(parents=True, exist_ok=True)
        elif data_dir.exists() and not data_dir.is_dir():
            raise FileExistsError(data_dir)
    except OSError as exc:
        reason = "it is a file" if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
        raise ConfigError(
            f"YTMAKER_DATA_DIR={data_dir} cannot be used as the data folder ({reason}); "
            "point it at a writable folder.",
            field="YTMAKER_DATA_DIR",
        ) from None
