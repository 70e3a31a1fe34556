"""Progress messages on Redis Pub/Sub channel `progress:{project_id}`; best-effort by design."""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import redis

from ytmaker.redis_conn import describe

log = logging.getLogger(__name__)
RETRY_AFTER = 5.0  # seconds to skip publishing after Redis failed


class Stage(StrEnum):
    SCRIPT = "script_generation"
    ASSETS = "asset_generation"
    RENDER = "video_rendering"
    THUMBNAIL = "thumbnail_generation"
    UPLOAD = "youtube_upload"
    ERROR = "error"


def channel(project_id: int) -> str:
    return f"progress:{project_id}"


def latest_key(project_id: int) -> str:
    return f"progress:{project_id}:latest"


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


_breakers: weakref.WeakKeyDictionary[redis.Redis, _ClientState] = weakref.WeakKeyDictionary()
_breakers_lock = threading.Lock()


def _breaker(client: redis.Redis) -> _ClientState:
    with _breakers_lock:
        return _breakers.setdefault(client, _ClientState())


class ProgressBus:
    """Publishes JSON progress; Redis trouble is logged once and never fails a video."""

    def __init__(self, client: redis.Redis, latest_ttl: int = 7 * 24 * 3600) -> None:
        self.client = client
        self.latest_ttl = latest_ttl
        self._breaker = _breaker(client)

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
        if error is not None:
            payload["error"] = error
        if data is not None:
            payload["data"] = data
        self._send(project_id, json.dumps(payload, ensure_ascii=False))
        return payload

    def _monotonic(self, project_id: int, stage: str, progress: float) -> float:
        """Clamp to 0-100 and never report less than before within a stage."""
        value = round(min(100.0, max(0.0, float(progress))), 1)
        with self._breaker.lock:
            value = max(value, self._breaker.high.get((project_id, stage), 0.0))
            self._breaker.high[(project_id, stage)] = value
        return value

    def _send(self, project_id: int, body: str) -> None:
        """Send, unless Redis failed in the last RETRY_AFTER seconds: a stalled run helps no one."""
        breaker = self._breaker
        if time.monotonic() < breaker.down_until:
            return
        try:
            pipe = self.client.pipeline()
            pipe.set(latest_key(project_id), body, ex=self.latest_ttl)
            pipe.publish(channel(project_id), body)
            pipe.execute()
        except redis.RedisError as exc:
            self._went_down(exc)
            return
        with breaker.lock:
            back, breaker.warned = breaker.warned, False
        if back:
            log.info("Progress published again (Redis at %s is back)", describe(self.client))

    def _went_down(self, exc: redis.RedisError) -> None:
        """Skip Redis for a while; warn at the start of an outage only (never with a password)."""
        breaker = self._breaker
        with breaker.lock:
            breaker.down_until = time.monotonic() + RETRY_AFTER
            first, breaker.warned = not breaker.warned, True
        if first:
            log.warning(
                "Progress not published (Redis at %s unavailable: %s); the video goes on",
                describe(self.client),
                type(exc).__name__,
            )

    def latest(self, project_id: int) -> dict[str, Any] | None:
        try:
            body = self.client.get(latest_key(project_id))
        except redis.RedisError:
            return None
        return json.loads(body) if body else None

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
        pubsub.subscribe(channel(project_id))
        try:
            if include_latest and (latest := self.latest(project_id)) is not None:
                yield latest
            yield from _listen(pubsub, timeout, stop)
        finally:
            pubsub.close()


def _listen(
    pubsub: redis.client.PubSub, timeout: float | None, stop: threading.Event | None
) -> Iterator[dict[str, Any]]:
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        stopping = stop is not None and stop.is_set()
        message = pubsub.get_message(timeout=0.2 if stopping else 0.5)
        if message is None:
            if stopping:
                return
            continue
        yield json.loads(message["data"])
        if timeout is not None:
            deadline = time.monotonic() + timeout
