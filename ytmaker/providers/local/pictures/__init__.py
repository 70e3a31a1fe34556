"""Offline pictures drawn from a segment's words: a motif table and the painters it names.

`paint(description, seed, size)` draws the motif the description names (see motifs.py) at the
given size. The picture depends on the motif, the seed and the size only, never on the rest of
the text: no narration is drawn into it (the burned subtitles carry the words), and two segments
about the same thing still differ because their seeds do.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from ytmaker.providers.local.pictures.canvas import LIGHTS, Canvas, varied
from ytmaker.providers.local.pictures.motifs import MOTIFS, Motif, choose

__all__ = ["MOTIFS", "Motif", "choose", "paint"]


def _rng(motif: Motif, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{motif.name}\x00{seed}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def paint(description: str, seed: int, size: tuple[int, int]) -> tuple[Image.Image, Motif]:
    """The picture for a segment at `size` (width, height), and the motif it shows."""
    motif = choose(description, seed)
    rng = _rng(motif, seed)
    light = varied(LIGHTS[str(rng.choice(motif.lights))], rng)
    canvas = Canvas(size, rng, light)
    motif.draw(canvas)
    return canvas.finish(mirror=motif.mirror and bool(rng.random() < 0.5)), motif
