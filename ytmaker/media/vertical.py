"""How a vertical frame (a Short, 1080x1920) is laid out: YouTube draws its own buttons down
the right side and the title, channel and sound over the bottom of a Short, and its search bar
over the top, so captions and the picture-in-picture presenter keep to the safe area between.

The numbers follow the usual Shorts safe-zone guidance for a 1080x1920 frame (the bottom
~25 % and the right ~120 px are covered by the player; not measured here): captions sit above
30 % from the bottom, centred between 150 px margins, and are drawn larger than on a
landscape video (Shorts are watched on phones).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ffmpeg

from ytmaker.media.subtitles import AssStyle
from ytmaker.media.visual import SubtitleStyle

SAFE_TOP = 0.12  # share of the height the player covers at the top
SAFE_BOTTOM = 0.30  # captions stay above this share of the height from the bottom
SAFE_SIDE = 150  # px at 1080 wide, both sides (centred text; the buttons are on the right)
TEXT_SCALE = 1.5  # captions this much larger than the landscape size, relative to the width
PIP_SCALE = 16 / 9  # a PiP box this much wider (as a share of the frame) than on landscape
BACKDROP_BLUR = 24


def is_vertical(width: int, height: int) -> bool:
    return height > width


def caption_style(style: AssStyle, sub: SubtitleStyle, width: int, height: int) -> AssStyle:
    """Large captions centred between equal side margins, inside the Shorts safe area (sizes
    as configured for a 1080-wide frame; a configured margin larger than the safe one stays)."""
    scale = width / 1080 * TEXT_SCALE
    safe = SAFE_BOTTOM if sub.position == "bottom" else SAFE_TOP
    side = round(SAFE_SIDE * width / 1080)
    return replace(
        style,
        font_size=round(sub.size * scale),
        outline=sub.outline * scale,
        shadow=sub.shadow * scale,
        margin_l=side,
        margin_r=side,
        margin_v=max(round(height * safe), round(sub.margin * width / 1080)),
    )


def pip_box(
    width: int, height: int, size: float, corner: str, margin: int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Box (w, h) of a 16:9 presenter and where it goes: on the corner's side, at the top of
    the safe area (the bottom belongs to the captions and YouTube's own overlay)."""
    box_w = _even(width * min(0.9, size * PIP_SCALE))
    box_h = _even(box_w * 9 / 16)
    x = margin if corner.endswith("left") else width - box_w - margin
    return (box_w, box_h), (max(x, 0), round(height * SAFE_TOP))


def backdrop_fit(stream: Any, width: int, height: int) -> Any:
    """A landscape clip fitted to the frame's width, over a blurred copy of itself that
    covers the frame (no black bars, nothing of the clip cut away)."""
    parts = stream.split()
    front, back = parts[0], parts[1]
    cover = (
        back.filter("scale", width, height, force_original_aspect_ratio="increase")
        .filter("crop", width, height)
        .filter("boxblur", BACKDROP_BLUR)
        .filter("eq", brightness=-0.15)
    )
    fitted = front.filter(
        "scale", width, height, force_original_aspect_ratio="decrease", force_divisible_by=2
    )
    return (
        ffmpeg.overlay(cover, fitted, x="(W-w)/2", y="(H-h)/2")
        .filter("scale", out_color_matrix="bt709", out_range="tv")
        .filter("setsar", 1)
        .filter("format", "yuv420p")
    )


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)
