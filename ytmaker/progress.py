"""Progress messages on Redis Pub/Sub channel `progress:{project_id}`; best-effort by design.

Installations that share one Redis (two checkouts on a machine, staging and production) use the
same channel names: each message carries its installation's id (`installation`), and a bus
skips messages of another one; each installation keeps its own latest message
(`progress:{id}:latest:{installation}`). A prefix (YTMAKER_PROGRESS_PREFIX) gives the channels
their own names too. Messages without an id (older versions, other tools) are read as before.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import redis

from ytmaker.redis_conn import describe

log = logging.getLogger(__name__)
RETRY_AFTER = 5.0  # seconds to skip Redis after it refused us (a refusal costs nothing)
# A Redis that accepts and never answers costs a socket timeout per try: after a timeout, skip
# it for SLOW_RETRY_AFTER seconds, doubling up to SLOW_RETRY_MAX. A 10-minute video then
# tries 5 times (about 5 s in all) instead of blocking on every message.
SLOW_RETRY_AFTER = 30.0
SLOW_RETRY_MAX = 300.0


class Stage(StrEnum):
    SCRIPT = "script_generation"
    ASSETS = "asset_generation"
    RENDER = "video_rendering"
    THUMBNAIL = "thumbnail_generation"
    UPLOAD = "youtube_upload"
    ERROR = "error"


def channel(project_id: int, prefix: str = "") -> str:
    return f"{prefix}progress:{project_id}"


def latest_key(project_id: int, prefix: str = "", installation: str | None = None) -> str:
    key = f"{prefix}progress:{project_id}:latest"
    return f"{key}:{installation}" if installation else key


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sent_at(message: dict[str, Any]) -> datetime | None:
    """When a message was published, to the millisecond (None if it does not say)."""
    try:
        return datetime.fromisoformat(str(message["timestamp"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


class _ClientState:
    """Redis health as seen by every bus on one client, so an outage warns once per process;
    also each stage's highest progress, so a retried task (a new bus) never reports less."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.warned = False
        self.down_until = 0.0
        self.high: dict[tuple[int, str], float] = {}
        self.timeouts = 0  # in a row

    def is_open(self) -> bool:
        """True while Redis is being skipped."""
        return time.monotonic() < self.down_until

    def tripped(self, exc: redis.RedisError) -> bool:
        """Skip Redis for a while; True at the start of an outage (warn then)."""
        with self.lock:
            if isinstance(exc, redis.TimeoutError):
                pause = min(SLOW_RETRY_AFTER * 2**self.timeouts, SLOW_RETRY_MAX)
                self.timeouts += 1
            else:
                pause = RETRY_AFTER
            self.down_until = time.monotonic() + pause
            first, self.warned = not self.warned, True
        return first

    def closed(self) -> bool:
        """Redis answered; True if it had been down (say so once)."""
        with self.lock:
            back, self.warned, self.timeouts = self.warned, False, 0
        return back


_breakers: weakref.WeakKeyDictionary[redis.Redis, _ClientState] = weakref.WeakKeyDictionary()
_breakers_lock = threading.Lock()


def _breaker(client: redis.Redis) -> _ClientState:
    with _breakers_lock:
        return _breakers.setdefault(client, _ClientState())


class ProgressBus:
    """Publishes JSON progress; Redis trouble is logged once and never fails a video."""

    def __init__(
        self,
        client: redis.Redis,
        latest_ttl: int = 7 * 24 * 3600,
        *,
        installation: str | None = None,
        prefix: str = "",
    ) -> None:
        self.client = client
        self.latest_ttl = latest_ttl
        self.installation, self.prefix = installation, prefix
        self._breaker = _breaker(client)

    def channel(self, project_id: int) -> str:
        return channel(project_id, self.prefix)

    def latest_key(self, project_id: int) -> str:
        return latest_key(project_id, self.prefix, self.installation)

    def ours(self, message: dict[str, Any] | None) -> bool:
        """Not another installation's message (one without an id is taken as ours)."""
        if message is None:
            return False
        sender = message.get("installation")
        return sender is None or self.installation is None or sender == self.installation

    def begin(self, project_id: int, stage: Stage | str, message: str) -> dict[str, Any]:
        """A stage starts afresh (not a retry): its progress may start again from 0."""
        with self._breaker.lock:
            self._breaker.high.pop((project_id, str(stage)), None)
        return self.publish(project_id, stage, 0, message)

    def publish(
        self,
        project_id: int,
        stage: Stage | str,
        progress: float,
        message: str,
        *,
        error: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload = {
            "project_id": project_id,
            "stage": str(stage),
            "progress": self._monotonic(project_id, str(stage), progress),
            "message": message,
            "timestamp": utc_timestamp(),
        }
        if self.installation:
            payload["installation"] = self.installation
        if error is not None:
            payload["error"] = error
        if data is not None:
            payload["data"] = data
        self._send(project_id, json.dumps(payload, ensure_ascii=False))
        return payload

    def note(
        self, project_id: int, stage: Stage | str, message: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """A message on a stage at the progress it has reached (a retry, a wait, a warning):
        0 is raised to the stage's highest so far."""
        return self.publish(project_id, stage, 0, message, data=data)

    def _monotonic(self, project_id: int, stage: str, progress: float) -> float:
        """Clamp to 0-100 and never report less than before within a stage."""
        value = round(min(100.0, max(0.0, float(progress))), 1)
        with self._breaker.lock:
            value = max(value, self._breaker.high.get((project_id, stage), 0.0))
            self._breaker.high[(project_id, stage)] = value
        return value

    def _send(self, project_id: int, body: str) -> None:
        """Send, unless Redis failed a moment ago: a stalled run helps no one."""
        if self._breaker.is_open():
            return
        try:
            pipe = self.client.pipeline()
            pipe.set(self.latest_key(project_id), body, ex=self.latest_ttl)
            pipe.publish(self.channel(project_id), body)
            pipe.execute()
        except redis.RedisError as exc:
            self._went_down(exc, "Progress not published", "the video goes on")
            return
        if self._breaker.closed():
            log.info("Progress published again (Redis at %s is back)", describe(self.client))

    def _went_down(self, exc: redis.RedisError, what: str, then: str) -> None:
        """Skip Redis for a while; warn at the start of an outage only (never with a password)."""
        if self._breaker.tripped(exc):
            log.warning(
                "%s (Redis at %s %s); %s",
                what,
                describe(self.client),
                _reason(exc, self.client),
                then,
            )

    def latest(self, project_id: int) -> dict[str, Any] | None:
        """The last message kept for late subscribers; None when there is none, when Redis is
        away, or when what is stored there is not a progress message."""
        if self._breaker.is_open():
            return None
        try:
            body = self.client.get(self.latest_key(project_id))
        except redis.RedisError as exc:
            self._went_down(exc, "Progress not read", "progress is not shown")
            return None
        message = decode(body) if body else None
        return message if self.ours(message) else None

    def subscribe(
        self,
        project_id: int,
        *,
        include_latest: bool = True,
        timeout: float | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield messages as they arrive (the stored latest first, for late subscribers).

        Ends after `timeout` seconds without a message, or once `stop` is set and what was
        already sent has been read.
        """
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel(project_id))
            if include_latest and (latest := self.latest(project_id)) is not None:
                yield latest
            yield from _listen(pubsub, timeout, stop, self.ours)
        except redis.RedisError as exc:
            self._went_down(exc, "Progress not followed", "see `ytmaker status` for the outcome")
        finally:
            pubsub.close()


def _reason(exc: redis.RedisError, client: redis.Redis) -> str:
    if isinstance(exc, redis.TimeoutError):
        seconds = client.connection_pool.connection_kwargs.get("socket_timeout")
        return f"did not answer within {seconds} s"
    return f"unavailable: {type(exc).__name__}"


def decode(body: str | bytes) -> dict[str, Any] | None:
    """A progress message as we write them, or None for anything else another writer left
    (not JSON, not an object, no stage, a progress that is not a number from 0 to 100)."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or not isinstance(message.get("stage"), str):
        return None
    value = message.get("progress")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return {
        **message,
        "progress": min(100.0, max(0.0, float(value))),
        "message": str(message.get("message", "")),
    }


def _listen(
    pubsub: redis.client.PubSub,
    timeout: float | None,
    stop: threading.Event | None,
    ours: Callable[[dict[str, Any]], bool],
) -> Iterator[dict[str, Any]]:
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        stopping = stop is not None and stop.is_set()
        message = pubsub.get_message(timeout=0.2 if stopping else 0.5)
        if message is None:
            if stopping:
                return
            continue
        decoded = decode(message["data"])
        if decoded is None or not ours(decoded):
            log.debug("Ignoring a message that is not our progress on %s", message.get("channel"))
            continue
        yield decoded
        if timeout is not None:
            deadline = time.monotonic() + timeout
