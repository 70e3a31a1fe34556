"""Stop this process's heartbeats for a flow run that is about to suspend itself.

A suspended run's process ends on purpose, but Prefect (3.9) keeps its heartbeat thread going
until the engine has finished, about a second after the Suspended state; it stops only for a
final state. A heartbeat sent in that second (seen: 23 ms after the Suspended event) re-arms the
zombie automation (deployments/zombie.yaml), which 90 s later marked a run waiting for its review
Crashed: its Resume form was gone (PrefectHQ/prefect#18653 is the same race at completion).
Prefect keeps the thread's stop event in a closure, so it is found there; when a later Prefect
lays it out otherwise, nothing is stopped and a warning says so.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)
LOOP = "heartbeat_loop"  # prefect.flow_engine._send_heartbeats' inner function


def stop(flow_run_id: UUID) -> int:
    """Ask the heartbeat thread of `flow_run_id` in this process to stop (it ends within a
    second and sends nothing more); the number of threads told."""
    events = [cells["stop_event"] for cells in _beating(flow_run_id)]
    for event in events:
        event.set()
    if not events and _configured():
        log.warning("No heartbeat thread of flow run %s found to stop", flow_run_id)
    return len(events)


def running(flow_run_id: UUID) -> bool:
    """Whether a heartbeat thread of `flow_run_id` still runs in this process."""
    return bool(_beating(flow_run_id))


def _configured() -> bool:
    from prefect.settings import get_current_settings

    return get_current_settings().flows.heartbeat_frequency is not None


def _beating(flow_run_id: UUID) -> list[dict[str, Any]]:
    """The closures (engine, stop_event, ...) of the live heartbeat loops of `flow_run_id`."""
    found = []
    for thread in threading.enumerate():
        args = getattr(thread, "_args", None) or ()
        if not (thread.is_alive() and args and getattr(args[0], "__name__", "") == LOOP):
            continue
        cells = _closure(args[0])
        run = getattr(cells.get("engine"), "flow_run", None)
        if (
            isinstance(cells.get("stop_event"), threading.Event)
            and getattr(run, "id", None) == flow_run_id
        ):
            found.append(cells)
    return found


def _closure(function: Any) -> dict[str, Any]:
    names = function.__code__.co_freevars
    cells = function.__closure__ or ()
    return {name: cell.cell_contents for name, cell in zip(names, cells, strict=True)}
