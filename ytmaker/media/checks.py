"""Files a user names (logo, music, subtitle font) checked for what they claim to be, when they
are given and again before the render: a text file called `logo.png`, a 30000x30000 PNG, a
PNG called `music.mp3` or a WAV header with no samples otherwise fail deep in FFmpeg (or make it
loop for ever) without naming the file.

Cheap first: the size on disk, then the header (image dimensions before any pixel is decoded),
then a bounded decode. Pillow and PyAV are imported on first use.
"""

from __future__ import annotations

from pathlib import Path

from ytmaker.errors import ConfigError
from ytmaker.media.headers import file_image_size

LOGO_MAX_BYTES = 20_000_000
LOGO_MAX_SIDE = 4096  # pixels: a logo is drawn at most half the frame's width
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
MUSIC_MAX_BYTES = 500_000_000
MUSIC_PACKETS = 200  # packets decoded to find the first samples
FONT_MAX_BYTES = 64_000_000  # Noto Sans CJK's collection is ~20 MB
# The first four bytes of OpenType (CFF), TrueType (two spellings) and TrueType collections.
FONT_MAGIC = (b"OTTO", b"\x00\x01\x00\x00", b"true", b"ttcf")


def refuse(field: str, path: Path, why: str) -> ConfigError:
    return ConfigError(f"visual_config.{field}: {path} {why}", field=f"visual_config.{field}",
                       path=str(path))  # fmt: skip


def _size(field: str, path: Path, limit: int) -> int:
    size = path.stat().st_size
    if size == 0:
        raise refuse(field, path, "is empty (0 bytes)")
    if size > limit:
        raise refuse(field, path, f"is {size:,} bytes; at most {limit:,}")
    return size


def require_image(path: Path, field: str = "logo.path") -> tuple[int, int]:
    """A PNG/JPEG/WebP within LOGO_MAX_SIDE a side (read from its header before any pixel is
    decoded) that decodes; returns its size."""
    from PIL import Image

    _size(field, path, LOGO_MAX_BYTES)
    header = file_image_size(path)
    if header is None:
        with open(path, "rb") as handle:
            kind = _other_image(handle.read(16))
        raise refuse(field, path, f"is {kind}; use PNG, JPEG or WebP" if kind
                     else "is not a PNG, JPEG or WebP image")  # fmt: skip
    _, width, height = header
    if max(width, height) > LOGO_MAX_SIDE or min(width, height) < 1:
        raise refuse(field, path, f"is {width}x{height} pixels; at most "
                     f"{LOGO_MAX_SIDE}x{LOGO_MAX_SIDE}")  # fmt: skip
    try:
        with Image.open(path) as image:
            if image.size != (width, height):
                raise refuse(field, path, "is a damaged image (its header disagrees)")
            image.load()  # bounded by the check above: at most 4096x4096
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise refuse(field, path, f"is a damaged image ({_one_line(exc)})") from None
    return width, height


def _other_image(head: bytes) -> str | None:
    """A picture format we do not take, named so the user knows what to convert."""
    for magic, name in ((b"GIF8", "a GIF image"), (b"BM", "a BMP image"),
                        (b"II*\0", "a TIFF image"), (b"MM\0*", "a TIFF image")):  # fmt: skip
        if head.startswith(magic):
            return name
    return None


def require_audio(path: Path, field: str = "music.path") -> float:
    """Audio FFmpeg reads, with samples in it; returns its length in seconds."""
    import av

    _size(field, path, MUSIC_MAX_BYTES)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise refuse(field, path, "has no audio stream (it is not a sound file)")
            stream = container.streams.audio[0]
            samples = _first_samples(container, stream)
            seconds = _seconds(container, stream)
    except av.FFmpegError as exc:
        raise refuse(field, path, f"is not audio FFmpeg can read ({_one_line(exc)})") from None
    if samples == 0:
        raise refuse(field, path, "has no audio samples (a header with nothing after it)")
    if seconds <= 0:
        raise refuse(field, path, "has no length (duration 0 s)")
    return seconds


def _first_samples(container: object, stream: object) -> int:
    count = 0
    for index, packet in enumerate(container.demux(stream)):  # type: ignore[attr-defined]
        for frame in packet.decode():
            count += frame.samples
        if count or index >= MUSIC_PACKETS:
            break
    return count


def _seconds(container: object, stream: object) -> float:
    import av

    duration = getattr(container, "duration", None)
    if duration:
        return float(duration / av.time_base)
    if stream.duration and stream.time_base:  # type: ignore[attr-defined]
        return float(stream.duration * stream.time_base)  # type: ignore[attr-defined]
    return 0.0


def require_font(path: Path, field: str = "subtitles.font_file") -> None:
    """An OpenType/TrueType file FreeType opens (libass and Pillow use it)."""
    from PIL import ImageFont

    _size(field, path, FONT_MAX_BYTES)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic not in FONT_MAGIC:
        raise refuse(field, path, "is not an OpenType or TrueType font (.otf, .ttf, .ttc)")
    try:
        ImageFont.truetype(str(path), 24)
    except OSError as exc:
        raise refuse(field, path, f"is a damaged font ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
