"""The YouTube thumbnail: the picture cropped to 1280x720, darkened towards the bottom, the title
as large as fits in a safe area (stroke + soft shadow), an optional second line (channel or
episode) in a tag above it, and the channel logo in a corner. JPEG under 2 MB."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, UnidentifiedImageError

from ytmaker.errors import MediaError
from ytmaker.files import atomic_write_bytes
from ytmaker.media.fonts import font_path
from ytmaker.media.visual import VisualConfig, corner_xy

SIZE = (1280, 720)
MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 3
# Safe area: clear of the edges, and of the bottom-right corner where YouTube prints the length.
SAFE = (64, 56, SIZE[0] - 64, SIZE[1] - 84)  # left, top, right, bottom
LINE_SPACING = 1.16
FONT_SIZES = range(124, 43, -4)
MAX_TEXT_HEIGHT = 0.56 * SIZE[1]
TAG_RATIO = 0.4  # second line size / title size
TAG_MIN, TAG_MAX = 28, 44
TAG_FILL, TAG_TEXT = (255, 210, 63), (24, 24, 28)
NO_LINE_START = set("，。、！？；：,.!?;:）)」』】》…")
Font = ImageFont.FreeTypeFont


@dataclass
class Layout:
    """Where everything goes; boxes are (left, top, right, bottom) in pixels."""

    font: Font
    lines: list[str]
    line_boxes: list[tuple[int, int, int, int]]
    tag_font: Font | None
    tag: str | None
    tag_box: tuple[int, int, int, int] | None


def make_thumbnail(
    image: Path,
    title: str,
    out_path: Path,
    *,
    subtitle: str | None = None,
    visual: VisualConfig | None = None,
) -> Path:
    """Write a 1280x720 JPEG (< 2 MB) atomically and return its path.

    `subtitle` is an optional second line (channel name, episode); `visual` supplies the logo
    (if `logo.on_thumbnail`) and the subtitle font file, if configured."""
    visual = visual or VisualConfig()
    font_file = Path(visual.subtitles.font_file or font_path())
    canvas = _cover(Path(image))
    title = " ".join(title.split())
    subtitle = " ".join((subtitle or "").split()) or None
    if title or subtitle:
        canvas = _shade(canvas)
        canvas = _draw_text(canvas, layout(title, subtitle, font_file))
    if visual.logo.path is not None and visual.logo.on_thumbnail:
        canvas = _draw_logo(canvas, visual)
    atomic_write_bytes(Path(out_path), _jpeg(canvas.convert("RGB")))
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


def _shade(canvas: Image.Image) -> Image.Image:
    """Darken the lower part smoothly so white text reads on any picture."""
    width, height = SIZE
    start = int(height * 0.35)
    ramp = Image.linear_gradient("L").resize((1, height - start))
    alpha = Image.new("L", (1, height), 0)
    alpha.paste(ramp.point(lambda v: int(v * 0.78)), (0, start))
    shade = Image.new("RGBA", SIZE, (8, 10, 16, 0))
    shade.putalpha(alpha.resize(SIZE))
    return Image.alpha_composite(canvas.convert("RGBA"), shade)


def _load(font_file: Path, size: int) -> Font:
    try:
        return ImageFont.truetype(str(font_file), size)
    except OSError as exc:
        raise MediaError(f"無法載入字型 (cannot load font {font_file}): {exc}") from exc


def layout(title: str, subtitle: str | None, font_file: Path | None = None) -> Layout:
    """The largest title size at which the title (≤ 3 lines) and the tag fit the safe area."""
    font_file = Path(font_file or font_path())
    base = _load(font_file, FONT_SIZES[0])
    left, top, right, bottom = SAFE
    max_width = right - left
    chosen: tuple[Font, list[str]] | None = None
    for size in FONT_SIZES:
        font = base.font_variant(size=size)
        lines = wrap_title(title, font, max_width) if title else []
        tag_h = _tag_height(size) if subtitle else 0
        height = len(lines) * size * LINE_SPACING + tag_h
        fits = all(font.getlength(line) <= max_width for line in lines)
        if fits and len(lines) <= MAX_LINES and height <= min(MAX_TEXT_HEIGHT, bottom - top):
            chosen = (font, lines)
            break
    if chosen is None:
        font = base.font_variant(size=FONT_SIZES[-1])
        chosen = (font, _shorten(wrap_title(title, font, max_width), font, max_width))
    font, lines = chosen
    line_h = round(font.size * LINE_SPACING)
    boxes, y = [], bottom - line_h * len(lines)
    for line in lines:
        boxes.append((left, y, left + round(font.getlength(line)), y + line_h))
        y += line_h
    tag_font = tag_box = None
    if subtitle:
        tag_font = base.font_variant(size=_tag_size(font.size))
        subtitle = _fit_tag(subtitle, tag_font, max_width - 2 * _tag_pad(tag_font))
        pad = _tag_pad(tag_font)
        tag_bottom = (boxes[0][1] if boxes else bottom) - round(font.size * 0.12)
        tag_top = tag_bottom - round(tag_font.size * 1.3) - pad
        width = round(tag_font.getlength(subtitle)) + 2 * pad
        tag_box = (left, max(tag_top, top), left + width, tag_bottom)
    return Layout(font, lines, boxes, tag_font, subtitle, tag_box)


def _tag_size(title_size: float) -> int:
    return max(TAG_MIN, min(TAG_MAX, round(title_size * TAG_RATIO)))


def _tag_pad(font: Font) -> int:
    return round(font.size * 0.45)


def _tag_height(title_size: int) -> int:
    size = _tag_size(title_size)
    return round(size * 1.3) + round(size * 0.45) + round(title_size * 0.12)


def _fit_tag(text: str, font: Font, max_width: float) -> str:
    if font.getlength(text) <= max_width:
        return text
    while text and font.getlength(text + "…") > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _draw_text(canvas: Image.Image, plan: Layout) -> Image.Image:
    font = plan.font
    stroke = max(2, round(font.size / 14))
    shadow = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    draw_shadow = ImageDraw.Draw(shadow)
    offset = max(2, round(font.size / 18))
    for line, box in zip(plan.lines, plan.line_boxes, strict=True):
        xy = (box[0] + offset, (box[1] + box[3]) // 2 + offset)
        draw_shadow.text(
            xy,
            line,
            font=font,
            anchor="lm",
            fill=(0, 0, 0, 200),
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 200),
        )
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(2, font.size // 12)))
    canvas = Image.alpha_composite(canvas, shadow)
    draw = ImageDraw.Draw(canvas)
    for line, box in zip(plan.lines, plan.line_boxes, strict=True):
        draw.text(
            (box[0], (box[1] + box[3]) // 2),
            line,
            font=font,
            anchor="lm",
            fill="white",
            stroke_width=stroke,
            stroke_fill=(16, 16, 20),
        )
    if plan.tag and plan.tag_font and plan.tag_box:
        radius = (plan.tag_box[3] - plan.tag_box[1]) // 3
        draw.rounded_rectangle(plan.tag_box, radius, fill=TAG_FILL)
        centre = (
            (plan.tag_box[0] + plan.tag_box[2]) // 2,
            (plan.tag_box[1] + plan.tag_box[3]) // 2,
        )
        draw.text(centre, plan.tag, font=plan.tag_font, anchor="mm", fill=TAG_TEXT)
    return canvas


def _draw_logo(canvas: Image.Image, visual: VisualConfig) -> Image.Image:
    logo = visual.logo
    assert logo.path is not None
    try:
        with Image.open(logo.path) as img:
            mark = img.convert("RGBA")
    except (OSError, UnidentifiedImageError) as exc:
        raise MediaError(f"無法讀取標誌 (cannot read logo {logo.path}): {exc}") from exc
    width = max(8, round(SIZE[0] * logo.scale))
    height = max(1, round(mark.height * width / mark.width))
    mark = mark.resize((width, height), Image.Resampling.LANCZOS)
    if logo.opacity < 1:
        mark.putalpha(mark.getchannel("A").point(lambda a: round(a * logo.opacity)))
    # the video's length is printed bottom-right on YouTube: move the logo up there
    corner = "top-right" if logo.corner == "bottom-right" else logo.corner
    margin = round(logo.margin * SIZE[0] / 1920)
    layer = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    layer.paste(mark, corner_xy(corner, (width, height), SIZE, margin))
    return Image.alpha_composite(canvas.convert("RGBA"), layer)


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
