"""What each clip shows and the key that names it: a clip is encoded again only when
something that shapes it changed (file contents, text, timing, style, encoder settings)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ytmaker.errors import MediaError
from ytmaker.media import duck, vertical
from ytmaker.media.audio import SoundSpec
from ytmaker.media.karaoke import piece_captions
from ytmaker.media.probe import probe, wav_duration
from ytmaker.media.subtitles import (
    AssStyle,
    Cue,
    ass_font_family,
    is_cjk,
    line_width,
)
from ytmaker.media.visual import VisualConfig, ass_color

log = logging.getLogger(__name__)

RENDER_VERSION = 2  # bump when the clip graph changes: cached clips are then re-encoded
MISSING_GLYPH = "failed to find any fallback with glyph"
TRUNCATED = "partial file"  # FFmpeg decodes what there is of a cut-off MP4, then says this
PAN_OVERSCAN = 0.08  # the picture is enlarged 8% and the frame travels across the excess
ZOOM_RANGE = 0.10  # zoom: 1.0 -> 1.1 (or back)
PIP_BACKGROUND = "0x101820"
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
    clip: Path | None = None  # moving footage shown instead of `image` (its sound dropped)


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


@dataclass(frozen=True)
class Footage:
    """A video clip in place of a still: trimmed to the piece, looped when shorter, cropped
    to fill the frame."""

    path: Path
    digest: str
    duration: float


Visual = Still | Avatar | Pip | Footage


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


def frame_count(duration: float, fps: int) -> int:
    return max(1, round(duration * fps))


# --- checks ---------------------------------------------------------------------------------


def check_pieces(pieces: Sequence[RenderPiece]) -> list[float]:
    """Fail early, naming the piece (0-based index), before any encoding; return audio lengths."""
    if not pieces:
        raise MediaError("沒有可合成的片段 (no pieces to render)")
    return [_check_piece(index, piece) for index, piece in enumerate(pieces)]


def _check_piece(index: int, piece: RenderPiece) -> float:
    where: dict[str, Any] = {"piece_index": index}
    if piece.image is None and piece.video is None and piece.clip is None:
        raise MediaError(
            f"第 {index} 段需要圖片或影片 (piece {index} needs an image or a video)", **where
        )
    if not (math.isfinite(piece.duration) and piece.duration > 0):
        raise MediaError(
            f"第 {index} 段長度無效 (piece {index} has invalid duration {piece.duration})",
            **where,
        )
    files = [
        ("image", piece.image),
        ("video", piece.video),
        ("clip", piece.clip),
        ("audio", piece.audio),
    ]
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


def plan_clips(
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
    fades = [0] + [fade_frames(want_fade, frames[i - 1], frames[i]) for i in range(1, len(pieces))]
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
            "encoder": encoder_args(frames[i], settings),
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


def fade_frames(wanted: int, before: int, after: int) -> int:
    """The cross-fade may take at most a third of either piece; under 2 frames it is a cut."""
    frames = min(wanted, before // 3, after // 3)
    return frames if frames >= 2 else 0


def _visual(index: int, pieces: Sequence[RenderPiece], span: int, visual: VisualConfig) -> Visual:
    piece = pieces[index]
    if piece.video is None and piece.clip is not None:
        clip = Path(piece.clip)
        return Footage(clip, _digest(clip), _duration(clip))
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


def sound_key(sound: SoundSpec, settings: RenderSettings) -> str:
    material: dict[str, Any] = {
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
    if sound.music and sound.duck and sound.duck_db > 0:  # tracks without it keep their keys
        material["duck"] = [sound.duck_db, sound.duck_gap, duck.RAMP, duck.SILENCE_DB]
    return _hash(material)


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


def fonts_dir(work_dir: Path, font: Path) -> Path:
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


def encoder_args(frames: int, settings: RenderSettings) -> dict[str, Any]:
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
