"""Render progress: work done (frames encoded, audio steps) as a monotonic fraction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

AUDIO_WEIGHT = 0.04  # the sound track costs about this share of encoding every frame
MUX_WEIGHT = 0.01


class RenderProgress:
    """Work done (frames encoded, audio steps) as a monotonic 0..1 fraction. Any thread may
    record work; only the rendering thread calls back (`emit=True` or `pump()`), so the
    caller's callback never runs on our audio thread. Never jumps more than 10% a call."""

    def __init__(self, callback: Callable[[float], None] | None, total: float) -> None:
        self.callback = callback
        self.total = max(total, 1e-9)
        self.done = 0.0
        self.partial: dict[str, float] = {}
        self.last = 0.0
        self.lock = threading.Lock()

    def set_partial(self, name: str, units: float, emit: bool = True) -> None:
        with self.lock:
            self.partial[name] = units
            if emit:
                self._emit()

    def finish(self, name: str, units: float, emit: bool = True) -> None:
        with self.lock:
            self.partial.pop(name, None)
            self.done += units
            if emit:
                self._emit()

    def pump(self) -> None:
        with self.lock:
            self._emit()

    def _emit(self) -> None:
        fraction = min((self.done + sum(self.partial.values())) / self.total, 0.999)
        self._report(fraction)

    def complete(self) -> None:
        with self.lock:
            self._report(1.0)

    def _report(self, fraction: float) -> None:
        if self.callback is None or fraction <= self.last:
            return
        while fraction - self.last > 0.1:
            self.last += 0.1
            self.callback(self.last)
        self.last = fraction
        self.callback(fraction)
