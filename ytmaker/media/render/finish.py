"""The sound track, the join of the clips with the track (no re-encode), and the checks of
the finished file."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import ffmpeg

from ytmaker.errors import MediaError
from ytmaker.files import atomic_output, atomic_write_text
from ytmaker.media.audio import SoundSpec, make_track
from ytmaker.media.probe import probe
from ytmaker.media.render.plan import KEY, VideoInfo
from ytmaker.media.render.progress import RenderProgress
from ytmaker.media.runner import run

log = logging.getLogger(__name__)

# --- sound, join, checks --------------------------------------------------------------------


def make_audio(
    sound: SoundSpec, track: Path, audio_dir: Path, progress: RenderProgress, units: float
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


def loudness_memo(track: Path) -> tuple[float, float] | None:
    try:
        data = json.loads(track.with_suffix(".json").read_text("utf-8"))
        return float(data["loudness"]), float(data["true_peak"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def join(clips: list[Path], track: Path, out_path: Path, work_dir: Path, expected: float) -> None:
    """Concatenate the clips and add the AAC track, both without re-encoding."""
    listing = work_dir / "clips.txt"
    atomic_write_text(listing, "".join(f"file 'clips/{clip.name}'\n" for clip in clips))
    video = ffmpeg.input(str(listing), f="concat", safe=0).video
    audio = ffmpeg.input(str(track)).audio
    with atomic_output(out_path) as tmp:
        out = ffmpeg.output(
            video, audio, str(tmp), vcodec="copy", acodec="copy", movflags="+faststart", f="mp4"
        )
        run(out, "mux", media_seconds=expected)
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


def prune(folder: Path, keep: set[str]) -> None:
    """Drop cached clips/tracks this render did not use (keeps work_dir from growing)."""
    for path in folder.iterdir():
        if KEY.match(path.name) and path.name not in keep:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)


def video_info(path: Path, started: float) -> VideoInfo:
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
