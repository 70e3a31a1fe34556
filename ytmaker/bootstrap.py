"""The composition root: the one place a run's parts are built — settings, database, progress
bus and each service's provider — so the stages receive them, and tests pass their own parts
(a recording fake, a database of their own) instead of setting environment variables."""

from __future__ import annotations

from ytmaker.attempt import Attempt
from ytmaker.config import Settings, get_settings
from ytmaker.context import Context, ensure_data_dir
from ytmaker.db import Repository
from ytmaker.progress import ProgressBus
from ytmaker.providers import Providers
from ytmaker.providers.base import AvatarMaker, ImageMaker, Publisher, ScriptWriter, Voice
from ytmaker.redis_conn import connect


def bootstrap(
    settings: Settings | None = None,
    *,
    attempt: Attempt | None = None,
    providers: Providers | None = None,
    repo: Repository | None = None,
    bus: ProgressBus | None = None,
    script_writer: ScriptWriter | None = None,
    voice: Voice | None = None,
    images: ImageMaker | None = None,
    avatar: AvatarMaker | None = None,
    publisher: Publisher | None = None,
) -> Context:
    """A context for one run (or one task of it); anything not given is built from settings."""
    settings = settings or get_settings()
    ensure_data_dir(settings)
    return Context(
        settings=settings,
        repo=repo or Repository(settings.resolved_database_url),
        bus=bus
        or ProgressBus(
            connect(settings.redis_url, settings.data_dir),
            installation=settings.installation_id,
            prefix=settings.progress_prefix,
        ),
        attempt=attempt or Attempt(),
        providers=providers
        or Providers(
            settings,
            script_writer=script_writer,
            voice=voice,
            images=images,
            avatar=avatar,
            publisher=publisher,
        ),
    )
