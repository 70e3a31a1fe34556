"""Time limits: each attempt at a stage has a deadline that every blocking call under it honours
(FFmpeg is killed, a provider request is cut short, a wait gives up), so nothing waits for ever.

The deadline travels in a context variable: set by the stage, read where the waiting happens,
and carried into the threads Prefect starts for mapped tasks (they copy the context).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from ytmaker.errors import YTMakerError

# A stage whose own limit ran out is tried again only where the next try goes on from where
# this one stopped (an upload continues its session); a render would only run out again.
RETRY_HELPS = {"upload"}


class StageTimeout(YTMakerError):
    code = "STAGE_TIMEOUT"


@dataclass(frozen=True)
class Deadline:
    stage: str
    seconds: float
    setting: str
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return max(0.0, self.started + self.seconds - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def error(self) -> StageTimeout:
        return StageTimeout(
            f"The {self.stage} stage did not finish within {self.seconds:g} s; raise "
            f"{self.setting} if it needs longer.",
            code=f"{self.stage.upper()}_TIMEOUT",
            retryable=self.stage in RETRY_HELPS,
            setting=self.setting,
            timeout=self.seconds,
        )

    def check(self) -> None:
        if self.expired():
            raise self.error()


_current: ContextVar[Deadline | None] = ContextVar("ytmaker_deadline", default=None)


def current() -> Deadline | None:
    return _current.get()


def cap(seconds: float) -> float:
    """A call's own time limit, cut to what the stage has left (at least a moment, so the
    call fails as a timeout rather than at once)."""
    limit = current()
    return seconds if limit is None else max(0.5, min(seconds, limit.remaining()))


def expired() -> bool:
    """Whether the current stage's time is up (False outside a stage)."""
    limit = current()
    return limit is not None and limit.expired()


def check() -> None:
    """Raise the stage's timeout error if its time is up."""
    if (limit := current()) is not None:
        limit.check()


@contextlib.contextmanager
def within(stage: str, seconds: float, setting: str) -> Iterator[Deadline]:
    """Run a stage attempt under a deadline; whatever it raises once the time is up (a cut
    request, a killed FFmpeg) becomes the stage's timeout error, naming the setting."""
    limit = Deadline(stage, seconds, setting)
    token = _current.set(limit)
    try:
        yield limit
    except StageTimeout:
        raise
    except Exception as exc:
        if limit.expired():
            raise limit.error() from exc
        raise
    finally:
        _current.reset(token)


@contextlib.contextmanager
def killed_at_deadline(proc: subprocess.Popen) -> Iterator[None]:
    """Kill `proc` when the stage's time is up (a hung FFmpeg never returns by itself)."""
    limit = current()
    if limit is None:
        yield
        return
    timer = threading.Timer(limit.remaining(), proc.kill)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
