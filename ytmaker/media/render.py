"""Render the final MP4 incrementally.

Each piece becomes one video-only clip (picture or avatar, motion, the cross-fade *into* it,
its subtitles, the logo) stored in `work_dir/clips/<key>.mp4`, where the key hashes everything
that shapes the clip: file contents, text, timing, style and encoder settings. A render encodes
only clips whose key is new, builds the sound track (also cached by key) on a second thread,
then joins the clips with the concat demuxer (-c copy) and muxes the AAC track: no re-encode.

The cross-fade into piece i runs over its first frames (the previous picture continuing past
its end fades out), so every piece keeps exactly its own frames and the timeline is the sum of
the piece durations; the narration is not shifted.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from ytmaker.errors import MediaError
from ytmaker.files import atomic_output, atomic_write_text
from ytmaker.media import vertical
from ytmaker.media.audio import SoundSpec, make_track, piece_samples
from ytmaker.media.fonts import font_path
from ytmaker.media.karaoke import piece_captions
from ytmaker.media.probe import probe, wav_duration
from ytmaker.media.runner import run
from ytmaker.media.runner import tail as stderr_tail
from ytmaker.media.subtitles import (
    AssStyle,
    Cue,
    ass_font_family,
    is_cjk,
    line_width,
    to_srt,
)
from ytmaker.media.visual import VisualConfig, ass_color, corner_xy

log = logging.getLogger(__name__)

RENDER_VERSION = 2  # bump when the clip graph changes: cached clips are then re-encoded
MISSING_GLYPH = "failed to find any fallback with glyph"
TRUNCATED = "partial file"  # FFmpeg decodes what there is of a cut-off MP4, then says this
PAN_OVERSCAN = 0.08  # the picture is enlarged 8% and the frame travels across the excess
ZOOM_RANGE = 0.10  # zoom: 1.0 -> 1.1 (or back)
PIP_BACKGROUND = "0x101820"
AUDIO_WEIGHT = 0.04  # the sound track costs about this share of encoding every frame
MUX_WEIGHT = 0.01
KEY = re.compile(r"^[0-9a-f]{32}\.(mp4|m4a|ass)$")


@dataclass
class RenderPiece:
    """Shown for `duration` seconds: a still `image`, an avatar `video` (its own audio ignored;
    `audio` is the voice), or both (picture-in-picture mode puts the avatar over the image)."""

    text: str
    audio: Path
    duration: float
    image: Path | None = None
    video: Path | None = None


@dataclass
class RenderSettings:
    width: int = 1920
    height: int = 1080
    fps: int = 30
    preset: str = "veryfast"
    crf: int = 23
    audio_bitrate: str = "192k"
    threads: int = 0  # x264 threads; 0 = FFmpeg's choice
    # Measured on 1080p clips (bench/render.py): slice threads use ~60 MB less than frame
    # threads and have no frame-thread warm-up at each clip's start and end (+0.3% size); a
    # 5-frame lookahead instead of veryfast's 10 saves ~33 MB more, -0.35 dB PSNR, smaller files.
    # Together they keep a render under 300 MB.
    x264_params: str = "sliced-threads=1:rc-lookahead=5"


@dataclass
class VideoInfo:
    path: Path
    duration: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str
    file_size: int
    render_time: float
    encoded_pieces: int = 0  # clips encoded by this render
    reused_pieces: int = 0  # clips taken from work_dir unchanged
    audio_reused: bool = False
    loudness_lufs: float | None = None  # mastered level (before AAC)
    true_peak_dbtp: float | None = None

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "path": str(self.path), "resolution": self.resolution}


# --- what each clip shows -----------------------------------------------------------------


@dataclass(frozen=True)
class Still:
    path: Path
    digest: str
    motion: str  # off | pan | zoom
    variant: int  # direction of the move
    span: int  # frames the move is spread over


@dataclass(frozen=True)
class Avatar:
    path: Path
    digest: str
    duration: float


@dataclass(frozen=True)
class Pip:
    avatar: Avatar
    background: Still | None
    corner: str
    size: float
    margin: int


Visual = Still | Avatar | Pip


@dataclass
class ClipPlan:
    index: int
    frames: int
    visual: Visual
    tail: Visual | None  # the previous picture, continuing into our cross-fade
    tail_start: int  # its frame number where the fade starts
    fade: int  # frames
    ass: str | None
    key: str
    path: Path


class _Progress:
    """Work done (frames encoded, audio steps) as a monotonic 0..1 fraction. Any thread may
    record work; only the rendering thread calls back (`emit=True` or `pump()`), so the
    caller's callback never runs on our audio thread. Never jumps more than 10% a call."""

    def __init__(self, callback: Callable[[float], None] | None, total: float) -> None:
        self.callback = callback
        self.total = max(total, 1e-9)
        self.done = 0.0
        self.partial: dict[str, float] = {}
        self.last = 0.0
        self.lock = threading.Lock()

    def set_partial(self, name: str, units: float, emit: bool = True) -> None:
        with self.lock:
            self.partial[name] = units
            if emit:
                self._emit()

    def finish(self, name: str, units: float, emit: bool = True) -> None:
        with self.lock:
            self.partial.pop(name, None)
            self.done += units
            if emit:
                self._emit()

    def pump(self) -> None:
        with self.lock:
            self._emit()

    def _emit(self) -> None:
        fraction = min((self.done + sum(self.partial.values())) / self.total, 0.999)
        self._report(fraction)

    def complete(self) -> None:
        with self.lock:
            self._report(1.0)

    def _report(self, fraction: float) -> None:
        if self.callback is None or fraction <= self.last:
            return
        while fraction - self.last > 0.1:
            self.last += 0.1
            self.callback(self.last)
        self.last = fraction
        self.callback(fraction)


def render_video(
    pieces: Sequence[RenderPiece],
    out_path: Path,
    work_dir: Path,
    settings: RenderSettings | None = None,
    on_progress: Callable[[float], None] | None = None,
    language: str = "zh-TW",
    visual: VisualConfig | None = None,
) -> VideoInfo:
    """Render `pieces` in order into `out_path` (atomic) plus a same-stem .srt beside it."""
    started = time.monotonic()
    settings = settings or RenderSettings()
    visual = visual or VisualConfig()
    out_path, work_dir = Path(out_path), Path(work_dir)
    spoken = _check_pieces(pieces)
    clips_dir, audio_dir = work_dir / "clips", work_dir / "audio"
    for folder in (clips_dir, audio_dir):
        folder.mkdir(parents=True, exist_ok=True)
    frames = [frame_count(piece.duration, settings.fps) for piece in pieces]
    font_file = Path(visual.subtitles.font_file or font_path())
    fonts = _fonts_dir(work_dir, font_file)
    plans, cues = _plan(pieces, frames, spoken, settings, visual, language, font_file, clips_dir)
    todo = list({plan.path: plan for plan in plans if not plan.path.exists()}.values())

    sound = SoundSpec(
        audio=[Path(p.audio) for p in pieces],
        samples=piece_samples(frames, settings.fps),
        music=visual.music.path,
        music_level=visual.music.level_db,
        music_fade=visual.music.fade,
        loudness=visual.loudness,
        true_peak=visual.true_peak,
        bitrate=settings.audio_bitrate,
    )
    track = audio_dir / f"{_sound_key(sound, settings)}.m4a"
    audio_reused = track.exists()
    total_frames = sum(frames)
    audio_units = 0.0 if audio_reused else AUDIO_WEIGHT * total_frames
    progress = _Progress(
        on_progress, sum(p.frames for p in todo) + audio_units + MUX_WEIGHT * total_frames
    )
    levels = _loudness_memo(track)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ytmaker-audio") as pool:
        future: Future | None = None
        if not audio_reused:
            run = contextvars.copy_context().run  # the stage's deadline goes with it
            future = pool.submit(run, _make_audio, sound, track, audio_dir, progress, audio_units)
        try:
            for plan in todo:
                _encode_clip(plan, fonts, settings, visual, progress)
        finally:
            if future is not None:
                while not wait([future], timeout=0.25).done:
                    progress.pump()
                levels = future.result()  # an audio failure surfaces here
        progress.pump()

    _join([p.path for p in plans], track, out_path, work_dir, total_frames / settings.fps)
    atomic_write_text(out_path.with_suffix(".srt"), to_srt(cues))
    _prune(
        clips_dir, {p.path.name for p in plans} | {p.path.with_suffix(".ass").name for p in plans}
    )
    _prune(audio_dir, {track.name})
    info = _video_info(out_path, started)
    info.encoded_pieces, info.reused_pieces = len(todo), len(plans) - len(todo)
    info.audio_reused = audio_reused
    if levels is not None:
        info.loudness_lufs, info.true_peak_dbtp = levels
    progress.complete()
    return info


def frame_count(duration: float, fps: int) -> int:
    return max(1, round(duration * fps))


# --- checks ---------------------------------------------------------------------------------


def _check_pieces(pieces: Sequence[RenderPiece]) -> list[float]:
    """Fail early, naming the piece (0-based index), before any encoding; return audio lengths."""
    if not pieces:
        raise MediaError("沒有可合成的片段 (no pieces to render)")
    return [_check_piece(index, piece) for index, piece in enumerate(pieces)]


def _check_piece(index: int, piece: RenderPiece) -> float:
    where = {"piece_index": index}
    if piece.image is None and piece.video is None:
        raise MediaError(
            f"第 {index} 段需要圖片或影片 (piece {index} needs an image or a video)", **where
        )
    if not (math.isfinite(piece.duration) and piece.duration > 0):
        raise MediaError(
            f"第 {index} 段長度無效 (piece {index} has invalid duration {piece.duration})",
            **where,
        )
    files = [("image", piece.image), ("video", piece.video), ("audio", piece.audio)]
    for kind, path in files:
        if path is not None and not Path(path).is_file():
            raise MediaError(
                f"第 {index} 段找不到{kind}檔 (piece {index}: {kind} file not found: {path})",
                path=str(path),
                **where,
            )
    try:
        return wav_duration(Path(piece.audio))
    except MediaError as exc:
        raise MediaError(
            f"第 {index} 段音訊無法讀取 (piece {index}: {exc.message})",
            path=str(piece.audio),
            **where,
        ) from exc


# --- planning and keys ----------------------------------------------------------------------


def _plan(
    pieces: Sequence[RenderPiece],
    frames: list[int],
    spoken: list[float],
    settings: RenderSettings,
    visual: VisualConfig,
    language: str,
    font_file: Path,
    clips_dir: Path,
) -> tuple[list[ClipPlan], list[Cue]]:
    fps = settings.fps
    want_fade = round(visual.crossfade * fps)
    fades = [0] + [_fade_frames(want_fade, frames[i - 1], frames[i]) for i in range(1, len(pieces))]
    # a piece's move runs over its own frames plus the fade that continues it
    spans = [frames[i] + (fades[i + 1] if i + 1 < len(pieces) else 0) for i in range(len(pieces))]
    visuals = [_visual(i, pieces, spans[i], visual) for i in range(len(pieces))]
    family = visual.subtitles.font_family or ass_font_family(font_file)
    font_id = _digest(font_file)
    logo = _logo_key(visual)
    plans, cues, offset = [], [], 0.0
    for i, piece in enumerate(pieces):
        length = frames[i] / fps
        style = _ass_style(visuals[i], visual, settings, family)
        max_chars = _max_chars(visual, style, settings, language)
        piece_cues, ass = piece_captions(
            piece.text,
            Path(piece.audio),
            min(spoken[i], length),
            language,
            max_chars,
            style,
            (settings.width, settings.height),
            _highlight(visual),
        )
        cues += [Cue(c.start + offset, c.end + offset, c.text) for c in piece_cues]
        offset += length
        tail = visuals[i - 1] if fades[i] else None
        material = {
            "version": RENDER_VERSION,
            "encoder": _encoder_args(frames[i], settings),
            "size": [settings.width, settings.height],
            "visual": _fingerprint(visuals[i]),
            "tail": _fingerprint(tail) if tail else None,
            "tail_start": frames[i - 1] if tail else 0,
            "fade": fades[i],
            "ass": ass,
            "font": font_id if ass else None,
            "logo": logo,
        }
        key = _hash(material)
        plans.append(
            ClipPlan(
                index=i,
                frames=frames[i],
                visual=visuals[i],
                tail=tail,
                tail_start=frames[i - 1] if tail else 0,
                fade=fades[i],
                ass=ass,
                key=key,
                path=clips_dir / f"{key}.mp4",
            )
        )
    return plans, cues


def _fade_frames(wanted: int, before: int, after: int) -> int:
    """The cross-fade may take at most a third of either piece; under 2 frames it is a cut."""
    frames = min(wanted, before // 3, after // 3)
    return frames if frames >= 2 else 0


def _visual(index: int, pieces: Sequence[RenderPiece], span: int, visual: VisualConfig) -> Visual:
    piece = pieces[index]
    if piece.video is None:
        assert piece.image is not None
        return _still(Path(piece.image), index, span, visual)
    avatar = Avatar(Path(piece.video), _digest(Path(piece.video)), _duration(Path(piece.video)))
    if visual.avatar.mode == "full":
        return avatar
    image = piece.image if piece.image is not None else _nearest_image(pieces, index)
    background = _still(Path(image), index, span, visual) if image is not None else None
    return Pip(avatar, background, visual.avatar.corner, visual.avatar.size, visual.avatar.margin)


def _still(image: Path, index: int, span: int, visual: VisualConfig) -> Still:
    return Still(image, _digest(image), visual.motion, index % 4, span)


def _nearest_image(pieces: Sequence[RenderPiece], index: int) -> Path | None:
    """The picture of the closest piece that has one (after the intro, before the outro)."""
    order = sorted(range(len(pieces)), key=lambda j: (abs(j - index), j < index))
    return next((pieces[j].image for j in order if pieces[j].image is not None), None)


def _ass_style(
    shown: Visual, visual: VisualConfig, settings: RenderSettings, family: str
) -> AssStyle:
    sub = visual.subtitles
    scale = settings.height / 1080
    side = round(60 * scale)
    margin_l = margin_r = side
    if isinstance(shown, Pip) and shown.corner.startswith(sub.position):
        reserved = round(settings.width * shown.size) + 2 * shown.margin
        if shown.corner.endswith("left"):
            margin_l = max(margin_l, reserved)
        else:
            margin_r = max(margin_r, reserved)
    style = AssStyle(
        font_family=family,
        font_size=round(sub.size * scale),
        primary=ass_color(sub.color),
        outline_colour=ass_color(sub.outline_color),
        back_colour=ass_color(sub.outline_color, alpha=0x80),
        outline=sub.outline * scale,
        shadow=sub.shadow * scale,
        alignment=2 if sub.position == "bottom" else 8,
        margin_l=margin_l,
        margin_r=margin_r,
        margin_v=round(sub.margin * scale),
    )
    if vertical.is_vertical(settings.width, settings.height):
        return vertical.caption_style(style, sub, settings.width, settings.height)
    return style


def _highlight(visual: VisualConfig) -> str | None:
    """Words mode: the ASS colour a spoken word takes; line mode: None."""
    sub = visual.subtitles
    return ass_color(sub.highlight_color) if sub.style == "words" else None


def _max_chars(
    visual: VisualConfig, style: AssStyle, settings: RenderSettings, language: str
) -> int:
    """The configured or language default, but never wider than the text area."""
    wanted = line_width(language, visual.subtitles.max_chars_per_line)
    em = 1.0 if is_cjk(language) else 0.52
    room = settings.width - style.margin_l - style.margin_r
    return max(4, min(wanted, int(room / (style.font_size * em))))


def _logo_key(visual: VisualConfig) -> dict[str, Any] | None:
    logo = visual.logo
    if logo.path is None:
        return None
    return {
        "digest": _digest(Path(logo.path)),
        "corner": logo.corner,
        "scale": logo.scale,
        "opacity": logo.opacity,
        "margin": logo.margin,
    }


def _sound_key(sound: SoundSpec, settings: RenderSettings) -> str:
    return _hash(
        {
            "version": RENDER_VERSION,
            "audio": [_digest(p) for p in sound.audio],
            "samples": sound.samples,
            "music": _digest(sound.music) if sound.music else None,
            "music_level": sound.music_level,
            "music_fade": sound.music_fade,
            "loudness": sound.loudness,
            "true_peak": sound.true_peak,
            "bitrate": sound.bitrate,
            "fps": settings.fps,
        }
    )


def _fingerprint(shown: Visual) -> dict[str, Any]:
    """The visual without file paths (contents are in the digests)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "path"}
        return value

    return {"type": type(shown).__name__, **strip(dataclasses.asdict(shown))}


def _hash(material: Any) -> str:
    text = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


_DIGESTS: dict[tuple[str, int, int], str] = {}
_DIGEST_LOCK = threading.Lock()


def _digest(path: Path) -> str:
    """Content hash, remembered per (path, size, mtime) for this process."""
    stat = path.stat()
    ident = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _DIGEST_LOCK:
        known = _DIGESTS.get(ident)
    if known is not None:
        return known
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _DIGEST_LOCK:
        _DIGESTS[ident] = value
    return value


_DURATIONS: dict[str, float] = {}


def _duration(video: Path) -> float:
    key = _digest(video)
    if key not in _DURATIONS:
        info = probe(video)
        if info.video is None:
            raise MediaError(f"影片沒有影像軌 (no video stream in {video})", path=str(video))
        _DURATIONS[key] = info.video.duration or info.duration
    return _DURATIONS[key]


def _fonts_dir(work_dir: Path, font: Path) -> Path:
    """A folder holding only our font, so libass loads nothing else."""
    if not font.is_file():
        raise MediaError(f"找不到字型檔 (font file not found: {font})", path=str(font))
    folder = work_dir / "fonts" / _digest(font)[:12]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / font.name
    if not target.exists():
        try:
            os.symlink(font, target)
        except OSError:
            shutil.copyfile(font, target)
    return folder


# --- the clip graph -------------------------------------------------------------------------


def _encode_clip(
    plan: ClipPlan,
    fonts: Path,
    settings: RenderSettings,
    visual: VisualConfig,
    progress: _Progress,
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
        out = stream.output(str(tmp), an=None, **_encoder_args(plan.frames, settings))
        stderr = run(out, step, on_frame)
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


def _even(value: float) -> int:
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
        big_w, big_h = _even(w * (1 + PAN_OVERSCAN)), _even(h * (1 + PAN_OVERSCAN))
        (x0, y0), (x1, y1) = _PAN_PATHS[still.variant % len(_PAN_PATHS)]
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
_PAN_PATHS = (
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


def _pip_stream(pip: Pip, start: int, frames: int, settings: RenderSettings) -> Any:
    w, h = settings.width, settings.height
    if pip.background is not None:
        background = _still_stream(pip.background, start, frames, settings)
    else:
        colour = f"color=c={PIP_BACKGROUND}:s={w}x{h}:r={settings.fps}"
        background = _input(colour, start, f="lavfi").video.filter("trim", end_frame=frames)
    background = _rate(background, settings.fps)
    box_w = _even(w * pip.size)
    box = (box_w, _even(box_w * h / w))
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
    width = _even(settings.width * logo.scale)
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


def _encoder_args(frames: int, settings: RenderSettings) -> dict[str, Any]:
    """Identical for every clip, so the clips can be joined with -c copy."""
    args: dict[str, Any] = {
        "frames:v": frames,
        "r": settings.fps,
        "vcodec": "libx264",
        "preset": settings.preset,
        "crf": settings.crf,
        "pix_fmt": "yuv420p",
        "colorspace": "bt709",
        "color_primaries": "bt709",
        "color_trc": "bt709",
        "video_track_timescale": 15360,
        "f": "mp4",
    }
    if settings.threads:
        args["threads"] = settings.threads
    if settings.x264_params:
        args["x264-params"] = settings.x264_params
    return args


# --- sound, join, checks --------------------------------------------------------------------


def _make_audio(
    sound: SoundSpec, track: Path, audio_dir: Path, progress: _Progress, units: float
) -> tuple[float, float]:
    def on_step(fraction: float) -> None:
        progress.set_partial("audio", units * fraction, emit=False)

    level = make_track(sound, track, audio_dir / "scratch", on_step)
    progress.finish("audio", units, emit=False)
    atomic_write_text(
        track.with_suffix(".json"),
        json.dumps({"loudness": level.integrated, "true_peak": level.true_peak}),
    )
    return level.integrated, level.true_peak


def _loudness_memo(track: Path) -> tuple[float, float] | None:
    try:
        data = json.loads(track.with_suffix(".json").read_text("utf-8"))
        return float(data["loudness"]), float(data["true_peak"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _join(clips: list[Path], track: Path, out_path: Path, work_dir: Path, expected: float) -> None:
    """Concatenate the clips and add the AAC track, both without re-encoding."""
    listing = work_dir / "clips.txt"
    atomic_write_text(listing, "".join(f"file 'clips/{clip.name}'\n" for clip in clips))
    video = ffmpeg.input(str(listing), f="concat", safe=0).video
    audio = ffmpeg.input(str(track)).audio
    with atomic_output(out_path) as tmp:
        out = ffmpeg.output(
            video, audio, str(tmp), vcodec="copy", acodec="copy", movflags="+faststart", f="mp4"
        )
        run(out, "mux")
        _check_output(tmp, expected)


def _check_output(path: Path, expected: float) -> None:
    """Both streams present, of the right and the same length."""
    info = probe(path)
    if info.video is None or info.audio is None:
        raise MediaError(
            "輸出影片缺少影像或音訊 (output lacks a video or audio stream)",
            video_streams=info.video_streams,
            audio_streams=info.audio_streams,
        )
    if abs(info.duration - expected) > 0.1:
        raise MediaError(
            f"輸出影片長度不符 (output is {info.duration:.3f}s, expected {expected:.3f}s)",
            duration=info.duration,
            expected=expected,
        )
    video_s, audio_s = info.video.duration, info.audio.duration
    if video_s is not None and audio_s is not None and abs(video_s - audio_s) > 0.1:
        raise MediaError(
            f"影音長度不一致 (video {video_s:.3f}s, audio {audio_s:.3f}s)",
            video_duration=video_s,
            audio_duration=audio_s,
        )


def _prune(folder: Path, keep: set[str]) -> None:
    """Drop cached clips/tracks this render did not use (keeps work_dir from growing)."""
    for path in folder.iterdir():
        if KEY.match(path.name) and path.name not in keep:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)


def _video_info(path: Path, started: float) -> VideoInfo:
    info = probe(path)
    assert info.video is not None and info.audio is not None
    return VideoInfo(
        path=path,
        duration=info.duration,
        width=info.video.width,
        height=info.video.height,
        fps=info.video.fps,
        video_codec=info.video.codec,
        audio_codec=info.audio.codec,
        file_size=path.stat().st_size,
        render_time=round(time.monotonic() - started, 3),
    )
