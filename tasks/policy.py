"""Retry rules shared by every task: only errors a retry can fix are retried."""

from __future__ import annotations

from typing import Any

from ytmaker.errors import YTMakerError

RETRIES = 3
RETRY_DELAYS = [2, 5, 10]


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, YTMakerError):
        return exc.retryable
    return isinstance(exc, (TimeoutError, ConnectionError))


def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn (a plain function, as Prefect requires)."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - we only classify it
        return is_retryable(exc)
    return False


RETRY_OPTIONS: dict[str, Any] = {
    "retries": RETRIES,
    "retry_delay_seconds": RETRY_DELAYS,
    "retry_condition_fn": retry_condition,
}
