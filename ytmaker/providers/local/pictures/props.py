"""Things several motifs draw: people, trees, lanterns, buildings, lights, steam."""

from __future__ import annotations

import math

from ytmaker.providers.local.pictures.canvas import Canvas, Color, mix

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
    """A standing figure (head, body, legs) in one colour; `hat`, `umbrella`, `bag` add those."""
    head, half = height * 0.11, height * 0.13
    c.circle(x, feet - height + head, head, color)
    c.rect((x - half, feet - height * 0.76, x + half, feet - height * 0.36), color, height * 0.08)
    c.rect((x - half * 0.85, feet - height * 0.42, x - half * 0.1, feet), color, height * 0.03)
    c.rect((x + half * 0.1, feet - height * 0.42, x + half * 0.85, feet), color, height * 0.03)
    if wear.get("bag"):
        c.rect(
            (x - half * 1.6, feet - height * 0.72, x - half * 0.7, feet - height * 0.44), color, 6
        )
    if wear.get("hat"):  # a conical farmer's hat
        top, brim = feet - height * 1.05, head * 2.1
        straw = mix(color, (214, 184, 112), 0.75)
        c.poly(
            [(x, top - head * 0.8), (x - brim, top + head * 0.6), (x + brim, top + head * 0.6)],
            straw,
        )
    if wear.get("umbrella"):
        umbrella(c, x + half, feet - height * 1.2, height * 0.45, feet - height * 0.6)


def umbrella(c: Canvas, x: float, top: float, radius: float, handle: float) -> None:
    canopy = c.lit(c.pick([(200, 60, 70), (60, 110, 190), (240, 190, 60), (70, 150, 110)]))
    c.line([(x, top), (x, handle)], (40, 40, 44), max(2, radius * 0.04))
    c.chord((x - radius, top - radius * 0.5, x + radius, top + radius * 0.5), 180, 360, canopy)
    for k in (-0.5, 0, 0.5):
        c.line([(x, top - radius * 0.5), (x + k * radius, top)], mix(canopy, (0, 0, 0), 0.3), 2)


def crowd(c: Canvas, feet: float, height: float, color: Color, density: float = 1.0) -> None:
    """A row of people seen from behind, standing on `feet`, of slightly different sizes."""
    count = int(c.w / (height * 0.42) * density)
    for x in sorted(c.uniform(0, c.w) for _ in range(count)):
        shade = mix(color, (0, 0, 0), c.uniform(0, 0.3))
        person(c, x, feet + c.uniform(0, height * 0.08), height * c.uniform(0.82, 1.1), shade)


def sitter(c: Canvas, x: float, y: float, size: float) -> None:
    """Someone seen from the front above a table: head with hair and eyes, shoulders."""
    skin, hair, shirt = c.pick(SKIN), c.pick(HAIR), c.lit(c.pick(CLOTHES))
    c.rect((x - size * 0.9, y + size * 0.9, x + size * 0.9, y + size * 3.0), shirt, size * 0.6)
    c.circle(x, y, size, c.lit(skin))
    c.chord((x - size * 1.05, y - size * 1.1, x + size * 1.05, y + size * 0.7), 180, 360, hair)
    for dx in (-0.35, 0.35):
        c.circle(x + dx * size, y + size * 0.15, size * 0.09, (40, 30, 30))
    c.arc(
        (x - size * 0.3, y + size * 0.1, x + size * 0.3, y + size * 0.55), 20, 160, (150, 70, 60), 2
    )


def lantern(c: Canvas, x: float, y: float, r: float, color: Color = (214, 40, 40)) -> None:
    """A round Chinese lantern hanging at (x, y), glowing after dark."""
    if c.light.dark:
        c.glow(x, y, r * 3.2, mix(color, (255, 210, 120), 0.5), 0.6)
    body = c.lit(color, glow=0.8)
    c.ellipse(x, y, r * 1.05, r * 0.9, body)
    for k in (-0.5, 0.0, 0.5):  # the ribs
        rib = mix(body, (90, 10, 10), 0.25)
        c.ellipse(x + k * r * 0.9, y, r * (0.55 - abs(k) * 0.5), r * 0.88, rib, 120)
    cap = (40, 30, 25)
    c.rect((x - r * 0.45, y - r * 1.02, x + r * 0.45, y - r * 0.78), cap)
    c.rect((x - r * 0.45, y + r * 0.78, x + r * 0.45, y + r * 1.02), cap)
    c.line([(x, y + r * 1.0), (x, y + r * 1.6)], (230, 180, 60), max(2, r * 0.12))


def lantern_string(c: Canvas, y: float, sag: float, r: float) -> None:
    """Lanterns hanging from a rope across the picture."""
    rope = [(x, y + sag * (1 - ((x / c.w) * 2 - 1) ** 2)) for x in range(0, c.w + 20, 20)]
    c.line(rope, (30, 24, 20), 3)
    count = max(3, int(c.w / (r * 4.5)))
    for i in range(count):
        x = c.w * (i + 0.5) / count
        top = y + sag * (1 - ((x / c.w) * 2 - 1) ** 2)
        lantern(c, x, top + r * 1.4, r, c.pick([(214, 40, 40), (214, 40, 40), (236, 150, 40)]))


def bulbs(c: Canvas, y: float, sag: float, spacing: float = 60) -> None:
    """A string of small warm light bulbs."""
    points = [(x, y + sag * (1 - ((x / c.w) * 2 - 1) ** 2)) for x in range(0, c.w + 20, 20)]
    c.line(points, (30, 26, 22), 2)
    for i in range(int(c.w / spacing) + 1):
        x = i * spacing + spacing / 2
        by = y + sag * (1 - ((x / c.w) * 2 - 1) ** 2) + 8
        if c.light.dark:
            c.glow(x, by, 26 * c.u, WARM, 0.7)
        c.circle(x, by, 6 * c.u, c.lit(WARM, glow=1.0))


def pine(c: Canvas, x: float, base: float, height: float, color: Color) -> None:
    """A conifer: three stacked triangles on a short trunk."""
    w = height * 0.36
    c.rect((x - w * 0.07, base - height * 0.2, x + w * 0.07, base), mix(color, (40, 25, 15), 0.5))
    for tier in range(3):
        top = base - height * (1 - tier * 0.22)
        bottom = base - height * (0.5 - tier * 0.17)
        half = w * (0.5 + tier * 0.25)
        c.poly([(x, top), (x - half, bottom), (x + half, bottom)], color)


def round_tree(c: Canvas, x: float, base: float, height: float, color: Color) -> None:
    """A broadleaf tree: a trunk and a crown of overlapping circles."""
    c.rect((x - height * 0.05, base - height * 0.5, x + height * 0.05, base), c.lit((100, 72, 50)))
    r = height * 0.3
    for dx, dy, k in ((-0.45, -0.55, 0.8), (0.45, -0.6, 0.85), (0, -0.85, 1.0), (0, -0.5, 0.9)):
        leaf = mix(color, (255, 255, 255), 0.05 - 0.06 * dy)
        c.circle(x + dx * r, base - height * 0.5 + dy * r, r * k, leaf)


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
