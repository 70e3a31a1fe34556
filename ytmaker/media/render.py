"""Render the final MP4: one frame-exact clip per piece, one narration WAV, joined without
re-encoding the video (measured to be the robust way to keep audio and video in sync)."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg
from imageio_ffmpeg import get_ffmpeg_exe

from ytmaker.errors import MediaError
from ytmaker.files import atomic_output, atomic_write_text
from ytmaker.media.fonts import font_path
from ytmaker.media.probe import probe, wav_duration
from ytmaker.media.subtitles import Cue, ass_font_family, split_cues, to_ass, to_srt

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
ENCODE_SHARE = 0.9  # of on_progress: the clips; the rest is narration + mux
STDERR_TAIL = 15
FFMPEG_GLOBALS = [
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-loglevel",
    "warning",
    "-progress",
    "pipe:1",
]
MISSING_GLYPH = "failed to find any fallback with glyph"


@dataclass
class RenderPiece:
    """A still `image` or an avatar `video` (its audio ignored) shown for `duration` seconds."""

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
    font_size: int = 54


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

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "path": str(self.path)}


class _Progress:
    """Turns frames encoded into a monotonic 0..1 fraction for on_progress."""

    def __init__(self, callback: Callable[[float], None] | None, total_frames: int) -> None:
        self.callback = callback
        self.total = max(total_frames, 1)
        self.done = 0
        self.last = 0.0

    def frames(self, current: int) -> None:
        self.report(ENCODE_SHARE * min(self.done + current, self.total) / self.total)

    def piece_done(self, frames: int) -> None:
        self.done += frames
        self.frames(0)

    def report(self, fraction: float) -> None:
        fraction = min(max(fraction, self.last), 1.0)
        if self.callback is not None and (fraction > self.last or fraction == 1.0):
            self.last = fraction
            self.callback(fraction)


def render_video(
    pieces: Sequence[RenderPiece],
    out_path: Path,
    work_dir: Path,
    settings: RenderSettings | None = None,
    on_progress: Callable[[float], None] | None = None,
    language: str = "zh-TW",
) -> VideoInfo:
    """Render `pieces` in order into `out_path` (atomic) plus a same-stem .srt beside it."""
    started = time.monotonic()
    settings = settings or RenderSettings()
    out_path, work_dir = Path(out_path), Path(work_dir)
    spoken = _check_pieces(pieces)
    work_dir.mkdir(parents=True, exist_ok=True)
    frames = [frame_count(piece.duration, settings.fps) for piece in pieces]
    progress = _Progress(on_progress, sum(frames))
    fonts = _fonts_dir(work_dir)
    clips, cues, offset = [], [], 0.0
    for index, piece in enumerate(pieces):
        length = frames[index] / settings.fps
        piece_cues = split_cues(piece.text, 0.0, min(spoken[index], length), language)
        clips.append(
            _piece_clip(
                index, piece, frames[index], piece_cues, fonts, work_dir, settings, progress
            )
        )
        cues += [Cue(c.start + offset, c.end + offset, c.text) for c in piece_cues]
        offset += length
        progress.piece_done(frames[index])
    narration = _narration(pieces, frames, settings.fps, work_dir / "narration.wav")
    progress.report(ENCODE_SHARE + (1 - ENCODE_SHARE) / 2)
    _join(clips, narration, out_path, work_dir, settings, sum(frames) / settings.fps)
    atomic_write_text(out_path.with_suffix(".srt"), to_srt(cues))
    info = _video_info(out_path, started)
    progress.report(1.0)
    return info


def frame_count(duration: float, fps: int) -> int:
    return max(1, round(duration * fps))


def _check_pieces(pieces: Sequence[RenderPiece]) -> list[float]:
    """Fail early, naming the piece (0-based index), before any encoding; return audio lengths."""
    if not pieces:
        raise MediaError("沒有可合成的片段 (no pieces to render)")
    return [_check_piece(index, piece) for index, piece in enumerate(pieces)]


def _check_piece(index: int, piece: RenderPiece) -> float:
    where = {"piece_index": index}
    if (piece.image is None) == (piece.video is None):
        raise MediaError(
            f"第 {index} 段需要圖片或影片其中之一 (piece {index} needs exactly one "
            "of image or video)",
            **where,
        )
    if not (math.isfinite(piece.duration) and piece.duration > 0):
        raise MediaError(
            f"第 {index} 段長度無效 (piece {index} has invalid duration {piece.duration})", **where
        )
    visual = ("image", piece.image) if piece.image is not None else ("video", piece.video)
    for kind, path in (visual, ("audio", piece.audio)):
        if not Path(path).is_file():
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


def _fonts_dir(work_dir: Path) -> Path:
    """A folder holding only our font, so libass loads nothing else from the font package."""
    folder = work_dir / "fonts"
    folder.mkdir(exist_ok=True)
    source = font_path()
    target = folder / source.name
    if not target.exists():
        try:
            os.symlink(source, target)
        except OSError:
            shutil.copyfile(source, target)
    return folder


def _piece_clip(
    index: int,
    piece: RenderPiece,
    frames: int,
    cues: list[Cue],
    fonts: Path,
    work_dir: Path,
    settings: RenderSettings,
    progress: _Progress,
) -> Path:
    ass = work_dir / f"piece_{index:04d}.ass"
    atomic_write_text(
        ass, to_ass(cues, settings.width, settings.height, ass_font_family(), settings.font_size)
    )
    clip = work_dir / f"piece_{index:04d}.mp4"
    source = (
        _still(piece.image, frames, settings) if piece.image else _avatar(piece.video, settings)
    )
    burned = source.filter("subtitles", filename=str(ass), fontsdir=str(fonts))
    out = burned.output(str(clip), an=None, **_encoder_args(frames, settings))
    stderr = _run(out, f"piece {index}", progress.frames)
    if MISSING_GLYPH in stderr:
        log.warning("piece %d: some subtitle characters are missing from the font", index)
    return clip


def _fit(stream: Any, settings: RenderSettings) -> Any:
    """Scale to fit inside the frame, pad with black, convert to BT.709 yuv420p once."""
    w, h = settings.width, settings.height
    return (
        stream.filter(
            "scale",
            w,
            h,
            force_original_aspect_ratio="decrease",
            force_divisible_by=2,
            out_color_matrix="bt709",
            out_range="tv",
        )
        .filter("pad", w, h, "(ow-iw)/2", "(oh-ih)/2", color="black")
        .filter("setsar", 1)
        .filter("format", "yuv420p")
    )


def _still(image: Path, frames: int, settings: RenderSettings) -> Any:
    """Decode and scale the image once, then repeat that frame in memory."""
    fitted = _fit(ffmpeg.input(str(image)).video, settings)
    return fitted.filter("loop", loop=frames - 1, size=1, start=0).filter(
        "setpts", f"N/({settings.fps}*TB)"
    )


def _avatar(video: Path, settings: RenderSettings) -> Any:
    """Resample to the output rate; hold the last frame if the avatar is shorter than needed."""
    src = ffmpeg.input(str(video)).video.filter("setpts", "PTS-STARTPTS")
    fitted = _fit(src.filter("fps", settings.fps), settings)
    return fitted.filter("tpad", stop_mode="clone", stop=-1)


def _encoder_args(frames: int, settings: RenderSettings) -> dict[str, Any]:
    """Identical for every clip, so the clips can be joined with -c copy."""
    return {
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


def _narration(pieces: Sequence[RenderPiece], frames: list[int], fps: int, out: Path) -> Path:
    """All narration as one 48 kHz stereo WAV; each piece padded/trimmed to its frame length."""
    parts, done = [], 0
    for piece, count in zip(pieces, frames, strict=True):
        begin, done = done, done + count
        samples = done * SAMPLE_RATE // fps - begin * SAMPLE_RATE // fps
        parts.append(
            ffmpeg.input(str(piece.audio))
            .audio.filter("aresample", SAMPLE_RATE)
            .filter("aformat", sample_fmts="s16", channel_layouts="stereo")
            .filter("apad", whole_len=samples)
            .filter("atrim", end_sample=samples)
        )
    joined = ffmpeg.concat(*parts, v=0, a=1)
    _run(joined.output(str(out), acodec="pcm_s16le", ar=SAMPLE_RATE, f="wav"), "narration")
    return out


def _join(
    clips: list[Path],
    narration: Path,
    out_path: Path,
    work_dir: Path,
    settings: RenderSettings,
    expected: float,
) -> None:
    """Concatenate the clips without re-encoding and add the narration encoded once to AAC."""
    listing = work_dir / "clips.txt"
    atomic_write_text(listing, "".join(f"file '{clip.name}'\n" for clip in clips))
    video = ffmpeg.input(str(listing), f="concat", safe=0).video
    audio = ffmpeg.input(str(narration)).audio
    with atomic_output(out_path) as tmp:
        out = ffmpeg.output(
            video,
            audio,
            str(tmp),
            vcodec="copy",
            acodec="aac",
            audio_bitrate=settings.audio_bitrate,
            movflags="+faststart",
            f="mp4",
        )
        _run(out, "mux")
        _check_output(tmp, expected)


def _run(stream: Any, step: str, on_frame: Callable[[int], None] | None = None) -> str:
    """Run one FFmpeg command; report `frame=` progress lines; return stderr."""
    cmd = ffmpeg.compile(stream, cmd=get_ffmpeg_exe(), overwrite_output=True)
    cmd = [cmd[0], *FFMPEG_GLOBALS, *cmd[1:]]
    log.debug("ffmpeg %s: %s", step, cmd)
    with tempfile.TemporaryFile() as err:
        code = _watch(cmd, err, on_frame)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if code != 0:
        raise MediaError(
            f"影片合成失敗 (FFmpeg failed at {step}, exit code {code})",
            step=step,
            ffmpeg_stderr=_tail(stderr),
            exit_code=code,
        )
    return stderr


def _watch(cmd: list[str], err: Any, on_frame: Callable[[int], None] | None) -> int:
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    except OSError as exc:
        raise MediaError(f"無法啟動 FFmpeg (cannot start ffmpeg: {exc})") from exc
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("ascii", "replace").strip()
            if on_frame is not None and line.startswith("frame=") and line[6:].isdigit():
                on_frame(int(line[6:]))
        return proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _tail(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_TAIL:])


def _check_output(path: Path, expected: float) -> None:
    """Both streams present and the length right (AAC frames may add a few ms at the end)."""
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
