"""A creator's own pictures and clips for the segments (`project create --media DIR`, `media:`
in a batch file): files are used in name order, or by name (`segment_03.png` is segment 3's);
segments without one are made by the configured provider.

Each file is checked when given, cheap first: its size (not empty, at most
YTMAKER_MEDIA_MAX_BYTES), then what it is (an image's dimensions from its header before any
pixel is decoded; a video's stream, size and length from its container), then a bounded decode;
refused with a one-line error naming the file. What is kept is the folder and the plan, in the
project's `visual_config.media`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from ytmaker.errors import InputError
from ytmaker.media.headers import file_image_size

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv"}
MAX_SIDE = 8192  # pixels, either kind
MAX_SECONDS = 600.0  # a clip longer than the longest video is not a segment's footage
MAX_FILES = 500
_NAMED = re.compile(r"^segment_0*(\d+)$", re.IGNORECASE)


def refuse(field: str, path: Path, why: str) -> InputError:
    return InputError(f"{field}: {path} {why}", field=field, path=str(path))


def plan(folder: Path, max_bytes: int, field: str = "media") -> dict[str, Any]:
    """The folder's media, each file checked: {"folder", "order": [names], "segments":
    {"3": name}}; an InputError naming the first file refused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{field}: {folder} is not a folder", field=field, path=str(folder))
    files = sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.is_file())
    if len(files) > MAX_FILES:
        raise refuse(field, folder, f"holds {len(files)} files; at most {MAX_FILES}")
    order: list[str] = []
    segments: dict[str, str] = {}
    for path in files:
        check_file(path, max_bytes, field)
        named = _NAMED.match(path.stem)
        if named:
            number = str(int(named.group(1)))
            if number in segments:
                raise refuse(field, path, f"is a second file for segment {number}")
            segments[number] = path.name
        else:
            order.append(path.name)
    return {"folder": str(folder.resolve()), "order": order, "segments": segments}


def check_file(path: Path, max_bytes: int, field: str = "media") -> str:
    """'image' or 'video', or an InputError saying why not."""
    size = path.stat().st_size
    if size == 0:
        raise refuse(field, path, "is empty (0 bytes)")
    if size > max_bytes:
        raise refuse(
            field, path, f"is {size:,} bytes; at most {max_bytes:,} (YTMAKER_MEDIA_MAX_BYTES)"
        )
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        _check_image(path, field)
        return "image"
    if suffix in VIDEO_SUFFIXES:
        _check_video(path, field)
        return "video"
    kinds = ", ".join(sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))
    raise refuse(field, path, f"is neither a picture nor a video ({kinds})")


def _check_image(path: Path, field: str) -> None:
    from PIL import Image

    header = file_image_size(path)
    if header is None:
        raise refuse(field, path, "is not a PNG, JPEG or WebP image")
    _, width, height = header
    if max(width, height) > MAX_SIDE or min(width, height) < 16:
        raise refuse(field, path, f"is {width}x{height} pixels; 16 to {MAX_SIDE} a side")
    try:
        with Image.open(path) as image:
            image.load()  # bounded by the check above
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise refuse(field, path, f"is a damaged image ({_one_line(exc)})") from None


def _check_video(path: Path, field: str) -> None:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise refuse(field, path, "has no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if max(width, height) > MAX_SIDE or min(width, height) < 16:
                raise refuse(field, path, f"is {width}x{height} pixels; 16 to {MAX_SIDE} a side")
            seconds = float(container.duration / av.time_base) if container.duration else 0.0
            if not 0 < seconds <= MAX_SECONDS:
                raise refuse(field, path, f"lasts {seconds:.1f} s; more than 0, at most "
                             f"{MAX_SECONDS:g}")  # fmt: skip
            next(iter(container.decode(stream)))  # one frame decodes
    except (av.FFmpegError, StopIteration) as exc:
        raise refuse(field, path, f"is not a video FFmpeg can read ({_one_line(exc)})") from None


def file_for(media: dict[str, Any] | None, segment: int, segments: list[int]) -> Path | None:
    """Segment `segment`'s own file: its named one, else the next in name order among the
    segments (of `segments`, in order) that have no named one."""
    if not media or not media.get("folder"):
        return None
    folder = Path(media["folder"])
    named = media.get("segments") or {}
    if str(segment) in named:
        return folder / named[str(segment)]
    unnamed = [s for s in segments if str(s) not in named]
    order = media.get("order") or []
    position = unnamed.index(segment) if segment in unnamed else len(order)
    return folder / order[position] if position < len(order) else None


def use(own: Path, out_path: Path, size: tuple[int, int], clip: Path) -> None:
    """Put the file in place of the segment's picture: a picture cover-cropped to the frame,
    a video as the segment's clip with its first frame as the picture."""
    from ytmaker.providers.pexels import first_frame
    from ytmaker.providers.stability import write_cover_png

    if own.suffix.lower() in VIDEO_SUFFIXES:
        from ytmaker.files import atomic_output

        with atomic_output(out_path) as still, atomic_output(clip) as moving:
            shutil.copyfile(own, moving)
            first_frame(own, still, size)
    else:
        clip.unlink(missing_ok=True)
        write_cover_png(own.read_bytes(), out_path, size)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
