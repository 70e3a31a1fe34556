"""Image slots of runs that died come back: leases kept on disk, expired ones given back.

A slot is counted in the Prefect API's database (`active_slots`) but its lease lives in the
server's lease storage, which is in memory by default. The in-process API of `ytmaker generate`
dies with the process, so a hard kill (SIGKILL, the OOM killer, a power cut) used to leave its
slots counted for ever and every later run waited at the image stage. So:

- every Prefect API we start keeps leases in files under its home (`FILE_LEASES`, set by
  `tasks/prefect_env.py`, `deployments/common.sh` and the compose file), which outlive the
  process and a server restart;
- a full server (`make up`, compose) gives back expired leases itself (its repossessor, every
  5 s under `make up`, 15 s by default); an in-process API runs no such service, so a run that
  finds the limit full does it here, through the API, from the same lease files (`Reclaimer`);
- slots counted in the database that no lease file holds (an installation that leaked them
  before leases were kept on disk, or a server killed between counting a slot and writing its
  lease) are set back to what the files hold, once the gap has been seen twice a second apart.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.settings import PREFECT_API_URL
from prefect.settings.context import get_current_settings

from tasks.prefect_env import FILE_LEASES

ORPHAN_CONFIRM_SECONDS = 1.0  # a lease file is written milliseconds after its slot is counted

logger = logging.getLogger(__name__)
T = TypeVar("T")
Retried = Callable[..., Any]


def lease_dir() -> Path | None:
    """The lease files of the current Prefect API when this process runs that API (the
    in-process API of `ytmaker generate`, or a test harness): it inherited our settings, so its
    files are under our home. A remote server's leases are its own (its repossessor)."""
    settings = get_current_settings()
    if settings.server.concurrency.lease_storage != FILE_LEASES or not _serves_api():
        return None
    return Path(settings.home) / "concurrency_leases"


def _serves_api() -> bool:
    url = PREFECT_API_URL.value()
    if not url:
        return True  # Prefect starts its in-process API for us
    from prefect.server.api.server import SubprocessASGIServer

    servers = SubprocessASGIServer._instances.values()
    return any(server.running and server.api_url == url for server in servers)


def _storage(path: Path) -> Any:
    from prefect.server.concurrency.lease_storage.filesystem import ConcurrencyLeaseStorage

    return ConcurrencyLeaseStorage(storage_path=path)


def _sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, also from a thread whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: list[T] = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return box[0]


class Reclaimer:
    """Gives back the slots of dead runs for one limit; cheap enough to call on every poll."""

    def __init__(self, client: Any, name: str, retried: Retried) -> None:
        self.client, self.name, self.retried = client, name, retried
        self._orphans_seen: tuple[int, float] | None = None

    def __call__(self) -> int:
        """Slots given back now (0 when the lease files are not ours to read)."""
        path = lease_dir()
        if path is None:
            return 0
        storage = _storage(path)
        freed = self._expired(storage)
        return freed + self._orphans(storage)

    def _expired(self, storage: Any) -> int:
        freed = 0
        for lease_id in _sync(storage.read_expired_lease_ids()):
            self.retried(self.client.release_concurrency_slots_with_lease, lease_id)
            freed += 1
        if freed:
            logger.warning(
                "Gave back %d image slot(s) of a run that stopped without releasing them", freed
            )
        return freed

    def _orphans(self, storage: Any) -> int:
        limit = self.retried(self.client.read_global_concurrency_limit_by_name, self.name)
        held = _sync(_slots_held(storage, limit.id))
        gap = limit.active_slots - held
        now = time.monotonic()
        if gap <= 0:
            self._orphans_seen = None
            return 0
        if self._orphans_seen is None or self._orphans_seen[0] != gap:
            self._orphans_seen = (gap, now)
            return 0
        if now - self._orphans_seen[1] < ORPHAN_CONFIRM_SECONDS:
            return 0
        update = GlobalConcurrencyLimitUpdate(active_slots=held)
        self.retried(self.client.update_global_concurrency_limit, self.name, update)
        self._orphans_seen = None
        logger.warning(
            "Limit %s counted %d slot(s) that no run holds (lost leases); set back to %d",
            self.name,
            gap,
            held,
        )
        return gap


async def _slots_held(storage: Any, limit_id: Any) -> int:
    """Slots of `limit_id` that a lease file holds, expired or not (not yet given back)."""
    held = 0
    for lease_file in storage.storage_path.glob("*.json"):
        if lease_file.name == "expirations.json":
            continue
        try:
            lease = await storage.read_lease(UUID(lease_file.stem))
        except ValueError:
            continue
        if lease is not None and limit_id in lease.resource_ids and lease.metadata:
            held += lease.metadata.slots
    return held
