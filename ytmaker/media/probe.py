"""Look inside media files with PyAV (the bundled static ffmpeg ships no ffprobe).

PyAV and Pillow are imported on first use: a render process stays small while FFmpeg encodes."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ytmaker.errors import MediaError

if TYPE_CHECKING:
    import av
    from PIL import Image


@dataclass
class VideoStream:
    codec: str
    width: int
    height: int
    fps: float
    pix_fmt: str | None
    duration: float | None
    frames: int | None


@dataclass
class AudioStream:
    codec: str
    sample_rate: int
    channels: int
    duration: float | None


@dataclass
class MediaInfo:
    duration: float
    video: VideoStream | None
    audio: AudioStream | None
    video_streams: int
    audio_streams: int


def _open(path: Path) -> av.container.InputContainer:
    import av

    try:
        return av.open(str(path))
    except (OSError, av.FFmpegError) as exc:
        raise MediaError(
            f"無法讀取媒體檔 (cannot open media file {path}): {exc}", path=str(path)
        ) from exc


def _stream_seconds(stream: av.stream.Stream) -> float | None:
    if stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * stream.time_base)


def _video_stream(stream: av.video.stream.VideoStream) -> VideoStream:
    ctx = stream.codec_context
    rate = stream.average_rate or stream.base_rate or stream.guessed_rate
    return VideoStream(
        codec=ctx.name,
        width=ctx.width,
        height=ctx.height,
        fps=float(rate) if rate else 0.0,
        pix_fmt=ctx.format.name if ctx.format else None,
        duration=_stream_seconds(stream),
        frames=stream.frames or None,
    )


def _audio_stream(stream: av.audio.stream.AudioStream) -> AudioStream:
    ctx = stream.codec_context
    return AudioStream(
        codec=ctx.name,
        sample_rate=ctx.sample_rate,
        channels=ctx.channels,
        duration=_stream_seconds(stream),
    )


def probe(path: Path) -> MediaInfo:
    """Container duration plus the first video and first audio stream."""
    import av

    with _open(path) as container:
        videos = list(container.streams.video)
        audios = list(container.streams.audio)
        duration = container.duration / av.time_base if container.duration else 0.0
        return MediaInfo(
            duration=float(duration),
            video=_video_stream(videos[0]) if videos else None,
            audio=_audio_stream(audios[0]) if audios else None,
            video_streams=len(videos),
            audio_streams=len(audios),
        )


def frame_at(path: Path, seconds: float) -> Image.Image:
    """The decoded frame whose timestamp is nearest to `seconds`."""
    import av

    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"沒有影像軌 (no video stream in {path})", path=str(path))
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        container.seek(int(max(seconds, 0.0) * av.time_base), backward=True, any_frame=False)
        best, best_gap = None, float("inf")
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            gap = abs(frame.time - seconds)
            if gap < best_gap:
                best, best_gap = frame, gap
            if frame.time > seconds:
                break
        if best is None:
            raise MediaError(
                f"無法解碼影格 (no frame near {seconds:.3f}s in {path})", path=str(path)
            )
        return best.to_image()


def wav_duration(path: Path) -> float:
    """Length of an audio file in seconds; fast path for PCM WAV, PyAV for everything else."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError):
        pass
    except OSError as exc:
        raise MediaError(
            f"無法讀取音訊檔 (cannot read audio file {path}): {exc}", path=str(path)
        ) from exc
    info = probe(path)
    if info.audio is None:
        raise MediaError(f"沒有音訊軌 (no audio stream in {path})", path=str(path))
    return info.audio.duration or info.duration
