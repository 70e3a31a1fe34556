"""Offline segment pictures: a landscape painted from a hash of (description, seed)."""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ytmaker.errors import ProviderError
from ytmaker.files import atomic_output
from ytmaker.media.fonts import font_path
from ytmaker.providers.base import Gate, paid_call

WIDTH, HEIGHT = 1920, 1080  # landscape; a Short's pictures are drawn 1080x1920 (not cropped)
CALM = 0.72  # nothing but a smooth gradient below this share of the height: subtitles go there
CALM_TALL = 0.62  # a portrait picture's captions sit higher (above the Shorts player's overlay)
CALM_TOP = int(HEIGHT * CALM)
SCENES = ("mountains", "hills", "coast", "city")
# mood: (sky-top hue range, horizon hue range, land hue range, sky lightness top/horizon)
MOODS = {
    "day": ((0.55, 0.62), (0.52, 0.58), (0.25, 0.45), (0.55, 0.86)),
    "dawn": ((0.66, 0.76), (0.02, 0.10), (0.70, 0.80), (0.40, 0.78)),
    "dusk": ((0.60, 0.68), (0.95, 1.03), (0.66, 0.74), (0.30, 0.68)),
    "night": ((0.60, 0.68), (0.56, 0.64), (0.60, 0.68), (0.08, 0.28)),
    "mist": ((0.00, 1.00), (0.00, 1.00), (0.00, 1.00), (0.70, 0.90)),
}
RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Palette:
    sky_top: RGB
    horizon: RGB
    land: RGB
    accent: RGB
    mood: str

    @property
    def night(self) -> bool:
        return self.mood == "night"


def _rng(description: str, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}\x00{description}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _hls(h: float, lightness: float, s: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(lightness, 0.0), 1.0), min(max(s, 0.0), 1.0))
    return (r * 255, g * 255, b * 255)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def make_palette(rng: np.random.Generator) -> Palette:
    mood = str(rng.choice(list(MOODS)))
    top_range, horizon_range, land_range, (top_l, horizon_l) = MOODS[mood]
    saturation = 0.22 if mood == "mist" else rng.uniform(0.45, 0.75)
    top_h = rng.uniform(*top_range)
    sky_top = _hls(top_h, top_l, saturation)
    horizon_h = top_h + rng.uniform(-0.08, 0.08) if mood == "mist" else rng.uniform(*horizon_range)
    horizon = _hls(horizon_h, horizon_l, saturation + 0.1)
    land_h = top_h + 0.1 if mood == "mist" else rng.uniform(*land_range)
    land = _hls(land_h, 0.12 if mood == "night" else rng.uniform(0.18, 0.28), saturation * 0.55)
    accent = _hls(horizon_h + 0.5 * (mood == "day"), 0.62, 0.8)
    return Palette(sky_top, horizon, land, accent, mood)


def _size(img: np.ndarray) -> tuple[int, int]:
    """(width, height) of a canvas."""
    return img.shape[1], img.shape[0]


def _calm_top(width: int, height: int) -> int:
    return int(height * (CALM_TALL if height > width else CALM))


def _column(top: RGB, bottom: RGB, y0: float, y1: float, height: int = HEIGHT) -> np.ndarray:
    """A vertical gradient as an (H, 1, 3) array, flat outside [y0, y1]."""
    t = np.clip((np.arange(height, dtype=np.float32) - y0) / max(y1 - y0, 1.0), 0, 1)
    t = (t * t * (3 - 2 * t))[:, None, None]
    return np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t


def _blend(img: np.ndarray, color: np.ndarray | RGB, alpha: np.ndarray) -> None:
    """In place: img = img * (1 - alpha) + color * alpha."""
    img += (np.asarray(color, np.float32) - img) * alpha[..., None]


def _noise1d(
    rng: np.random.Generator, points: int, octaves: int, ridged: bool, width: int = WIDTH
) -> np.ndarray:
    """Smooth fractal noise over the image width, roughly in [-1, 1]."""
    x = np.linspace(0, 1, width, dtype=np.float32)
    total = np.zeros(width, np.float32)
    for octave in range(octaves):
        n = points * 2**octave
        knots = rng.uniform(-1, 1, n + 2).astype(np.float32)
        pos = x * n
        i = pos.astype(int)
        f = pos - i
        f = f * f * (3 - 2 * f)
        layer = knots[i] * (1 - f) + knots[i + 1] * f
        if ridged and octave == 0:
            layer = 1 - 2 * np.abs(layer)
        total += layer * 0.5**octave
    return total / 1.6


def _silhouette(ridge: np.ndarray, height: int = HEIGHT) -> np.ndarray:
    """Anti-aliased coverage of everything below the ridge line (y grows downwards)."""
    ys = np.arange(height, dtype=np.float32)[:, None]
    slope = np.sqrt(1 + np.gradient(ridge) ** 2)
    return np.clip((ys - ridge[None, :]) / slope[None, :] + 0.5, 0, 1)


def paint_sky(img: np.ndarray, pal: Palette, rng: np.random.Generator, horizon_y: float) -> RGB:
    width, height = _size(img)
    img[:] = _column(pal.sky_top, pal.horizon, -100, horizon_y, height)
    sun = (rng.uniform(0.18, 0.82) * width, rng.uniform(0.29, 0.45) * height)  # below the card
    yy, xx = np.ogrid[:height, :width]
    dist = np.sqrt((xx - sun[0]) ** 2 + (yy - sun[1]) ** 2).astype(np.float32)
    glow_color = _mix(pal.horizon, (255, 245, 225), 0.6)
    _blend(img, glow_color, 0.55 * np.exp(-dist / 260))
    radius = rng.uniform(48, 80)
    disc = (238, 240, 250) if pal.night else (255, 248, 230)
    _blend(img, disc, np.clip(radius - dist + 0.5, 0, 1) * 0.95)
    if pal.night:
        _stars(img, rng, horizon_y)
    _clouds(img, pal, rng, horizon_y)
    return glow_color


def _stars(img: np.ndarray, rng: np.random.Generator, horizon_y: float) -> None:
    count = 260
    xs = rng.integers(0, _size(img)[0], count)
    ys = (rng.random(count) ** 1.6 * horizon_y * 0.9).astype(int)
    bright = rng.uniform(0.25, 0.9, count).astype(np.float32)[:, None]
    img[ys, xs] += (255 - img[ys, xs]) * bright


def _clouds(img: np.ndarray, pal: Palette, rng: np.random.Generator, horizon_y: float) -> None:
    """Soft elongated blobs, drawn small and blurred, then scaled up."""
    scale = 8
    width, height = _size(img)
    mask = Image.new("L", (width // scale, height // scale))
    draw = ImageDraw.Draw(mask)
    for _ in range(int(rng.integers(4, 9))):
        cx, cy = rng.uniform(-0.1, 1.1) * width, rng.uniform(0.08, 0.8) * horizon_y
        for _ in range(int(rng.integers(3, 7))):
            w, h = rng.uniform(80, 260), rng.uniform(24, 60)
            x, y = cx + rng.uniform(-180, 180), cy + rng.uniform(-25, 25)
            box = [(x - w) / scale, (y - h) / scale, (x + w) / scale, (y + h) / scale]
            draw.ellipse(box, fill=int(rng.integers(90, 170)))
    mask = mask.filter(ImageFilter.GaussianBlur(3)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    color = _mix(pal.horizon, (255, 255, 255), 0.25 if pal.night else 0.55)
    _blend(img, color, np.asarray(mask, np.float32) / 255 * 0.6)


def _haze(pal: Palette, depth: float) -> RGB:
    """Atmospheric perspective: far layers take on the horizon colour."""
    return _mix(pal.horizon, pal.land, depth)


def paint_land(img: np.ndarray, pal: Palette, rng: np.random.Generator, scene: str) -> None:
    width, height = _size(img)
    layers = 4 if scene == "mountains" else 3
    for k in range(layers):
        depth = (k + 1) / layers
        base = height * (0.46 + 0.22 * depth)
        amp = height * (0.16 if scene == "mountains" else 0.06) * (1.2 - 0.5 * depth)
        ridged = scene == "mountains"
        noise = _noise1d(rng, int(rng.integers(3, 6)), 5 if ridged else 3, ridged, width)
        ridge = base + amp * noise
        if k == layers - 1:  # lift the nearest layer so its valleys stay above the calm band
            ridge -= max(float(ridge.max()) - (_calm_top(width, height) - 10), 0.0)
        color = _haze(pal, 0.35 + 0.65 * depth)
        shade = _column(color, _mix(color, (0, 0, 0), 0.35), ridge.min(), height, height)
        cover = _silhouette(ridge, height)
        if scene == "hills" and k == layers - 1:
            cover = np.maximum(cover, _trees(rng, ridge, height))
        img += (shade - img) * cover[..., None]


def _trees(rng: np.random.Generator, ridge: np.ndarray, height: int = HEIGHT) -> np.ndarray:
    """A few clumps of pine silhouettes standing on the ridge line."""
    width = len(ridge)
    mask = Image.new("L", (width, height))
    draw = ImageDraw.Draw(mask)
    for _ in range(int(rng.integers(2, 5))):
        centre = rng.uniform(0.05, 0.95) * width
        for _ in range(int(rng.integers(3, 9))):
            x = int(np.clip(centre + rng.normal(0, 70), 0, width - 1))
            h, w = rng.uniform(50, 130), rng.uniform(14, 26)
            base = float(ridge[x]) + 6
            for tier in range(3):  # three stacked triangles make a pine
                top = base - h * (1 - tier * 0.28)
                bottom = base - h * 0.32 * (2 - tier) + h * 0.05
                half = w * (0.55 + 0.3 * tier)
                draw.polygon([(x, top), (x - half, bottom), (x + half, bottom)], fill=255)
            draw.rectangle([x - 2, base - h * 0.2, x + 2, base + 4], fill=255)
    return np.asarray(mask, np.float32) / 255


def paint_coast(img: np.ndarray, pal: Palette, rng: np.random.Generator, glow: RGB) -> None:
    width, height = _size(img)
    horizon = height * 0.6
    ridge = horizon - height * 0.09 * (0.6 + _noise1d(rng, 3, 4, True, width))
    _blend(img, _haze(pal, 0.45), _silhouette(ridge, height))
    sea_top = _mix(pal.horizon, pal.land, 0.35)
    sea = _column(sea_top, _mix(pal.land, (0, 0, 0), 0.3), horizon, height, height)
    img += (sea - img) * _silhouette(np.full(width, horizon, np.float32), height)[..., None]
    _reflection(img, rng, glow, horizon)


def _reflection(img: np.ndarray, rng: np.random.Generator, glow: RGB, horizon: float) -> None:
    """Shimmering horizontal streaks under the brightest part of the sky."""
    width, height = _size(img)
    sun_x = float(np.argmax(img[int(height * 0.3)].sum(axis=1)))
    mask = Image.new("L", (width, height))
    draw = ImageDraw.Draw(mask)
    for _ in range(90):
        y = horizon + 4 + rng.random() ** 1.5 * (_calm_top(width, height) - horizon - 20)
        spread = 60 + (y - horizon) * 1.2
        x = sun_x + rng.normal(0, spread / 2)
        w = rng.uniform(20, 90) * (1 - (y - horizon) / height)
        draw.rectangle([x - w, y, x + w, y + 2], fill=int(rng.integers(60, 160)))
    mask = mask.filter(ImageFilter.GaussianBlur(2))
    _blend(img, _mix(glow, (255, 255, 255), 0.3), np.asarray(mask, np.float32) / 255)


def paint_city(img: np.ndarray, pal: Palette, rng: np.random.Generator) -> None:
    width, height = _size(img)
    calm_top = _calm_top(width, height)
    far = height * 0.62 + height * 0.05 * _noise1d(rng, 3, 3, False, width)
    _blend(img, _haze(pal, 0.4), _silhouette(far, height))
    mask = Image.new("L", (width, height))
    lights = Image.new("L", (width, height))
    skyline, windows = ImageDraw.Draw(mask), ImageDraw.Draw(lights)
    x = -int(rng.integers(0, 60))
    while x < width:
        w, top = int(rng.integers(60, 170)), int(height * rng.uniform(0.34, 0.6))
        skyline.rectangle([x, top, x + w - 6, height], fill=255)
        lit = 0.3 if pal.mood in ("day", "mist") else 0.45
        _windows(windows, rng, (x, top, w - 6, calm_top), lit)
        x += w
    front = _haze(pal, 0.9)
    _blend(img, front, np.asarray(mask, np.float32) / 255)
    if pal.mood in ("day", "mist"):  # glass reflecting the sky, not lamps
        glow, strength = _mix(front, pal.horizon, 0.45), 0.7
    else:
        glow, strength = _mix(pal.accent, (255, 236, 180), 0.6), 0.85
    _blend(img, glow, np.asarray(lights, np.float32) / 255 * strength)
    ground_color = _mix(pal.land, (0, 0, 0), 0.35)
    ground = _column(_haze(pal, 1.0), ground_color, calm_top - 40, height, height)
    cover = _silhouette(np.full(width, calm_top - 40, np.float32), height)
    img += (ground - img) * cover[..., None]


def _windows(
    draw: ImageDraw.ImageDraw,
    rng: np.random.Generator,
    box: tuple[int, int, int, int],
    lit: float,
) -> None:
    """Lit windows on a building `box` = (x, top, width, calm_top)."""
    x, top, w, calm_top = box
    for wy in range(top + 18, calm_top - 50, 26):
        for wx in range(x + 10, x + w - 14, 22):
            if rng.random() < lit:
                draw.rectangle([wx, wy, wx + 9, wy + 12], fill=255)


def calm_bottom(img: np.ndarray) -> None:
    """Darken the subtitle band smoothly so white burned-in text stays readable."""
    width, height = _size(img)
    top = _calm_top(width, height)
    fade = np.clip((np.arange(height, dtype=np.float32) - top) / (height - top), 0, 1)
    img *= (1 - 0.45 * fade**1.5)[:, None, None]


def vignette(img: np.ndarray) -> None:
    width, height = _size(img)
    yy, xx = np.ogrid[-1 : 1 : height * 1j, -1 : 1 : width * 1j]
    img *= (1 - 0.22 * np.clip(xx**2 * 0.6 + yy**2 * 0.4, 0, 1)).astype(np.float32)[..., None]


def paint_scene(
    description: str, seed: int, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> tuple[Image.Image, Palette]:
    """The picture at `size` (width, height): a portrait size is painted as such, with the
    same layout rules (sky, land, a calm band for subtitles at the bottom)."""
    width, height = size
    rng = _rng(description, seed)
    pal = make_palette(rng)
    scene = str(rng.choice(SCENES))
    img = np.empty((height, width, 3), np.float32)
    glow = paint_sky(img, pal, rng, height * (0.6 if scene == "coast" else 0.68))
    if scene == "coast":
        paint_coast(img, pal, rng, glow)
    elif scene == "city":
        paint_city(img, pal, rng)
    else:
        paint_land(img, pal, rng, scene)
    calm_bottom(img)
    vignette(img)
    img += rng.uniform(-1.5, 1.5, (height, width, 1)).astype(np.float32)  # grain: no banding
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB"), pal


# ---- caption card -------------------------------------------------------------------------

CAPTION_SIZE = 38
CAPTION_MAX_WIDTH = 1040
CAPTION_LINES = 2
_TOKEN = re.compile(r"[A-Za-z0-9'’.,:;!?()\-]+\s*|\s+|.")


@lru_cache(maxsize=4)
def caption_font(size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(font_path()), size)
    except OSError as exc:
        raise ProviderError(
            f"Cannot open the caption font: {exc}.", code="LOCAL_IMAGE_FONT", font=str(font_path())
        ) from exc


def _tokens(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Words and single CJK characters; a word wider than a line is split into characters."""
    out: list[str] = []
    for token in _TOKEN.findall(" ".join(text.split())):
        out.extend(token if font.getlength(token) > width else [token])
    return out


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Greedy wrap by Latin words and single CJK characters; '…' marks cut text."""
    lines, line = [], ""
    for token in _tokens(text, font, width):
        if font.getlength(line + token.rstrip()) <= width or not line:
            line += token
            continue
        lines.append(line.rstrip())
        line = token.lstrip()
        if len(lines) == max_lines:
            break
    else:
        if line.strip():
            lines.append(line.rstrip())
        return lines
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    if last[-1:].isascii() and last[-1:].isalnum() and " " in last:
        last = last.rsplit(" ", 1)[0]  # don't end on half an English word
    lines[-1] = last.rstrip(" ，,、。.") + "…"
    return lines


def draw_caption(image: Image.Image, text: str, pal: Palette) -> None:
    """A small frosted card in the upper left with the description."""
    font = caption_font(CAPTION_SIZE)
    pad_x, pad_y, left = 34, 22, 96
    top = 84 if image.width >= image.height else int(image.height * 0.12)  # below Shorts' bar
    lines = wrap(text, font, min(CAPTION_MAX_WIDTH, image.width - 2 * left - 80), CAPTION_LINES)
    if not lines:
        return
    line_h = int(CAPTION_SIZE * 1.45)
    width = max(int(font.getlength(line)) for line in lines) + 2 * pad_x + 10
    box = (left, top, left + width, top + len(lines) * line_h + 2 * pad_y)
    card = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(card).rounded_rectangle(box, radius=22, fill=(14, 18, 28, 150))
    image.paste(Image.alpha_composite(image.convert("RGBA"), card).convert("RGB"))
    draw = ImageDraw.Draw(image)
    accent = tuple(int(c) for c in pal.accent)
    draw.rounded_rectangle((left + 14, top + 20, left + 20, box[3] - 20), radius=3, fill=accent)
    for i, line in enumerate(lines):
        y = top + pad_y + i * line_h + (line_h - CAPTION_SIZE) // 2 - 4
        draw.text((left + pad_x + 10, y), line, font=font, fill=(250, 250, 252))


class PillowImages:
    """Implements ImageMaker offline: same (description, seed) always gives the same PNG."""

    name = "pillow"
    metered_service = None

    def __init__(
        self,
        caption: bool = True,
        gate: Gate = paid_call,
        size: tuple[int, int] = (WIDTH, HEIGHT),
    ) -> None:
        self.caption, self.gate, self.size = caption, gate, size

    def make(self, description: str, seed: int, out_path: Path) -> Path:
        with self.gate():
            image, palette = paint_scene(description, seed, self.size)
            if self.caption and description.strip():
                draw_caption(image, description.strip(), palette)
        out_path = Path(out_path)
        with atomic_output(out_path) as tmp:
            image.save(tmp, format="PNG", compress_level=2)
        return out_path
