"""Locks that outlive no one: Redis locks with an expiry, renewed while their holder lives.

When task results live in Redis (`PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK=redis-database/...`,
set by `make up` and the compose stack), two runs of the same project may race: a double click
in the UI, an automation firing twice, a run rescheduled while the old one still works. Asset
tasks then run with `SERIALIZABLE` isolation: the second racer waits for the first to commit and
reads its result instead of paying again.

prefect-redis's `RedisLockManager` takes its locks without an expiry, and Prefect waits for a
lock without a limit: a run killed while holding one (a lost machine) would block the resumed
run for ever. `ExpiringRedisLockManager` gives every lock `HOLD_SECONDS` and renews it every
third of that while its holder lives, so a dead holder's lock is free within `HOLD_SECONDS`.
It connects to the Redis of the results block on first use (never at import: `prefect deploy`
imports the flows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from prefect_redis import RedisLockManager
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

HOLD_SECONDS = 30.0  # a dead holder's lock is free again within this
WAIT_POLL_SECONDS = 0.1
RESULTS_BLOCK = "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK"

logger = logging.getLogger(__name__)
Params = Callable[[], dict[str, Any]]


def shared_results() -> str | None:
    """The Redis results block (`redis-database/NAME`) when results are shared, else None."""
    slug = os.environ.get(RESULTS_BLOCK, "")
    return slug if slug.startswith("redis-database/") else None


def results_redis_params() -> dict[str, Any]:
    """Connection parameters of the results block: locks live next to the results."""
    from prefect_redis import RedisDatabase

    slug = shared_results()
    if slug is None:
        raise RuntimeError(f"{RESULTS_BLOCK} does not name a redis-database block")
    return RedisDatabase.load(slug.split("/", 1)[1]).as_connection_params()


class ExpiringRedisLockManager(RedisLockManager):
    """`RedisLockManager` whose locks expire after `hold_seconds` unless their holder renews
    them (a thread per held lock renews every third of that)."""

    def __init__(self, params: Params = results_redis_params, hold_seconds: float = HOLD_SECONDS):
        self._params, self.hold_seconds = params, hold_seconds
        # per (lock name, holder): prefect-redis keeps one entry per name, and a releasing
        # holder deleted it just after the next holder (another thread) had stored its own;
        # that holder then waited in `wait_for_lock` for the lock it held, for ever
        self._held: dict[tuple[str, str], tuple[Lock, _Renewal]] = {}
        self._held_lock = threading.Lock()
        self._connect_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"_params": self._params, "hold_seconds": self.hold_seconds}

    def __setstate__(self, state: dict[str, Any]) -> None:
        ExpiringRedisLockManager.__init__(self, **{k.lstrip("_"): v for k, v in state.items()})

    def __getattr__(self, name: str) -> Any:
        """`client`/`async_client` are made on first use, from the results block."""
        if name not in ("client", "async_client"):
            raise AttributeError(name)
        with self.__dict__["_connect_lock"]:
            if "client" not in self.__dict__:
                params = {"port": 6379, "db": 0, "username": None, "password": None}
                params.update({"ssl": False, "connection_url": None, **self._params()})
                for key, value in params.items():
                    setattr(self, key, value)
                self._init_clients()
        return self.__dict__[name]

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        name = self._lock_name_for_key(key)
        if self.is_lock_holder(key, holder):
            return True
        hold = hold_timeout or self.hold_seconds
        lock = Lock(self.client, name, timeout=hold, thread_local=False)
        if not lock.acquire(token=holder, blocking_timeout=acquire_timeout):
            return False
        with self._held_lock:
            self._held[(name, holder)] = (lock, _Renewal(lock, hold))
        return True

    async def aacquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        return await asyncio.to_thread(
            self.acquire_lock, key, holder, acquire_timeout, hold_timeout
        )

    def is_lock_holder(self, key: str, holder: str) -> bool:
        with self._held_lock:
            return (self._lock_name_for_key(key), holder) in self._held

    def release_lock(self, key: str, holder: str) -> None:
        """As prefect-redis: a lock already gone is fine; one another holder has is an error."""
        name = self._lock_name_for_key(key)
        with self._held_lock:
            held = self._held.pop((name, holder), None)
        if held is None:
            if self.is_locked(key):
                raise ValueError(f"No lock held by {holder} for transaction with key {key}")
            return
        lock, renewal = held
        renewal.stop()
        try:
            lock.release()
        except LockError:  # it expired (renewals failed) and may be someone else's now
            logger.warning("Lock %s had expired before its release", name)

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        """Wait until no one holds the lock, without taking it (prefect-redis takes and releases
        it, a moment in which a kill would leave a lock without an expiry)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_locked(key):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(WAIT_POLL_SECONDS)
        return True

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        return await asyncio.to_thread(self.wait_for_lock, key, timeout)

    @contextlib.contextmanager
    def held(self, key: str) -> Iterator[None]:
        """Hold `key` for the duration of a block (waits while another holds it)."""
        holder = uuid.uuid4().hex
        self.acquire_lock(key, holder)
        try:
            yield
        finally:
            self.release_lock(key, holder)


class _Renewal:
    """Resets a held lock's expiry every third of its life until stopped."""

    def __init__(self, lock: Lock, hold: float) -> None:
        self.lock, self.hold, self._stop = lock, hold, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="lock-renewal")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.hold / 3):
            try:
                self.lock.reacquire()
            except LockError:
                logger.warning("Lost lock %s before renewing it", self.lock.name)
                return
            except RedisError as exc:  # Redis away for a moment: try again at the next tick
                logger.warning("Could not renew lock %s: %s", self.lock.name, exc)

    def stop(self) -> None:
        self._stop.set()


LOCKS = ExpiringRedisLockManager()


@contextlib.contextmanager
def exclusive(project_id: int, stage: str) -> Iterator[None]:
    """One run of a project at a time in a stage whose result is not a cached task result
    (the script, the render, the upload): a racer waits, then finds the work done. Nothing
    happens when results are not shared (one process: the embedded default)."""
    if shared_results() is None:
        yield
        return
    with LOCKS.held(f"ytmaker-project-{project_id}-{stage}"):
        yield
