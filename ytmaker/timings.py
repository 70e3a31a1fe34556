"""How long each stage attempt and each sub-asset took, and what came of it: a `timings` row
each, for `ytmaker stats` and the metrics, and a start and an end log line each.

CPU seconds and peak memory are the run process's (`getrusage`, its FFmpeg children
included): on a worker a process runs one video, so they are that video's. In an in-process
batch making several videos at once they overlap, and peak memory is the process's peak so far.
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ytmaker import logs
from ytmaker.models import Timing, utcnow

log = logging.getLogger(__name__)
OK, RETRY, FAILED, CACHED = "ok", "retry", "failed", "cached"


def _usage() -> tuple[resource.struct_rusage, resource.struct_rusage]:
    return resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)


def _cpu_seconds() -> float:
    own, children = _usage()
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mb() -> float:
    """The largest resident size of this process or a finished child (kB on Linux)."""
    own, children = _usage()
    return round(max(own.ru_maxrss, children.ru_maxrss) / 1024, 1)


@dataclass
class Clock:
    """Started when a stage attempt or a sub-asset starts; `row` when it ends."""

    project_id: int
    stage: str
    attempt: int = 1
    asset: str | None = None
    service: str | None = None
    remote: bool = False
    started_at: datetime = field(default_factory=utcnow)
    _wall: float = field(default_factory=time.monotonic)
    _cpu: float = field(default_factory=_cpu_seconds)

    @classmethod
    def start(
        cls,
        project_id: int,
        stage: str,
        attempt: int = 1,
        asset: str | None = None,
        provider: object | None = None,
    ) -> Clock:
        """A clock for work starting now, with its start line; `provider` is who does it."""
        clock = cls(project_id, stage, attempt, asset)
        if provider is not None:
            clock.service, clock.remote = getattr(provider, "name", None), is_remote(provider)
        log.info("%s started", clock.what, extra=clock._fields())
        return clock

    @property
    def what(self) -> str:
        place = f"{self.stage} {self.asset}" if self.asset else self.stage
        return f"Project {self.project_id}, {place}"

    def row(self, outcome: str, error: dict[str, Any] | None = None) -> Timing:
        """The row (not yet stored) and the end line: INFO, or WARNING for a retry."""
        seconds = round(time.monotonic() - self._wall, 3)
        is_stage = self.asset is None
        timing = Timing(
            project_id=self.project_id,
            stage=self.stage,
            asset=self.asset,
            attempt=self.attempt,
            started_at=self.started_at,
            finished_at=utcnow(),
            seconds=seconds,
            outcome=outcome,
            error_code=(error or {}).get("code"),
            service=self.service,
            remote=self.remote,
            cpu_seconds=round(_cpu_seconds() - self._cpu, 3) if is_stage else None,
            peak_rss_mb=_peak_rss_mb() if is_stage else None,
            trace_id=logs.current().get("trace_id"),
        )
        self._log_end(timing, error)
        return timing

    def _log_end(self, timing: Timing, error: dict[str, Any] | None) -> None:
        """INFO: the retry's WARNING and the failure's ERROR are the bookkeeping's lines."""
        extra = self._fields(duration=timing.seconds, outcome=timing.outcome)
        if error is not None:
            extra |= logs.error_fields(error)
        log.info("%s %s in %.2f s", self.what, _said(timing.outcome), timing.seconds, extra=extra)

    def _fields(self, **more: Any) -> dict[str, Any]:
        fields = {"project_id": self.project_id, "stage": self.stage, "attempt": self.attempt}
        return fields | ({"asset": self.asset} if self.asset else {}) | more


def _said(outcome: str) -> str:
    return {OK: "finished", RETRY: "failed (to be retried)", FAILED: "failed", CACHED: "reused"}[
        outcome
    ]


def is_remote(provider: object) -> bool:
    """A service over the network (its time is waiting), not one of the offline providers."""
    return not type(provider).__module__.startswith("ytmaker.providers.local")
