"""Offline segment pictures: the scene the segment's words name, drawn with Pillow, no text."""

from __future__ import annotations

import logging
from pathlib import Path

from ytmaker.files import atomic_output
from ytmaker.providers.base import Gate, paid_call
from ytmaker.providers.local.pictures import paint

WIDTH, HEIGHT = 1920, 1080  # landscape; a Short's pictures are drawn 1080x1920 (not cropped)
__all__ = ["HEIGHT", "WIDTH", "PillowImages"]
log = logging.getLogger(__name__)


class PillowImages:
    """Implements ImageMaker offline: same (description, seed) always gives the same PNG.

    The picture shows the motif the description names (a night market, tea garden, temple…,
    see pictures/motifs.py) and carries no text: the burned subtitles say the words.
    `caption` is accepted for callers written before that and changes nothing.
    """

    name = "pillow"
    metered_service = None

    def __init__(
        self,
        caption: bool = False,
        gate: Gate = paid_call,
        size: tuple[int, int] = (WIDTH, HEIGHT),
    ) -> None:
        self.gate, self.size = gate, size

    def make(self, description: str, seed: int, out_path: Path) -> Path:
        with self.gate():
            image, motif = paint(description, seed, self.size)
        log.debug("Picture %s: %s", Path(out_path).name, motif.name)
        out_path = Path(out_path)
        with atomic_output(out_path) as tmp:
            image.save(tmp, format="PNG", compress_level=2)
        return out_path
