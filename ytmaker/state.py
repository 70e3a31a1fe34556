"""`data/projects/{id}/project_state.json`: what finished, merged and written atomically."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ytmaker.files import atomic_write_text
from ytmaker.progress import utc_timestamp

log = logging.getLogger(__name__)
STATE_FILE = "project_state.json"
_lock = threading.Lock()


def state_path(project_dir: Path) -> Path:
    return Path(project_dir) / STATE_FILE


Rebuild = Callable[[], dict[str, Any]]


def read_state(project_dir: Path, rebuild: Rebuild | None = None) -> dict[str, Any]:
    """The stored state; {} when missing; when unreadable, rebuilt (from the database) or {}."""
    with _lock:
        return _load(state_path(project_dir), rebuild)


def update_state(
    project_dir: Path, changes: dict[str, Any], rebuild: Rebuild | None = None
) -> dict[str, Any]:
    """Deep-merge `changes` into the state file and write it atomically."""
    with _lock:
        state = _merge(_load(state_path(project_dir), rebuild), changes)
        state["updated_at"] = utc_timestamp()
        _write(state_path(project_dir), state)
        return state


def _load(path: Path, rebuild: Rebuild | None) -> dict[str, Any]:
    """A corrupt file (garbage, truncated, not an object) warns once: it is then replaced."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        problem = str(exc)
    else:
        if isinstance(state, dict):
            return state
        problem = f"a JSON {type(state).__name__}, not an object"
    if rebuild is None:
        log.warning("Ignoring unreadable state file %s (%s)", path, problem)
        return {}
    log.warning("State file %s was unreadable (%s); rebuilt it from the database", path, problem)
    state = rebuild()
    with contextlib.suppress(OSError):  # a reader still gets it; a writer's own write fails
        _write(path, state)
    return state


def _write(path: Path, state: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(state, ensure_ascii=False, indent=2))


class Replace(dict):
    """A value of `changes` that takes the place of what is stored instead of merging into it
    (a stage's entry on a new attempt drops the last one's error)."""


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if (
            isinstance(value, dict)
            and not isinstance(value, Replace)
            and isinstance(merged.get(key), dict)
        ):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def recover_interrupted_tasks(data_dir: Path) -> list[dict[str, Any]]:
    """States of projects that did not reach `completed`, oldest id first."""
    root = Path(data_dir) / "projects"
    if not root.is_dir():
        return []
    found = []
    for project_dir in sorted(root.iterdir(), key=_id_order):
        state = read_state(project_dir)
        if state and state.get("status") != "completed":
            found.append(state)
    return found


def _id_order(path: Path) -> tuple[int, str]:
    return (int(path.name), "") if path.name.isdigit() else (1 << 62, path.name)
