"""Shared limits (Prefect global concurrency limits), so projects running at once share them.

The slots are taken through the Prefect client's lease API rather than
`prefect.concurrency.sync.concurrency`/`rate_limit`, to control the retries: on SQLite the
server answers 503 ("database is locked") while it writes task states, and the client's own
back-off then waits 2 s or more for a slot write that is free again within milliseconds
(bench/fanout.py measured 1.9 s per image at concurrency 1). Here a 503 is retried at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from prefect.client.orchestration import get_client
from prefect.context import SettingsContext
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

from ytmaker.config import Settings

IMAGES_IN_FLIGHT = "ytmaker-images-in-flight"
# Stability AI allows 150 requests in 10 s: 150 slots that drain at 15 a second.
PROVIDER_RATES = {"StabilityImages": ("stability-requests", 150, 15.0)}
LEASE_SECONDS = 60.0  # the slot of a worker that died comes back within a minute
MAX_POLL_SECONDS = 2.0  # wait at most this long between tries when a limit is full
QUICK_RETRIES = 12  # 503s retried 20 ms, 40 ms, ... 1 s apart: ~8 s in all


class LimitMissing(RuntimeError):
    """A limit was used before ensure_limits() created it."""


def ensure_limits(settings: Settings) -> None:
    """Create or resize the limits; using a missing one fails loudly (LimitMissing)."""
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(IMAGES_IN_FLIGHT, settings.image_concurrency)
        for name, limit, decay in PROVIDER_RATES.values():
            client.upsert_global_concurrency_limit_by_name(name, limit, decay)


@contextlib.contextmanager
def image_slot(provider: str) -> Iterator[None]:
    """Hold one of the image slots, after taking a token from the provider's rate limit."""
    with get_client(sync_client=True) as client:
        if provider in PROVIDER_RATES:
            _take(client, PROVIDER_RATES[provider][0], "rate_limit")
        lease_id = _take(client, IMAGES_IN_FLIGHT, "concurrency", LEASE_SECONDS)
        renewal = _Renewal(lease_id)
        try:
            yield
        finally:
            renewal.stop()
            _quick(client.release_concurrency_slots_with_lease, lease_id)


def _take(client: Any, name: str, mode: str, lease: float | None = None) -> Any:
    """One slot of limit `name`, waiting (as the server's Retry-After says) while it is full."""
    while True:
        try:
            if lease is None:
                response = _quick(client.increment_concurrency_slots, [name], 1, mode)
            else:
                response = _quick(
                    client.increment_concurrency_slots_with_lease, [name], 1, mode, lease
                )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 423:
                raise
            wait = float(exc.response.headers.get("Retry-After") or 1.0)
            time.sleep(min(wait, MAX_POLL_SECONDS))
            continue
        data = response.json()
        if not (data.get("limits") if isinstance(data, dict) else data):
            raise LimitMissing(f"Prefect concurrency limit {name!r} does not exist")
        return data.get("lease_id") if isinstance(data, dict) else None


def _quick(call: Callable[..., Any], *args: Any) -> Any:
    """`call(*args)` with what the client would retry (503, a dropped connection) retried
    after milliseconds instead of the client's seconds."""
    for attempt in range(QUICK_RETRIES):
        try:
            with _without_client_retries():
                return call(*args)
        except (httpx.HTTPStatusError, httpx.TransportError) as exc:
            busy = isinstance(exc, httpx.TransportError) or exc.response.status_code == 503
            if not busy or attempt == QUICK_RETRIES - 1:
                raise
            time.sleep(min(0.02 * 2**attempt, 1.0))
    raise AssertionError("unreachable")


_NO_RETRY: dict[int, tuple[Any, Any]] = {}


def _without_client_retries() -> SettingsContext:
    """The current Prefect settings with client retries off, built once per settings object
    (`temporary_settings` would validate all of Prefect's settings on every call: ~0.1 s)."""
    current = SettingsContext.get()
    cached = _NO_RETRY.get(id(current.settings))
    if cached is None or cached[0] is not current.settings:
        updated = current.settings.copy_with_update(updates={PREFECT_CLIENT_MAX_RETRIES: 0})
        cached = _NO_RETRY[id(current.settings)] = (current.settings, updated)
    return SettingsContext(profile=current.profile, settings=cached[1])


class _Renewal:
    """Renews a lease every third of its life while the slot is held (a long image)."""

    def __init__(self, lease_id: str) -> None:
        self.lease_id, self._stop = lease_id, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="slot-lease")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(LEASE_SECONDS / 3):
            with contextlib.suppress(Exception), get_client(sync_client=True) as client:
                client.renew_concurrency_lease(self.lease_id, LEASE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
