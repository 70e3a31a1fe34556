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
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from ytmaker.errors import MediaError
from ytmaker.files import atomic_write_text
from ytmaker.media.audio import SoundSpec, piece_samples
from ytmaker.media.fonts import font_path
from ytmaker.media.probe import probe
from ytmaker.media.render.finish import join, loudness_memo, make_audio, prune, video_info
from ytmaker.media.render.graph import encode_clip
from ytmaker.media.render.plan import (
    PAN_OVERSCAN,
    RENDER_VERSION,
    ClipPlan,
    RenderPiece,
    RenderSettings,
    VideoInfo,
    check_pieces,
    fonts_dir,
    frame_count,
    plan_clips,
    sound_key,
)
from ytmaker.media.render.progress import AUDIO_WEIGHT, MUX_WEIGHT, RenderProgress
from ytmaker.media.subtitles import to_srt
from ytmaker.media.visual import VisualConfig

log = logging.getLogger(__name__)
CLIP_TOLERANCE = 0.1  # seconds: a clip or track of the planned length, give or take a frame

__all__ = [
    "PAN_OVERSCAN",
    "RENDER_VERSION",
    "RenderPiece",
    "RenderSettings",
    "VideoInfo",
    "frame_count",
    "render_video",
]


def _sound_clip(plan: ClipPlan, settings: RenderSettings) -> bool:
    """A clip encoded by an earlier render is reused only if it still holds its frames: a
    truncated or overwritten one is deleted (and encoded again) with a warning naming it."""
    if not plan.path.exists():
        return False
    why = _clip_damage(plan.path, plan.frames / settings.fps, video=True)
    if why is None:
        return True
    log.warning("Piece %d: the rendered clip %s %s; encoding it again", plan.index, plan.path, why)
    plan.path.unlink(missing_ok=True)
    return False


def _sound_track(track: Path, seconds: float) -> bool:
    if not track.exists():
        return False
    why = _clip_damage(track, seconds, video=False)
    if why is None:
        return True
    log.warning("The sound track %s %s; making it again", track, why)
    track.unlink(missing_ok=True)
    return False


def _clip_damage(path: Path, seconds: float, *, video: bool) -> str | None:
    """What is wrong with a cached clip or track (None: sound): it must open, hold its stream
    and last as long as planned (within a frame or two)."""
    try:
        info = probe(path)
    except MediaError as exc:
        return f"cannot be read ({exc.message})"
    stream = info.video if video else info.audio
    if stream is None:
        return f"has no {'video' if video else 'audio'} stream"
    length = stream.duration or info.duration
    if abs(length - seconds) > CLIP_TOLERANCE:
        return f"lasts {length:.3f}s instead of {seconds:.3f}s"
    return None


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
    spoken = check_pieces(pieces)
    clips_dir, audio_dir = work_dir / "clips", work_dir / "audio"
    for folder in (clips_dir, audio_dir):
        folder.mkdir(parents=True, exist_ok=True)
    frames = [frame_count(piece.duration, settings.fps) for piece in pieces]
    font_file = Path(visual.subtitles.font_file or font_path())
    fonts = fonts_dir(work_dir, font_file)
    plans, cues = plan_clips(
        pieces, frames, spoken, settings, visual, language, font_file, clips_dir
    )
    todo = list({plan.path: plan for plan in plans if not _sound_clip(plan, settings)}.values())

    sound = SoundSpec(
        audio=[Path(p.audio) for p in pieces],
        samples=piece_samples(frames, settings.fps),
        music=visual.music.path,
        music_level=visual.music.level_db,
        music_fade=visual.music.fade,
        duck=visual.music.duck,
        duck_db=visual.music.duck_db,
        duck_gap=visual.music.duck_gap,
        loudness=visual.loudness,
        true_peak=visual.true_peak,
        bitrate=settings.audio_bitrate,
    )
    track = audio_dir / f"{sound_key(sound, settings)}.m4a"
    audio_reused = _sound_track(track, sum(frames) / settings.fps)
    total_frames = sum(frames)
    audio_units = 0.0 if audio_reused else AUDIO_WEIGHT * total_frames
    progress = RenderProgress(
        on_progress, sum(p.frames for p in todo) + audio_units + MUX_WEIGHT * total_frames
    )
    levels = loudness_memo(track)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ytmaker-audio") as pool:
        future: Future | None = None
        if not audio_reused:
            run = contextvars.copy_context().run  # the stage's deadline goes with it
            future = pool.submit(run, make_audio, sound, track, audio_dir, progress, audio_units)
        try:
            for plan in todo:
                encode_clip(plan, fonts, settings, visual, progress)
        finally:
            if future is not None:
                while not wait([future], timeout=0.25).done:
                    progress.pump()
                levels = future.result()  # an audio failure surfaces here
        progress.pump()

    join([p.path for p in plans], track, out_path, work_dir, total_frames / settings.fps)
    atomic_write_text(out_path.with_suffix(".srt"), to_srt(cues))
    prune(
        clips_dir, {p.path.name for p in plans} | {p.path.with_suffix(".ass").name for p in plans}
    )
    prune(audio_dir, {track.name})
    info = video_info(out_path, started)
    info.encoded_pieces, info.reused_pieces = len(todo), len(plans) - len(todo)
    info.audio_reused = audio_reused
    if levels is not None:
        info.loudness_lufs, info.true_peak_dbtp = levels
    progress.complete()
    return info
