"""Things several motifs draw: people, trees, lanterns, buildings, lights, steam."""

from __future__ import annotations

import math

from ytmaker.providers.local.pictures.canvas import Canvas, Color, Frame, Point, mix

SKIN = ((238, 196, 160), (214, 160, 120), (182, 128, 92), (246, 210, 178))
HAIR = ((34, 26, 22), (60, 40, 28), (20, 20, 24), (90, 60, 40))
CLOTHES = (
    (196, 64, 70),
    (58, 108, 180),
    (240, 188, 70),
    (70, 150, 110),
    (150, 90, 170),
    (236, 236, 230),
)
WARM = (255, 214, 140)  # lamp light
WHITE = (255, 255, 255)


def person(c: Canvas, x: float, feet: float, height: float, color: Color, **wear: bool) -> None:
    """A standing figure one colour, `height` tall; `hat`, `umbrella`, `bag` add those."""
    f = Frame(c, x, feet, height)
    f.circle(0, -0.89, 0.11, color)
    f.rect((-0.13, -0.76, 0.13, -0.36), color, 0.08)
    for x0, x1 in ((-0.11, -0.013), (0.013, 0.11)):  # legs
        f.rect((x0, -0.42, x1, 0), color, 0.03)
    if wear.get("bag"):
        f.rect((-0.21, -0.72, -0.09, -0.44), color, 0.03)
    if wear.get("hat"):  # a conical farmer's hat
        f.poly([(0, -1.14), (-0.23, -0.98), (0.23, -0.98)], mix(color, (214, 184, 112), 0.75))
    if wear.get("umbrella"):
        umbrella(c, Frame(c, *f.p(0.13, -1.2), height * 0.45))


def umbrella(c: Canvas, f: Frame) -> None:
    """An open umbrella, one unit the canopy's radius, its handle going down from (0, 0)."""
    canopy = c.lit(c.pick([(200, 60, 70), (60, 110, 190), (240, 190, 60), (70, 150, 110)]))
    f.line([(0, 0), (0, 1.33)], (40, 40, 44), 0.04)
    f.chord((-1, -0.5, 1, 0.5), 180, 360, canopy)
    for k in (-0.5, 0, 0.5):  # the ribs
        f.line([(0, -0.5), (k, 0)], mix(canopy, (0, 0, 0), 0.3), 2 / f.s)


def crowd(c: Canvas, feet: float, height: float, color: Color, density: float = 1.0) -> None:
    """A row of people seen from behind, standing on `feet`, of slightly different sizes."""
    count = int(c.w / (height * 0.42) * density)
    for x in sorted(c.uniform(0, c.w) for _ in range(count)):
        shade = mix(color, (0, 0, 0), c.uniform(0, 0.3))
        person(c, x, feet + c.uniform(0, height * 0.08), height * c.uniform(0.82, 1.1), shade)


def sitter(c: Canvas, x: float, y: float, size: float) -> None:
    """Someone seen from the front behind a table: head (radius `size`) with hair, eyes and a
    smile, shoulders below."""
    f = Frame(c, x, y, size)
    f.rect((-0.9, 0.9, 0.9, 3.0), c.lit(c.pick(CLOTHES)), 0.6)
    f.circle(0, 0, 1, c.lit(c.pick(SKIN)))
    f.chord((-1.05, -1.1, 1.05, 0.7), 180, 360, c.pick(HAIR))
    for dx in (-0.35, 0.35):
        f.circle(dx, 0.15, 0.09, (40, 30, 30))
    f.arc((-0.3, 0.1, 0.3, 0.55), 20, 160, (150, 70, 60), 2 / f.s)


def lantern(c: Canvas, x: float, y: float, r: float, color: Color = (214, 40, 40)) -> None:
    """A round Chinese lantern of radius `r` hanging at (x, y), glowing after dark."""
    if c.light.dark:
        c.glow(x, y, r * 3.2, mix(color, (255, 210, 120), 0.5), 0.6)
    f, body = Frame(c, x, y, r), c.lit(color, glow=0.8)
    f.ellipse(0, 0, 1.05, 0.9, body)
    for k in (-0.5, 0.0, 0.5):  # the ribs
        f.ellipse(k * 0.9, 0, 0.55 - abs(k) * 0.5, 0.88, mix(body, (90, 10, 10), 0.25), 120)
    for y0 in (-1.02, 0.78):  # the caps
        f.rect((-0.45, y0, 0.45, y0 + 0.24), (40, 30, 25))
    f.line([(0, 1.0), (0, 1.6)], (230, 180, 60), max(2 / r, 0.12))


def rope(c: Canvas, x0: float, x1: float, y: float, sag: float, steps: int = 48) -> list[Point]:
    """Points along a rope (or wire) hung from (x0, y) to (x1, y), sagging `sag` in the middle."""
    return [
        (x0 + (x1 - x0) * t, y + sag * (1 - (2 * t - 1) ** 2))
        for t in (i / steps for i in range(steps + 1))
    ]


def lantern_string(c: Canvas, y: float, sag: float, r: float) -> None:
    """Lanterns hanging from a rope across the picture."""
    c.line(rope(c, 0, c.w, y, sag), (30, 24, 20), 3)
    count = max(3, int(c.w / (r * 4.5)))
    for x, top in rope(c, 0, c.w, y, sag, 2 * count)[1::2]:
        lantern(c, x, top + r * 1.4, r, c.pick([(214, 40, 40), (214, 40, 40), (236, 150, 40)]))


def bulbs(c: Canvas, y: float, sag: float, spacing: float = 60) -> None:
    """A string of small warm light bulbs across the picture."""
    c.line(rope(c, 0, c.w, y, sag), (30, 26, 22), 2)
    for x, wire in rope(c, 0, c.w, y, sag, 2 * max(1, int(c.w / spacing)))[1::2]:
        if c.light.dark:
            c.glow(x, wire + 8, 26 * c.u, WARM, 0.7)
        c.circle(x, wire + 8, 6 * c.u, c.lit(WARM, glow=1.0))


def pine(c: Canvas, x: float, base: float, height: float, color: Color) -> None:
    """A conifer `height` tall: three stacked triangles on a short trunk."""
    f = Frame(c, x, base, height)
    f.rect((-0.025, -0.2, 0.025, 0), mix(color, (40, 25, 15), 0.5))
    for tier in range(3):
        top, bottom, half = -1 + tier * 0.22, -0.5 + tier * 0.17, 0.18 + tier * 0.09
        f.poly([(0, top), (-half, bottom), (half, bottom)], color)


def round_tree(c: Canvas, x: float, base: float, height: float, color: Color) -> None:
    """A broadleaf tree `height` tall: a trunk and a crown of overlapping circles."""
    f = Frame(c, x, base, height)
    f.rect((-0.05, -0.5, 0.05, 0), c.lit((100, 72, 50)))
    for dx, dy, k in ((-0.45, -0.55, 0.8), (0.45, -0.6, 0.85), (0, -0.85, 1.0), (0, -0.5, 0.9)):
        f.circle(dx * 0.3, -0.5 + dy * 0.3, 0.3 * k, mix(color, WHITE, 0.05 - 0.06 * dy))


def windows(
    c: Canvas,
    box: tuple[float, float, float, float],
    size: tuple[float, float],
    lit_share: float,
    glass: Color | None = None,
) -> None:
    """A grid of windows on a facade: warm and lit after dark, reflecting the sky by day."""
    x0, y0, x1, y1 = box
    w, h = size
    lamp, sky = c.lit(WARM, glow=1.0), glass or mix(c.light.horizon, c.light.sky_top, 0.4)
    dark = mix(c.lit((60, 70, 90)), (0, 0, 0), 0.3)
    y = y0 + h * 0.6
    while y + h < y1:
        x = x0 + w * 0.5
        while x + w < x1:
            on = c.chance(lit_share)
            color = (lamp if c.light.dark else sky) if on else dark
            c.rect((x, y, x + w, y + h), color, 2)
            x += w * 1.8
        y += h * 1.7


def bokeh(c: Canvas, count: int, box: tuple[float, float, float, float]) -> None:
    """Out-of-focus lights behind a close-up subject."""
    x0, y0, x1, y1 = box
    colors = [WARM, (255, 160, 120), (255, 120, 150), (170, 210, 255), (255, 240, 200)]
    for _ in range(count):
        r = c.uniform(14, 60) * c.u
        x, y = c.uniform(x0, x1), c.uniform(y0 + r, max(y0 + r, y1 - r))  # inside the box
        c.circle(x, y, r, c.pick(colors), c.uniform(30, 90))


def steam(c: Canvas, x: float, y: float, height: float, width: float) -> None:
    """Wisps rising from a hot dish: soft white S-curves that thin out as they rise."""
    for k in range(3):
        sx, phase = x + (k - 1) * width * 0.32, c.uniform(0, math.tau)
        points = [
            (sx + width * 0.1 * math.sin(phase + t * math.tau * 1.3), y - height * t)
            for t in (i / 24 for i in range(25))
        ]
        c.line(points[:14], (255, 255, 255), max(3, width * 0.07), 80)
        c.line(points[13:], (255, 255, 255), max(2, width * 0.05), 45)


def table(c: Canvas, color: Color = (150, 100, 64)) -> None:
    """A table top along the ground line; the calm band below is its front, one gradient."""
    wood = c.lit(color)
    c.rect((0, c.ground - 14 * c.u, c.w, c.ground + 2), mix(wood, (255, 255, 255), 0.12))
    c.ground_band(mix(color, (0, 0, 0), 0.2))


def wall(c: Canvas, color: Color) -> None:
    """An indoor background: a lit wall, lighter near the top."""
    lit = c.lit(color)
    c.gradient((0, 0, c.w, c.ground), mix(lit, (255, 255, 255), 0.15), mix(lit, (0, 0, 0), 0.2))
