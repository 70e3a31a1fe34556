"""Renders bounded per machine, whatever the number of workers and flow runs on it.

A render keeps every core busy (x264); two at once on one machine only take twice as long
each. Each render holds one of `YTMAKER_RENDERS_PER_MACHINE` (default 1) slot files under
`YTMAKER_MACHINE_DIR` (default /tmp/ytmaker-machine: the machine's own disk, not the shared data
dir) with an exclusive `flock`, which the kernel releases when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

POLL_SECONDS = 0.5


def _slots() -> int:
    return max(1, int(os.environ.get("YTMAKER_RENDERS_PER_MACHINE", "1")))


def machine_dir() -> Path:
    return Path(os.environ.get("YTMAKER_MACHINE_DIR", "/tmp/ytmaker-machine"))


@contextlib.contextmanager
def render_slot() -> Iterator[int]:
    """Hold one of this machine's render slots (waits while all are held); yields its number."""
    folder = machine_dir()
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(_slots()):
            handle = (folder / f"render-{slot}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield slot
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        time.sleep(POLL_SECONDS)
