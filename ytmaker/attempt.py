"""Which try of a stage or asset this is, so a failure that will be tried again is not
reported as final (the task runner passes it in; the domain never asks Prefect)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ytmaker import deadline
from ytmaker.errors import is_retryable, retry_after


@dataclass(frozen=True)
class Attempt:
    number: int = 1
    max_attempts: int = 1
    delays: tuple[float, ...] = ()

    @property
    def is_retry(self) -> bool:
        return self.number > 1

    def retry_in(self, exc: BaseException) -> float | None:
        """Seconds until the next try when `exc` will be tried again; None when it is final
        (no try left, an error a retry cannot fix, or the stage's time is up)."""
        if self.number >= self.max_attempts or not is_retryable(exc) or deadline.expired():
            return None
        return round(max(self.planned_delay, retry_after(exc)), 1)

    @property
    def planned_delay(self) -> float:
        """The configured wait after this attempt (before a provider's Retry-After)."""
        if not self.delays:
            return 0.0
        return self.delays[min(max(self.number - 1, 0), len(self.delays) - 1)]

    def retry_data(self, error: dict[str, Any], retry_in: float) -> dict[str, Any]:
        """The `data` of a progress message announcing a retry."""
        return {
            "attempt": self.number,
            "max_attempts": self.max_attempts,
            "retry_in": retry_in,
            "error": error,
        }

    def retry_text(self, retry_in: float) -> str:
        """retrying (attempt n of m) in s: what watch, status and batch status show."""
        return retrying_text(self.number + 1, self.max_attempts, retry_in)


def retrying_text(next_attempt: int, max_attempts: int, retry_in: float | None = None) -> str:
    wait = "" if retry_in is None else f" in {retry_in:g} s"
    return f"retrying (attempt {next_attempt} of {max_attempts}){wait}"
