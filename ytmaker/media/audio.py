"""The sound track: narration placed per piece, optional looped music under it, then measured
gain + a peak limiter to the loudness target (EBU R128 integrated, true peak below the ceiling),
encoded once to AAC."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from ytmaker.errors import MediaError
from ytmaker.files import atomic_output, atomic_write_text
from ytmaker.media.duck import ENVELOPE_RATE, write_envelope
from ytmaker.media.probe import wav_duration
from ytmaker.media.runner import run

SAMPLE_RATE = 48000
SILENT = -60.0  # LUFS below which there is nothing to normalise
LIMITER_HEADROOM = 1.0  # dB between the sample-peak limit and the true-peak ceiling (AAC overshoot)
TOLERANCE = 0.5  # LU: re-adjust the gain once if the limiter pulled the level further than this


@dataclass
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP


@dataclass
class SoundSpec:
    """What the track is made of; everything that changes the result is in here."""

    audio: list[Path]  # one narration file per piece
    samples: list[int]  # each piece's length in samples at SAMPLE_RATE
    music: Path | None = None
    music_level: float = -20.0
    music_fade: float = 2.0
    duck: bool = False  # lower the music while the narration speaks
    duck_db: float = 12.0
    duck_gap: float = 0.6  # s: shorter pauses stay ducked
    loudness: float = -14.0
    true_peak: float = -1.0
    bitrate: str = "192k"


def piece_samples(frames: Sequence[int], fps: int) -> list[int]:
    """Samples per piece so that the narration ends exactly with the last frame."""
    out, done = [], 0
    for count in frames:
        begin, done = done, done + count
        out.append(done * SAMPLE_RATE // fps - begin * SAMPLE_RATE // fps)
    return out


def make_track(
    spec: SoundSpec,
    out: Path,
    scratch: Path,
    on_step: Callable[[float], None] | None = None,
) -> Loudness:
    """Write the AAC track to `out` (atomic) and return the loudness it was mastered to."""
    scratch.mkdir(parents=True, exist_ok=True)
    step = on_step or (lambda _fraction: None)
    narration = narration_wav(spec, scratch / "narration.wav")
    step(0.15)
    total = sum(spec.samples) / SAMPLE_RATE
    voice = measure(narration, "loudness", total)
    mix, level = narration, voice
    if spec.music is not None:
        mix = _with_music(spec, narration, voice, scratch)
        level = measure(mix, "loudness", total)
    step(0.35)
    master = scratch / "master.wav"
    gain = spec.loudness - level.integrated if level.integrated > SILENT else 0.0
    result = _master(mix, master, gain, spec.true_peak, total)
    if level.integrated > SILENT and abs(result.integrated - spec.loudness) > TOLERANCE:
        gain += spec.loudness - result.integrated
        result = _master(mix, master, gain, spec.true_peak, total)
    step(0.6)
    with atomic_output(out) as tmp:
        run(
            ffmpeg.input(str(master)).output(
                str(tmp), acodec="aac", audio_bitrate=spec.bitrate, ar=SAMPLE_RATE, f="mp4"
            ),
            "audio",
            media_seconds=total,
        )
    for path in (narration, mix, master):
        path.unlink(missing_ok=True)
    step(1.0)
    return result


def narration_wav(spec: SoundSpec, out: Path) -> Path:
    """All narration as one 48 kHz stereo WAV; each piece padded/trimmed to its length."""
    parts = [
        ffmpeg.input(str(path))
        .audio.filter("aresample", SAMPLE_RATE)
        .filter("aformat", sample_fmts="s16", channel_layouts="stereo")
        .filter("apad", whole_len=samples)
        .filter("atrim", end_sample=samples)
        for path, samples in zip(spec.audio, spec.samples, strict=True)
    ]
    joined = ffmpeg.concat(*parts, v=0, a=1) if len(parts) > 1 else parts[0]
    out_stream = joined.output(str(out), acodec="pcm_s16le", ar=SAMPLE_RATE, f="wav")
    run(out_stream, "narration", media_seconds=sum(spec.samples) / SAMPLE_RATE)
    return out


def _with_music(spec: SoundSpec, narration: Path, voice: Loudness, scratch: Path) -> Path:
    """Narration plus the music looped, faded and set `music_level` LU under the voice."""
    assert spec.music is not None
    music = music_loudness(spec.music, scratch)
    reference = voice.integrated if voice.integrated > SILENT else spec.loudness
    gain = reference + spec.music_level - music.integrated if music.integrated > SILENT else 0.0
    total = sum(spec.samples) / SAMPLE_RATE
    fade = min(spec.music_fade, total / 4)
    bed = (
        ffmpeg.input(str(spec.music), stream_loop=-1)
        .audio.filter("aresample", SAMPLE_RATE)
        .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
        .filter("atrim", end_sample=sum(spec.samples))
        .filter("volume", f"{gain:.2f}dB")
    )
    if fade > 0:
        bed = bed.filter("afade", t="in", d=fade).filter(
            "afade", t="out", st=max(total - fade, 0), d=fade
        )
    if spec.duck and spec.duck_db > 0:
        bed = _ducked(bed, spec, narration, total, scratch / "duck.f32")
    voice_stream = ffmpeg.input(str(narration)).audio
    mixed = ffmpeg.filter([voice_stream, bed], "amix", inputs=2, duration="first", normalize=0)
    out = scratch / "mix.wav"
    out_stream = mixed.output(str(out), acodec="pcm_f32le", ar=SAMPLE_RATE, f="wav")
    run(out_stream, "music", media_seconds=total)
    (scratch / "duck.f32").unlink(missing_ok=True)
    return out


def _ducked(bed: Any, spec: SoundSpec, narration: Path, total: float, path: Path) -> Any:
    """The music bed multiplied by the gain envelope made from the narration's spans."""
    write_envelope(narration, path, total, spec.duck_db, spec.duck_gap)
    gains = (
        ffmpeg.input(str(path), f="f32le", ar=ENVELOPE_RATE, ac=1)
        .audio.filter("aresample", SAMPLE_RATE)
        .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
    )
    return ffmpeg.filter([bed, gains], "amultiply")


def music_loudness(music: Path, scratch: Path) -> Loudness:
    """The music file's loudness, remembered beside the scratch files by name, size and time."""
    stat = music.stat()
    memo = scratch / "music-loudness.json"
    ident = [str(music.resolve()), stat.st_size, stat.st_mtime_ns]
    try:
        saved = json.loads(memo.read_text("utf-8"))
        if saved["ident"] == ident:
            return Loudness(saved["integrated"], saved["true_peak"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    level = measure(music, "music", wav_duration(music))
    atomic_write_text(
        memo,
        json.dumps({"ident": ident, "integrated": level.integrated, "true_peak": level.true_peak}),
    )
    return level


def _master(source: Path, out: Path, gain: float, true_peak: float, seconds: float) -> Loudness:
    ceiling = 10 ** ((true_peak - LIMITER_HEADROOM) / 20)
    chain = (
        ffmpeg.input(str(source))
        .audio.filter("volume", f"{gain:.3f}dB")
        .filter(
            "alimiter",
            limit=f"{ceiling:.4f}",
            attack=1,
            release=40,
            level="false",
            latency="true",
        )
    )
    out_stream = chain.output(str(out), acodec="pcm_f32le", ar=SAMPLE_RATE, f="wav")
    run(out_stream, "loudness", media_seconds=seconds)
    return measure(out, "loudness", seconds)


_SUMMARY = re.compile(r"Summary:(.*)", re.S)
_INTEGRATED = re.compile(r"\bI:\s*(-?inf|-?[\d.]+)\s*LUFS")
_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?inf|-?[\d.]+)\s*dBFS")


def measure(path: Path, step: str = "loudness", seconds: float | None = None) -> Loudness:
    """Integrated loudness and true peak of a file's first audio stream (FFmpeg ebur128);
    `seconds`: its length, if known (the call's time limit)."""
    stream = ffmpeg.input(str(path)).audio.filter("ebur128", peak="true", framelog="quiet")
    length = wav_duration(path) if seconds is None else seconds
    stderr = run(stream.output("-", f="null"), step, loglevel="info", media_seconds=length)
    return parse_ebur128(stderr, step)


def parse_ebur128(stderr: str, step: str = "loudness") -> Loudness:
    summary = _SUMMARY.search(stderr)
    text = summary.group(1) if summary else ""
    integrated, peak = _INTEGRATED.search(text), _PEAK.search(text)
    if not integrated or not peak:
        raise MediaError(
            f"無法測量音量 (could not measure loudness at {step})", step=step, ffmpeg_stderr=text
        )
    return Loudness(_number(integrated.group(1)), _number(peak.group(1)))


def _number(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else -120.0
