"""Shared limits (Prefect global concurrency limits), so projects running at once share them.

The slots are taken through the Prefect client's lease API rather than
`prefect.concurrency.sync.concurrency`/`rate_limit`, to control the waits. On SQLite the server
answers 503 ("database is locked") when two writes meet and then closes the connection; the
lock is free again within milliseconds, but the Prefect client waits 2 s or more before trying
again, after the 503 and after the reset of the next request sent on that connection, and it
waits even when told not to retry. bench/fanout.py measured 1.9 s per image at concurrency 1.
So the slot calls go through one kept-open client per API whose own retries are off, whose
503s say "retry after 20 ms", and which `_retried` tries again after milliseconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectAlreadyExists
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES

from tasks.leases import Reclaimer
from ytmaker.config import Settings

IMAGES_IN_FLIGHT = "ytmaker-images-in-flight"
# Each paid request of these providers takes a token of its rate limit, shared by every worker.
RATE_LIMITS = {"stability": "stability-requests", "pexels": "pexels-requests"}
LEASE_SECONDS = 60.0  # the API's minimum; the slot of a run that died comes back within it
MAX_POLL_SECONDS = 2.0  # wait at most this long between tries when a limit is full
BUSY_RETRY_AFTER = "0"  # what our client reads from a 503 that names no Retry-After
WAIT_NOTICE_SECONDS = 10.0  # a run kept waiting by other runs' slots says so this often
RETRIES = 12  # a busy server or a reset connection: tried again 20 ms .. 1 s apart, ~8 s in all

logger = logging.getLogger(__name__)


class LimitMissing(RuntimeError):
    """A limit was used before ensure_limits() created it."""


def ensure_limits(settings: Settings) -> None:
    """Create or resize the limits; using a missing one fails loudly (LimitMissing)."""
    _upsert(IMAGES_IN_FLIGHT, settings.image_concurrency)
    for provider, (limit, decay) in provider_rates(settings).items():
        _upsert(RATE_LIMITS[provider], limit, decay)
    _reclaimer(IMAGES_IN_FLIGHT)()


def provider_rates(settings: Settings) -> dict[str, tuple[int, float]]:
    """(tokens, tokens coming back a second) per provider: Stability AI allows 150 requests in
    10 s; Pexels `PEXELS_REQUESTS_PER_HOUR` (200 by default), a burst of that many and then
    one each 3600/N s."""
    per_hour = settings.pexels_requests_per_hour
    return {"stability": (150, 15.0), "pexels": (per_hour, per_hour / 3600)}


def give_back_expired() -> None:
    """Expired image slots of runs that died are given back when this run's images are done,
    not only while a run waits: a run that got by with the slots left to it (images finishing
    one by one) would otherwise leave a dead run's slot counted until the next run starts."""
    _reclaimer(IMAGES_IN_FLIGHT)()


def _upsert(name: str, limit: int, decay: float | None = None) -> None:
    """Prefect's upsert reads, then creates: two runs starting at once (on two workers) both
    create, and one is told the limit exists (409); it then updates what the other made."""
    upsert = slot_client().upsert_global_concurrency_limit_by_name
    try:
        _retried(upsert, name, limit, decay)
    except ObjectAlreadyExists:
        _retried(upsert, name, limit, decay)


@contextlib.contextmanager
def image_slot(
    provider: str, concurrency: int, on_wait: Callable[[float], None] | None = None
) -> Iterator[None]:
    """Take a token from the provider's rate limit, then hold one of the image slots.

    Waiters in this process queue on a local semaphore for the slot, so a slot freed here
    passes to the next image within one server call rather than at its next poll. While other
    runs hold every slot, `on_wait(seconds)` is told every WAIT_NOTICE_SECONDS."""
    client = slot_client()
    if provider in RATE_LIMITS:
        _take(client, RATE_LIMITS[provider], "rate_limit")
    with _local_slots(IMAGES_IN_FLIGHT, concurrency):
        lease_id = _take(client, IMAGES_IN_FLIGHT, "concurrency", LEASE_SECONDS, on_wait)
        renewal = _Renewal(client, lease_id)
        try:
            yield
        finally:
            renewal.stop()
            _release(client, lease_id)


def _take(
    client: Any,
    name: str,
    mode: str,
    lease: float | None = None,
    on_wait: Callable[[float], None] | None = None,
) -> Any:
    """One slot of limit `name`, waiting (as the server's Retry-After says) while it is full;
    while it waits, slots of runs that died are given back."""
    started = time.monotonic()
    notice = started + WAIT_NOTICE_SECONDS
    while True:
        try:
            if lease is None:
                response = _retried(client.increment_concurrency_slots, [name], 1, mode)
            else:
                response = _retried(
                    client.increment_concurrency_slots_with_lease, [name], 1, mode, lease
                )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 423:
                raise
            wait = float(exc.response.headers.get("Retry-After") or 1.0)
            if lease is not None and _reclaimer(name)():
                continue
            if on_wait is not None and time.monotonic() >= notice:
                on_wait(time.monotonic() - started)
                notice += WAIT_NOTICE_SECONDS
            time.sleep(min(wait, MAX_POLL_SECONDS))
            continue
        data = response.json()
        if not (data.get("limits") if isinstance(data, dict) else data):
            raise LimitMissing(f"Prefect concurrency limit {name!r} does not exist")
        return data.get("lease_id") if isinstance(data, dict) else None


_LOCAL: dict[tuple[str, int], threading.Semaphore] = {}
_RECLAIMERS: dict[tuple[str, str], Reclaimer] = {}
_CLIENTS: dict[str, SyncPrefectClient] = {}
_LOCK = threading.Lock()
# The server writes slots one at a time anyway; calls sent at once from here only collide on
# its SQLite (503) and wait out each other's retries.
_ONE_CALL_AT_A_TIME = threading.Lock()


def _local_slots(name: str, size: int) -> threading.Semaphore:
    with _LOCK:
        return _LOCAL.setdefault((name, size), threading.Semaphore(size))


def _reclaimer(name: str) -> Reclaimer:
    """One per API and limit: it remembers a gap it saw until it is confirmed."""
    client = slot_client()
    key = (PREFECT_API_URL.value() or "ephemeral", name)
    with _LOCK:
        return _RECLAIMERS.setdefault(key, Reclaimer(client, name, _retried))


def slot_client() -> SyncPrefectClient:
    """This process's client of the current Prefect API for slot calls, kept open (a new one
    costs an SSL context, a connection and a CSRF probe per image)."""
    api = PREFECT_API_URL.value() or "ephemeral"
    with _LOCK:
        if api not in _CLIENTS:
            hooks = {"event_hooks": {"response": [_retry_at_once]}}
            _CLIENTS[api] = get_client(sync_client=True, httpx_settings=hooks).__enter__()
        return _CLIENTS[api]


def _retry_at_once(response: httpx.Response) -> None:
    if response.status_code == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = BUSY_RETRY_AFTER


def _retried(call: Any, *args: Any) -> Any:
    """`call(*args)`, tried again after milliseconds while the server is busy (503) or the
    connection was reset; a repeated increment at worst holds a slot until its lease ends."""
    for attempt in range(RETRIES):
        try:
            with _ONE_CALL_AT_A_TIME, _without_client_retries():
                return call(*args)
        except (httpx.HTTPStatusError, httpx.TransportError) as exc:
            busy = isinstance(exc, httpx.TransportError) or exc.response.status_code == 503
            if not busy or attempt == RETRIES - 1:
                raise
            time.sleep(min(0.02 * 2**attempt, 1.0))
    raise AssertionError("unreachable")


def _release(client: SyncPrefectClient, lease_id: Any) -> None:
    """Best effort: a slot not given back frees itself when its lease ends, while failing here
    would fail, and pay again for, an image that was made."""
    try:
        _retried(client.release_concurrency_slots_with_lease, lease_id)
    except httpx.HTTPError as exc:
        logger.warning(
            "Image slot not released (%s); it frees itself within %.0f s", exc, LEASE_SECONDS
        )


_NO_RETRY: dict[int, tuple[Any, Any]] = {}


def _without_client_retries() -> SettingsContext:
    """The current Prefect settings with client retries off, built once per settings object
    (`temporary_settings` would validate all of Prefect's settings on every call: ~0.1 s)."""
    current = get_settings_context()
    cached = _NO_RETRY.get(id(current.settings))
    if cached is None or cached[0] is not current.settings:
        updated = current.settings.copy_with_update(updates={PREFECT_CLIENT_MAX_RETRIES: 0})
        cached = _NO_RETRY[id(current.settings)] = (current.settings, updated)
    return SettingsContext(profile=current.profile, settings=cached[1])


class _Renewal:
    """Renews a lease every third of its life while the slot is held (a long image), with the
    holder's client and Prefect settings (a new thread would start from the defaults)."""

    def __init__(self, client: SyncPrefectClient, lease_id: str) -> None:
        self.client, self.lease_id, self._stop = client, lease_id, threading.Event()
        run = contextvars.copy_context().run
        self._thread = threading.Thread(target=run, args=(self._run,), daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(LEASE_SECONDS / 3):
            with contextlib.suppress(Exception):
                _retried(self.client.renew_concurrency_lease, self.lease_id, LEASE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
