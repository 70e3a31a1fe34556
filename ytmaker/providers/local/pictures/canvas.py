"""The shared brush of the offline pictures: sky, ground, light, and shapes with smooth edges.

Every motif draws through one Canvas, so the sky, the ground band under the subtitles, the time
of day and the finishing (a darker subtitle band, a vignette) are one piece of code. Shapes are
drawn at SS times the size and reduced at the end: Pillow does not anti-alias polygons itself.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TypeVar

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

SS = 2  # supersampling factor
CALM = 0.72  # below this share of the height only a smooth gradient: the subtitles go there
CALM_TALL = 0.62  # a portrait picture's captions sit higher (above the Shorts player's overlay)
SHORTS_TOP = 0.12  # a portrait picture's top band is covered by the Shorts player's title bar
STAGE = 777  # the landscape stage height (0 .. CALM * 1080): the unit motifs are drawn in

RGB = tuple[float, float, float]
Color = Sequence[float]  # RGB, 0..255, floats allowed
Point = tuple[float, float]
Box = tuple[float, float, float, float]
T = TypeVar("T")


@dataclass(frozen=True)
class Light:
    """A time of day: the sky's colours and how lit the things under it are."""

    name: str
    sky_top: RGB
    horizon: RGB
    sun: RGB  # the disc: the sun, or the moon at night
    ambient: float  # 1.0 in daylight, less at dusk and night (lamps are not dimmed)
    tint: RGB  # the colour cast lit surfaces take on

    @property
    def dark(self) -> bool:
        return self.name in ("night", "dusk")


LIGHTS = {
    "day": Light("day", (70, 134, 206), (184, 218, 240), (255, 250, 232), 1.0, (255, 255, 255)),
    "dawn": Light("dawn", (98, 112, 176), (250, 200, 156), (255, 236, 200), 0.86, (255, 222, 190)),
    "dusk": Light("dusk", (46, 52, 112), (238, 136, 96), (255, 206, 150), 0.66, (255, 176, 140)),
    "night": Light("night", (10, 14, 40), (38, 50, 100), (236, 238, 250), 0.42, (130, 150, 210)),
    "grey": Light("grey", (104, 112, 126), (170, 176, 186), (222, 224, 228), 0.74, (205, 210, 220)),
}


def mix(a: Color, b: Color, t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def _shift(color: RGB, hue: float, lightness: float) -> RGB:
    h, light, s = colorsys.rgb_to_hls(*(c / 255 for c in color))
    r, g, b = colorsys.hls_to_rgb((h + hue) % 1.0, min(max(light + lightness, 0.0), 1.0), s)
    return (r * 255, g * 255, b * 255)


def varied(light: Light, rng: np.random.Generator) -> Light:
    """The same time of day with its sky a little warmer or cooler, lighter or darker."""
    hue, lightness = rng.uniform(-0.03, 0.03), rng.uniform(-0.04, 0.04)
    return replace(
        light,
        sky_top=_shift(light.sky_top, hue, lightness),
        horizon=_shift(light.horizon, hue * 0.5, lightness),
    )


def _rgba(color: Color, alpha: float = 255) -> tuple[int, int, int, int]:
    return (int(color[0]), int(color[1]), int(color[2]), int(alpha))


@lru_cache(maxsize=1)
def _radial() -> Image.Image:
    """A round soft falloff (255 in the middle, 0 at the edge), resized for every glow."""
    yy, xx = np.mgrid[-1:1:128j, -1:1:128j]
    falloff = np.exp(-4.0 * (xx**2 + yy**2)) * np.clip(1 - np.sqrt(xx**2 + yy**2), 0, 1)
    return Image.fromarray((falloff / falloff.max() * 255).astype(np.uint8), "L")


class Canvas:
    """One picture being painted. Coordinates are output pixels, y grows downwards.

    `ground` is the top of the calm band; motifs stand on it. `top` is the highest line worth
    drawing a subject at (below the Shorts title bar on a portrait picture). `u` scales sizes
    with the stage between them: 1.0 on a 1920x1080 picture, 1.24 on a 1080x1920 one.
    """

    def __init__(self, size: tuple[int, int], rng: np.random.Generator, light: Light) -> None:
        self.w, self.h = size
        self.rng, self.light = rng, light
        self.tall = self.h > self.w
        self.ground = int(self.h * (CALM_TALL if self.tall else CALM))
        self.top = int(self.h * SHORTS_TOP) if self.tall else 0
        self.u = (self.ground - self.top) / STAGE
        self.image = Image.new("RGB", (self.w * SS, self.h * SS), _rgba(light.horizon)[:3])
        self._solid = ImageDraw.Draw(self.image)
        self._blend = ImageDraw.Draw(self.image, "RGBA")  # slower: only for translucent fills

    def stage(self, share: float) -> float:
        """A height on the stage: 0 its top (under a Short's title bar), 1 the ground line."""
        return self.top + (self.ground - self.top) * share

    # ---- chance -------------------------------------------------------------------------------

    def uniform(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self.rng.integers(0, len(options)))]

    def spread(self, count: int, margin: float = 0.0, jitter: float = 0.3) -> list[float]:
        """`count` x positions across the width, evenly spaced with some jitter."""
        step = (self.w - 2 * margin) / count
        return [margin + step * (i + 0.5 + self.uniform(-jitter, jitter)) for i in range(count)]

    # ---- colour -------------------------------------------------------------------------------

    def lit(self, color: Color, glow: float = 0.0) -> RGB:
        """A surface colour under this light (`glow` 1.0: it shines itself, not dimmed)."""
        k = self.light.ambient + (1 - self.light.ambient) * glow
        tinted = mix(color, [c * t / 255 for c, t in zip(color, self.light.tint, strict=True)], 0.5)
        r, g, b = mix(color, tinted, 1 - glow)
        return (min(255.0, r * k), min(255.0, g * k), min(255.0, b * k))

    def haze(self, color: Color, depth: float) -> RGB:
        """Atmospheric perspective: far things (depth 0) take the horizon's colour."""
        return mix(self.light.horizon, self.lit(color), 0.25 + 0.75 * depth)

    # ---- shapes -------------------------------------------------------------------------------

    def _pen(self, alpha: float) -> ImageDraw.ImageDraw:
        return self._solid if alpha >= 255 else self._blend

    def poly(self, points: Sequence[Point], color: Color, alpha: float = 255) -> None:
        self._pen(alpha).polygon([(x * SS, y * SS) for x, y in points], fill=_rgba(color, alpha))

    def rect(self, box: Box, color: Color, radius: float = 0, alpha: float = 255) -> None:
        x0, y0, x1, y1 = (v * SS for v in box)
        if x1 <= x0 or y1 <= y0:
            return
        if radius > 0:
            r = min(radius * SS, (x1 - x0) / 2, (y1 - y0) / 2)
            self._pen(alpha).rounded_rectangle((x0, y0, x1, y1), r, fill=_rgba(color, alpha))
        else:
            self._pen(alpha).rectangle((x0, y0, x1, y1), fill=_rgba(color, alpha))

    def ellipse(
        self, cx: float, cy: float, rx: float, ry: float, color: Color, alpha: float = 255
    ) -> None:
        box = ((cx - rx) * SS, (cy - ry) * SS, (cx + rx) * SS, (cy + ry) * SS)
        self._pen(alpha).ellipse(box, fill=_rgba(color, alpha))

    def circle(self, cx: float, cy: float, r: float, color: Color, alpha: float = 255) -> None:
        self.ellipse(cx, cy, r, r, color, alpha)

    def line(self, points: Sequence[Point], color: Color, width: float, alpha: float = 255) -> None:
        pts = [(x * SS, y * SS) for x, y in points]
        pen, fill = self._pen(alpha), _rgba(color, alpha)
        pen.line(pts, fill=fill, width=max(1, int(width * SS)), joint="curve")

    def arc(self, box: Box, start: float, end: float, color: Color, width: float) -> None:
        scaled, fill = tuple(v * SS for v in box), _rgba(color)[:3]
        self._solid.arc(scaled, start, end, fill=fill, width=max(1, int(width * SS)))

    def chord(self, box: Box, start: float, end: float, color: Color, alpha: float = 255) -> None:
        scaled = tuple(v * SS for v in box)
        self._pen(alpha).chord(scaled, start, end, fill=_rgba(color, alpha))

    def pieslice(self, box: Box, start: float, end: float, color: Color) -> None:
        scaled = tuple(v * SS for v in box)
        self._solid.pieslice(scaled, start, end, fill=_rgba(color)[:3])

    # ---- light and air ------------------------------------------------------------------------

    def _wash(self, mask: Image.Image, box: Box, color: Color, strength: float = 1.0) -> None:
        """Blend `color` over `box` through a small soft mask scaled up to it: lights, mist."""
        x0, y0, x1, y1 = (int(v * SS) for v in box)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        mask = mask.resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR)
        if strength < 1:
            mask = mask.point(lambda v: int(v * strength))
        self.image.paste(_rgba(color)[:3], (x0, y0, x1, y1), mask)

    def glow(
        self, cx: float, cy: float, radius: float, color: Color, strength: float = 0.8
    ) -> None:
        """A soft round light (a sun's halo, a lamp, a lantern) blended over what is there."""
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        self._wash(_radial(), box, color, strength)

    def mist(self, box: Box, color: Color, alpha: float = 160) -> None:
        """A soft horizontal band (a sea of clouds, fog in a valley)."""
        x0, y0, x1, y1 = box
        small = Image.new("L", (max(2, int((x1 - x0) / 16)), max(2, int((y1 - y0) / 16))))
        draw, (sw, sh) = ImageDraw.Draw(small), small.size
        for _ in range(int(6 + sw / 4)):
            cx, cy = self.uniform(0, sw), self.uniform(sh * 0.35, sh * 0.7)
            rx, ry = self.uniform(sw * 0.05, sw * 0.16), self.uniform(sh * 0.15, sh * 0.32)
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
        self._wash(small.filter(ImageFilter.GaussianBlur(1.2)), box, color, alpha / 255)

    def cloud(self, cx: float, cy: float, width: float, color: Color, alpha: float = 200) -> None:
        """A puffy cloud: a flat base and a few round tops."""
        sw, sh = max(4, int(width / 8)), max(4, int(width / 16))
        small = Image.new("L", (sw, sh))
        draw = ImageDraw.Draw(small)
        for _ in range(int(self.rng.integers(3, 6))):  # round tops, all inside the mask
            bx, r = self.uniform(0.3, 0.7) * sw, self.uniform(0.22, 0.36) * sh
            draw.ellipse((bx - r, sh * 0.55 - r, bx + r, sh * 0.55 + r), fill=255)
        draw.rounded_rectangle((sw * 0.1, sh * 0.5, sw * 0.9, sh * 0.8), sh * 0.15, fill=255)
        box = (cx - width / 2, cy - width / 4, cx + width / 2, cy + width / 4)
        self._wash(small.filter(ImageFilter.GaussianBlur(0.8)), box, color, alpha / 255)

    # ---- sky and ground -----------------------------------------------------------------------

    def gradient(self, box: Box, top: Color, bottom: Color) -> None:
        """A vertical gradient filling `box` (smoothstep, so no hard edge at either end)."""
        x0, y0, x1, y1 = (int(v * SS) for v in box)
        rows = range(y0, y1, SS)
        for k, y in enumerate(rows):
            t = k / max(len(rows) - 1, 1)
            t = t * t * (3 - 2 * t)
            self._solid.rectangle((x0, y, x1 - 1, y + SS - 1), fill=_rgba(mix(top, bottom, t))[:3])

    def sky(
        self,
        horizon: float | None = None,
        sun: Point | None = None,
        clouds: int = 4,
        stars: bool = True,
    ) -> None:
        """The background: gradient, sun (or moon) with its halo, stars at night, clouds.
        `sun` is where the disc is, as shares of the width and of the stage down to the horizon."""
        light, horizon = self.light, self.ground if horizon is None else horizon
        self.gradient((0, 0, self.w, horizon + 1), light.sky_top, light.horizon)
        self.rect((0, horizon, self.w, self.h), light.horizon)
        if light.name == "night" and stars:
            for _ in range(int(240 * self.w / 1920)):
                x, y = self.uniform(0, self.w), self.rng.random() ** 1.5 * horizon * 0.85
                self.circle(x, y, self.uniform(0.8, 2.2), (255, 255, 250), self.uniform(70, 230))
        if sun is not None and light.name != "grey":
            self._sun(sun[0] * self.w, self.top + sun[1] * (horizon - self.top))
        color = mix(light.horizon, (255, 255, 255), 0.2 if light.dark else 0.6)
        for _ in range(clouds):
            x, y = self.uniform(-0.05, 1.05) * self.w, self.top + self.uniform(0.05, 0.45) * horizon
            self.cloud(x, y, self.uniform(220, 420) * self.u, color, 150 if light.dark else 210)

    def _sun(self, x: float, y: float) -> None:
        """The sun with its halo; at night a crescent moon (the sky covers part of the disc)."""
        night = self.light.name == "night"
        halo = mix(self.light.horizon, (255, 246, 226), 0.7)
        self.glow(x, y, 330 * self.u, halo, 0.55 if night else 0.8)
        self.circle(x, y, 52 * self.u, self.light.sun)
        if night:
            shadow = mix(halo, self.light.sky_top, 0.7)
            self.circle(x + 20 * self.u, y - 12 * self.u, 46 * self.u, shadow)

    def ground_band(self, color: Color, glow: float = 0.0) -> None:
        """The calm band under the subtitles: one smooth gradient from the ground line down."""
        top = self.lit(color, glow)
        self.gradient((0, self.ground, self.w, self.h), top, mix(top, (0, 0, 0), 0.45))

    def ridge(
        self, base: float, amp: float, knots: int = 4, octaves: int = 4, ridged: bool = True
    ) -> list[Point]:
        """A hill or mountain line across the width: fractal noise around `base`."""
        n = self.w // 6 + 2
        x = np.linspace(0, 1, n)
        total = np.zeros(n)
        for octave in range(octaves):
            k = knots * 2**octave
            values = self.rng.uniform(-1, 1, k + 2)
            pos = x * k
            i = pos.astype(int)
            f = pos - i
            f = f * f * (3 - 2 * f)
            layer = values[i] * (1 - f) + values[i + 1] * f
            if ridged and octave == 0:
                layer = 1 - 2 * np.abs(layer)
            total += layer * 0.5**octave
        ys = base - amp * total / 1.6
        return list(zip(np.linspace(0, self.w, n).tolist(), ys.tolist(), strict=True))

    def fill_below(self, line: Sequence[Point], color: Color, bottom: float | None = None) -> None:
        bottom = self.ground + 2 if bottom is None else bottom
        self.poly([*line, (self.w, bottom), (0, bottom)], color)

    # ---- finishing ----------------------------------------------------------------------------

    def finish(self, mirror: bool = False) -> Image.Image:
        """Reduce to the output size; darken the subtitle band a little more and the corners."""
        image = self.image.reduce(SS)
        if mirror:
            image = ImageOps.mirror(image)
        return ImageChops.multiply(image, _shade(self.w, self.h, self.ground))


@lru_cache(maxsize=4)
def _shade(width: int, height: int, calm_top: int) -> Image.Image:
    """Multiplier: the calm band darkens towards the bottom (white subtitles stay readable),
    and the corners a little (vignette)."""
    sw, sh = max(2, width // 8), max(2, height // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    y = yy / (sh - 1) * height
    fade = np.clip((y - calm_top) / max(height - calm_top, 1), 0, 1)
    vx, vy = xx / (sw - 1) * 2 - 1, yy / (sh - 1) * 2 - 1
    k = (1 - 0.25 * fade**1.5) * (1 - 0.22 * np.clip(vx**2 * 0.6 + vy**2 * 0.4, 0, 1))
    small = Image.fromarray((k * 255).astype(np.uint8), "L")
    return small.resize((width, height), Image.Resampling.BILINEAR).convert("RGB")


class Frame:
    """Drawing in local units: (0, 0) sits at (x, y) on the canvas and one unit is `scale`
    pixels, so an object (a cup, a temple, a scooter) is drawn the same at any size and place."""

    def __init__(self, c: Canvas, x: float, y: float, scale: float) -> None:
        self.c, self.x, self.y, self.s = c, x, y, scale

    def p(self, dx: float, dy: float) -> Point:
        return (self.x + dx * self.s, self.y + dy * self.s)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> Box:
        return (*self.p(x0, y0), *self.p(x1, y1))

    def poly(self, points: Sequence[Point], color: Color, alpha: float = 255) -> None:
        self.c.poly([self.p(x, y) for x, y in points], color, alpha)

    def rect(self, box: Box, color: Color, radius: float = 0, alpha: float = 255) -> None:
        self.c.rect(self.box(*box), color, radius * self.s, alpha)

    def ellipse(
        self, cx: float, cy: float, rx: float, ry: float, color: Color, alpha: float = 255
    ) -> None:
        self.c.ellipse(*self.p(cx, cy), rx * self.s, ry * self.s, color, alpha)

    def circle(self, cx: float, cy: float, r: float, color: Color, alpha: float = 255) -> None:
        self.ellipse(cx, cy, r, r, color, alpha)

    def line(self, points: Sequence[Point], color: Color, width: float, alpha: float = 255) -> None:
        self.c.line([self.p(x, y) for x, y in points], color, width * self.s, alpha)

    def chord(self, box: Box, start: float, end: float, color: Color, alpha: float = 255) -> None:
        self.c.chord(self.box(*box), start, end, color, alpha)

    def arc(self, box: Box, start: float, end: float, color: Color, width: float) -> None:
        self.c.arc(self.box(*box), start, end, color, width * self.s)
