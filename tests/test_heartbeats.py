"""A run that suspends itself for a review stops its heartbeats first (flows/heartbeats.py): one
sent after the Suspended state got the zombie automation to crash the waiting run 90 s later
(tests/test_review_deployments.py saw it once in a full run: a heartbeat 23 ms after Suspended).
"""

from __future__ import annotations

import time
from uuid import UUID

import pytest
from prefect import flow
from prefect.context import FlowRunContext
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from flows import heartbeats

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _this_run() -> UUID:
    context = FlowRunContext.get()
    assert context is not None and context.flow_run is not None
    return context.flow_run.id


def _ended(run_id: UUID, timeout: float = 5.0) -> bool:
    """Whether the run's heartbeat thread ended (it looks at its stop event once a second)."""
    deadline = time.monotonic() + timeout
    while heartbeats.running(run_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@flow
def _suspending() -> tuple[bool, int, bool]:
    run_id = _this_run()
    before = heartbeats.running(run_id)
    return before, heartbeats.stop(run_id), _ended(run_id)


@flow
def _parent() -> tuple[tuple[bool, int, bool], bool]:
    run_id = _this_run()
    child = _suspending()
    return child, heartbeats.running(run_id)


def test_the_suspending_runs_heartbeat_thread_ends_and_the_others_go_on() -> None:
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 30}):
        child, parent_still_beats = _parent()
    assert child == (True, 1, True)  # it was beating, was told, and ended
    assert parent_still_beats  # another run's heartbeats in the same process are left alone


def test_without_heartbeats_there_is_nothing_to_stop() -> None:
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        assert _suspending() == (False, 0, True)
