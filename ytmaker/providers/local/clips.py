"""Offline moving footage (`YTMAKER_IMAGE_PROVIDER=local-clips`, `ytmaker demo --visuals
clips`): each segment's offline picture filmed by a drifting camera.

The camera's path is periodic (the clip's end meets its start), so a segment longer than the
clip loops it without a jump. The picture itself is written too (at the image path): the
thumbnail and the review page use it; the clip goes beside it (`clip_path`)."""

from __future__ import annotations

import logging
from pathlib import Path

from ytmaker.files import atomic_output, clip_path
from ytmaker.media.runner import run_args
from ytmaker.providers.base import Gate, paid_call
from ytmaker.providers.local.images import HEIGHT, WIDTH, PillowImages

log = logging.getLogger(__name__)

CLIP_SECONDS = 4.0
FPS = 30
OVERSCAN = 0.12  # the picture is drawn this much larger; the camera drifts over the excess


def drift_filter(width: int, height: int, seconds: float) -> str:
    """Scale up by OVERSCAN, then a crop window on a closed Lissajous path (x once, y twice a
    period): every frame differs, the last meets the first."""
    big_w, big_h = _even(width * (1 + OVERSCAN)), _even(height * (1 + OVERSCAN))
    dx, dy = big_w - width, big_h - height
    frames = round(seconds * FPS)
    phase = f"2*PI*n/{frames}"
    return (  # decoded and scaled once, then repeated (as the render does a still)
        f"scale={big_w}:{big_h},loop=loop={frames - 1}:size=1:start=0,"
        f"crop={width}:{height}:"
        f"x='{dx / 2:g}*(1-cos({phase}))':y='{dy / 2:g}*(1-cos(2*{phase}))',"
        "setsar=1,format=yuv420p"
    )


class LocalClips:
    """Implements ImageMaker offline, with a clip: same (description, seed), same files."""

    name = "local-clips"
    metered_service = None

    def __init__(
        self,
        gate: Gate = paid_call,
        size: tuple[int, int] = (WIDTH, HEIGHT),
        preset: str = "veryfast",
    ) -> None:
        self.size = size
        self.preset = preset  # YTMAKER_X264_PRESET: the render encodes the clip again
        self.pictures = PillowImages(gate=gate, size=size)

    def make(self, description: str, seed: int, out_path: Path) -> Path:
        out_path = Path(out_path)
        with atomic_output(out_path) as picture:  # renamed last: it marks the pair as made
            self.pictures.make(description, seed, picture)
            with atomic_output(clip_path(out_path)) as tmp:
                self._film(picture, tmp)
        log.debug("Clip %s", clip_path(out_path).name)
        return out_path

    def _film(self, picture: Path, out: Path) -> None:
        width, height = self.size
        run_args(
            ["-y", "-framerate", str(FPS), "-i", str(picture),
             "-vf", drift_filter(width, height, CLIP_SECONDS),
             "-frames:v", str(round(CLIP_SECONDS * FPS)), "-r", str(FPS),
             "-c:v", "libx264", "-preset", self.preset, "-crf", "20", "-an",
             "-f", "mp4", str(out)],
            "local clip",
            media_seconds=CLIP_SECONDS,
        )  # fmt: skip


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)
