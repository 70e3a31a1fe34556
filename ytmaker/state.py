"""`data/projects/{id}/project_state.json`: what finished, merged and written atomically."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from ytmaker.files import atomic_write_text
from ytmaker.progress import utc_timestamp

log = logging.getLogger(__name__)
STATE_FILE = "project_state.json"
_lock = threading.Lock()


def state_path(project_dir: Path) -> Path:
    return Path(project_dir) / STATE_FILE


def read_state(project_dir: Path) -> dict[str, Any]:
    """The stored state, or {} when missing or unreadable (it is rebuilt from the database)."""
    path = state_path(project_dir)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("Ignoring unreadable state file %s (%s)", path, exc)
        return {}


def update_state(project_dir: Path, changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `changes` into the state file and write it atomically."""
    with _lock:
        state = _merge(read_state(project_dir), changes)
        state["updated_at"] = utc_timestamp()
        atomic_write_text(state_path(project_dir), json.dumps(state, ensure_ascii=False, indent=2))
        return state


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
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
