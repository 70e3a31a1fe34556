"""The FFmpeg graph of one clip: picture or avatar, motion, the cross-fade into it, burned
subtitles, the logo; and the x264 settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import ffmpeg

from ytmaker.errors import MediaError
from ytmaker.files import atomic_output, atomic_write_text
from ytmaker.media import vertical
from ytmaker.media.render.plan import (
    MISSING_GLYPH,
    PAN_OVERSCAN,
    PIP_BACKGROUND,
    TRUNCATED,
    ZOOM_RANGE,
    Avatar,
    ClipPlan,
    Footage,
    Pip,
    RenderSettings,
    Still,
    Visual,
    encoder_args,
)
from ytmaker.media.render.progress import RenderProgress
from ytmaker.media.runner import run
from ytmaker.media.runner import tail as stderr_tail
from ytmaker.media.visual import VisualConfig, corner_xy

log = logging.getLogger(__name__)

# --- the clip graph -------------------------------------------------------------------------


def encode_clip(
    plan: ClipPlan,
    fonts: Path,
    settings: RenderSettings,
    visual: VisualConfig,
    progress: RenderProgress,
) -> None:
    step = f"piece {plan.index}"
    stream = _source(plan.visual, 0, plan.frames, settings)
    if plan.tail is not None:
        tail = _source(plan.tail, plan.tail_start, plan.fade, settings)
        stream = _fade_in(tail, stream, plan.fade, settings.fps)
    if plan.ass is not None:
        ass = plan.path.with_suffix(".ass")
        atomic_write_text(ass, plan.ass)
        stream = stream.filter("subtitles", filename=str(ass), fontsdir=str(fonts))
    if visual.logo.path is not None:
        stream = _with_logo(stream, visual, settings)
    stream = stream.filter("format", "yuv420p")

    def on_frame(frame: int) -> None:
        progress.set_partial(step, min(frame, plan.frames))

    with atomic_output(plan.path) as tmp:
        out = stream.output(str(tmp), an=None, **encoder_args(plan.frames, settings))
        stderr = run(out, step, on_frame, media_seconds=plan.frames / settings.fps)
        if TRUNCATED in stderr:  # a frozen picture is no video: fail, and keep no clip
            raise MediaError(
                f"第 {plan.index} 段的素材檔不完整 (piece {plan.index}: its picture or avatar "
                "clip is truncated; delete it and run again to make it anew)",
                step=step,
                piece_index=plan.index,
                ffmpeg_stderr=stderr_tail(stderr),
            )
    progress.finish(step, plan.frames)
    if MISSING_GLYPH in stderr:
        log.warning("piece %d: some subtitle characters are missing from the font", plan.index)


def _fade_in(tail: Any, stream: Any, fade: int, fps: int) -> Any:
    """Cross-fade `tail` into the first `fade` frames of `stream`. xfade works in 4:4:4 only,
    so just those frames go through it (measured: xfade over a whole clip doubles its cost);
    the rest is passed on untouched and joined after them."""
    parts = stream.split()
    head = parts[0].filter("trim", end_frame=fade)
    rest = parts[1].filter("trim", start_frame=fade).filter("setpts", "PTS-STARTPTS")
    blended = ffmpeg.filter(
        [tail, head], "xfade", transition="fade", duration=fade / fps, offset=0
    ).filter("format", "yuv420p")
    return _rate(ffmpeg.concat(blended, rest, v=1, a=0), fps)


def _source(shown: Visual, start: int, frames: int, settings: RenderSettings) -> Any:
    """Exactly `frames` yuv420p frames of `shown` from its frame `start`, time base 1/fps."""
    if isinstance(shown, Still):
        stream = _still_stream(shown, start, frames, settings)
    elif isinstance(shown, Avatar):
        stream = _avatar_stream(shown, start, frames, settings, None)
    elif isinstance(shown, Footage):
        stream = _footage_stream(shown, start, frames, settings)
    else:
        stream = _pip_stream(shown, start, frames, settings)
    return _rate(stream, settings.fps)


def _rate(stream: Any, fps: int) -> Any:
    """Frame n at n/fps, time base 1/fps, link frame rate fps (xfade/overlay compare them)."""
    return stream.filter("settb", f"1/{fps}").filter("setpts", "N").filter("fps", fps)


def _input(path: Path | str, start: int, **options: Any) -> Any:
    """An input node; a tail (start > 0) gets its own node even for the same file, since
    ffmpeg-python merges identical nodes and would then need a split filter."""
    if start:
        options["thread_queue_size"] = 16
    return ffmpeg.input(str(path), **options)


def _fit(stream: Any, width: int, height: int) -> Any:
    """Scale to fit inside the box, pad with black, convert to BT.709 yuv420p once."""
    return (
        stream.filter(
            "scale",
            width,
            height,
            force_original_aspect_ratio="decrease",
            force_divisible_by=2,
            out_color_matrix="bt709",
            out_range="tv",
        )
        .filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color="black")
        .filter("setsar", 1)
        .filter("format", "yuv420p")
    )


def even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _still_stream(still: Still, start: int, frames: int, settings: RenderSettings) -> Any:
    """Decode and scale the picture once; then repeat it, moving a crop window or zooming."""
    w, h, fps = settings.width, settings.height, settings.fps
    image = _input(still.path, start).video
    span = max(still.span - 1, 1)
    if still.motion == "zoom":
        grow = f"{ZOOM_RANGE}*(on+{start})/{span}"
        zoom = f"1+{grow}" if still.variant % 2 == 0 else f"{1 + ZOOM_RANGE}-{grow}"
        return _fit(image, w, h).filter(
            "zoompan",
            z=zoom,
            x="iw/2-iw/zoom/2",
            y="ih/2-ih/zoom/2",
            d=frames,
            s=f"{w}x{h}",
            fps=fps,
        )
    if still.motion == "pan":
        big_w, big_h = even(w * (1 + PAN_OVERSCAN)), even(h * (1 + PAN_OVERSCAN))
        (x0, y0), (x1, y1) = PAN_PATHS[still.variant % len(PAN_PATHS)]
        dx, dy = big_w - w, big_h - h
        looped = _fit(image, big_w, big_h).filter("loop", loop=frames - 1, size=1, start=0)
        t = f"(n+{start})/{span}"
        return looped.filter(
            "crop",
            w,
            h,
            x=f"{x0 * dx:g}+{(x1 - x0) * dx:g}*{t}",
            y=f"{y0 * dy:g}+{(y1 - y0) * dy:g}*{t}",
            exact=1,
        )
    return _fit(image, w, h).filter("loop", loop=frames - 1, size=1, start=0)


# start and end of the crop window as fractions of the excess (x, y). Horizontal only:
# measured, a diagonal move costs x264 about twice the extra time of a horizontal one.
PAN_PATHS = (
    ((0.0, 0.5), (1.0, 0.5)),
    ((1.0, 0.35), (0.0, 0.35)),
    ((0.0, 0.65), (1.0, 0.65)),
    ((1.0, 0.5), (0.0, 0.5)),
)


def _avatar_stream(
    avatar: Avatar, start: int, frames: int, settings: RenderSettings, box: tuple[int, int] | None
) -> Any:
    """The avatar resampled to our rate, fitted to `box` (the frame if None); its last frame is
    held if it is shorter than needed. `start` frames are skipped (seeking close first)."""
    fps = settings.fps
    start_s = start / fps
    seek = max(0.0, min(start_s, avatar.duration) - 1.0) if start else 0.0
    source = _input(avatar.path, start, ss=f"{seek:.3f}") if seek else _input(avatar.path, start)
    stream = source.video.filter("setpts", "PTS-STARTPTS").filter("fps", fps)
    width, height = box or (settings.width, settings.height)
    if box is None and vertical.is_vertical(width, height):
        stream = vertical.backdrop_fit(stream, width, height)
    else:
        stream = _fit(stream, width, height)
    stream = stream.filter("tpad", stop_mode="clone", stop=-1)
    skip = round(start_s * fps) - round(seek * fps)
    return stream.filter("trim", start_frame=max(skip, 0), end_frame=max(skip, 0) + frames)


def _footage_stream(clip: Footage, start: int, frames: int, settings: RenderSettings) -> Any:
    """`frames` frames of the clip from its frame `start`: looped from its first frame when it
    ends before (never a held last frame), resampled to a constant `fps`, scaled to cover the
    frame and cropped to it (centre), its sound not read."""
    w, h, fps = settings.width, settings.height, settings.fps
    begin = start / fps
    wanted = begin + frames / fps
    options: dict[str, Any] = {}
    if clip.duration > 0 and wanted > clip.duration - 0.5 / fps:
        options["stream_loop"] = -1  # the loop restarts at 0 even after a seek
    if begin > 0 and clip.duration > 0:
        options["ss"] = f"{begin % clip.duration:.3f}"
    stream = (
        _input(clip.path, start, **options)
        .video.filter("setpts", "PTS-STARTPTS")
        .filter("fps", fps)
        .filter("scale", w, h, force_original_aspect_ratio="increase")
        .filter("crop", w, h)
        .filter("scale", out_color_matrix="bt709", out_range="tv")
        .filter("setsar", 1)
        .filter("format", "yuv420p")
    )
    return stream.filter("trim", end_frame=frames)


def _pip_stream(pip: Pip, start: int, frames: int, settings: RenderSettings) -> Any:
    w, h = settings.width, settings.height
    if pip.background is not None:
        background = _still_stream(pip.background, start, frames, settings)
    else:
        colour = f"color=c={PIP_BACKGROUND}:s={w}x{h}:r={settings.fps}"
        background = _input(colour, start, f="lavfi").video.filter("trim", end_frame=frames)
    background = _rate(background, settings.fps)
    box_w = even(w * pip.size)
    box = (box_w, even(box_w * h / w))
    x, y = corner_xy(pip.corner, box, (w, h), pip.margin)
    if vertical.is_vertical(w, h):
        box, (x, y) = vertical.pip_box(w, h, pip.size, pip.corner, pip.margin)
    avatar = _avatar_stream(pip.avatar, start, frames, settings, box)
    avatar = _rate(avatar, settings.fps)
    return background.overlay(avatar, x=x, y=y, eof_action="repeat").filter(
        "trim", end_frame=frames
    )


def _with_logo(stream: Any, visual: VisualConfig, settings: RenderSettings) -> Any:
    logo = visual.logo
    assert logo.path is not None
    width = even(settings.width * logo.scale)
    mark = (
        ffmpeg.input(str(logo.path))
        .video.filter("scale", width, -1)
        .filter("format", "rgba")
        .filter("colorchannelmixer", aa=f"{logo.opacity:.3f}")
    )
    m = logo.margin
    x = f"{m}" if logo.corner.endswith("left") else f"W-w-{m}"
    y = f"{m}" if logo.corner.startswith("top") else f"H-h-{m}"
    return stream.overlay(mark, x=x, y=y, eof_action="repeat", format="yuv420")
