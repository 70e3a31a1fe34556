"""The YouTube thumbnail: the picture cropped to 1280x720 with the title large on a dark band."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from ytmaker.errors import MediaError
from ytmaker.files import atomic_write_bytes
from ytmaker.media.fonts import font_path

SIZE = (1280, 720)
MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 3
MARGIN_X = 70
BOTTOM_GAP = 48
PADDING = 28
LINE_SPACING = 1.18
FONT_SIZES = range(112, 35, -4)
MAX_TEXT_HEIGHT = 0.55 * SIZE[1]
NO_LINE_START = set("，。、！？；：,.!?;:）)」』】》…")
Font = ImageFont.FreeTypeFont


def make_thumbnail(image: Path, title: str, out_path: Path) -> Path:
    """Write a 1280x720 JPEG (< 2 MB) atomically and return its path."""
    canvas = _cover(Path(image))
    title = " ".join(title.split())
    if title:
        canvas = _draw_title(canvas, title)
    atomic_write_bytes(Path(out_path), _jpeg(canvas))
    return Path(out_path)


def _cover(path: Path) -> Image.Image:
    """Scale and centre-crop to exactly 1280x720."""
    try:
        with Image.open(path) as img:
            rgb = ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise MediaError(
            f"無法讀取縮圖底圖 (cannot read thumbnail image {path}): {exc}", path=str(path)
        ) from exc
    return ImageOps.fit(rgb, SIZE, Image.Resampling.LANCZOS)


def _draw_title(canvas: Image.Image, title: str) -> Image.Image:
    font, lines = _fit_title(title)
    line_height = round(font.size * LINE_SPACING)
    band_height = line_height * len(lines) + 2 * PADDING
    top = SIZE[1] - BOTTOM_GAP - band_height
    shade = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    ImageDraw.Draw(shade).rectangle((0, top, SIZE[0], top + band_height), fill=(0, 0, 0, 165))
    canvas = Image.alpha_composite(canvas.convert("RGBA"), shade).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    stroke = max(2, round(font.size / 16))
    for row, line in enumerate(lines):
        y = top + PADDING + row * line_height + line_height // 2
        draw.text(
            (SIZE[0] // 2, y),
            line,
            font=font,
            fill="white",
            anchor="mm",
            stroke_width=stroke,
            stroke_fill=(20, 20, 20),
        )
    return canvas


def _fit_title(title: str) -> tuple[Font, list[str]]:
    """The largest font size at which the title fits in three lines; else shorten it."""
    base = ImageFont.truetype(str(font_path()), FONT_SIZES[0])
    max_width = SIZE[0] - 2 * MARGIN_X
    font = base
    for size in FONT_SIZES:
        font = base.font_variant(size=size)
        lines = wrap_title(title, font, max_width)
        fits = all(font.getlength(line) <= max_width for line in lines)
        if fits and len(lines) <= MAX_LINES and len(lines) * size * LINE_SPACING <= MAX_TEXT_HEIGHT:
            return font, lines
    return font, _shorten(wrap_title(title, font, max_width), font, max_width)


def _shorten(lines: list[str], font: Font, max_width: float) -> list[str]:
    kept = lines[:MAX_LINES]
    last = kept[-1]
    while last and font.getlength(last + "…") > max_width:
        last = last[:-1]
    return [*kept[:-1], last.rstrip() + "…"]


def wrap_title(title: str, font: Font, max_width: float) -> list[str]:
    """Greedy wrap by pixel width: Chinese by characters, Latin by words."""
    lines: list[str] = []
    for token in _tokens(title):
        if lines and (token in NO_LINE_START or font.getlength(lines[-1] + token) <= max_width):
            lines[-1] += token
        elif token.strip():
            lines.append(token)
    return [line.strip() for line in lines]


def _tokens(text: str) -> list[str]:
    """Wide (CJK) characters one by one; a Latin word together with the space after it."""
    tokens = []
    for chunk in re.findall(r"\S+\s*", text):
        if any(_wide(char) for char in chunk):
            tokens += re.findall(r"[A-Za-z0-9'’&.-]+\s*|.\s*", chunk)
        else:
            tokens.append(chunk)
    return tokens


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _jpeg(canvas: Image.Image) -> bytes:
    for quality in (90, 82, 74, 66, 58):
        buffer = io.BytesIO()
        canvas.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
        if buffer.tell() < MAX_BYTES:
            return buffer.getvalue()
    raise MediaError("縮圖檔案過大 (thumbnail stays above 2 MB)")
