"""Music ducks under the voice: measured with FFmpeg on the rendered MP4."""

from __future__ import annotations

import math
import re
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.test_media import FAST, make_png
from ytmaker.media.audio import measure
from ytmaker.media.duck import speech_spans
from ytmaker.media.render import RenderPiece, render_video
from ytmaker.media.runner import run_args
from ytmaker.media.visual import VisualConfig

MUSIC_HZ = 3000  # a steady tone, far from the 440 Hz voice


def tone_wav(path: Path, parts: list[tuple[float, float]], hz: float, rate: int = 48000) -> Path:
    """Mono 16-bit: (seconds, amplitude) runs of a sine (amplitude 0 = silence)."""
    chunks, done = [], 0
    for seconds, amplitude in parts:
        n = int(round(seconds * rate))
        t = (np.arange(n) + done) / rate
        chunks.append(amplitude * np.sin(2 * math.pi * hz * t))
        done += n
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.concatenate(chunks) * 32767).astype("<i2").tobytes())
    return path


def music_level(video: Path, start: float, end: float) -> float:
    """Mean level (dB) of the music's band in [start, end] s of the video's audio (FFmpeg)."""
    band = ",".join([f"bandpass=f={MUSIC_HZ}:width_type=h:w=200"] * 3)
    stderr = run_args(
        [
            "-i",
            str(video),
            "-vn",
            "-af",
            f"atrim={start}:{end},{band},volumedetect",
            "-f",
            "null",
            "-",
        ],
        "measure",
        loglevel="info",
        media_seconds=end,
    )
    return float(re.findall(r"mean_volume:\s*(-?[\d.]+) dB", stderr)[-1])


def render(tmp_path: Path, music: dict) -> Path:
    # piece 0: 0.7 s speech, 0.3 s breath (shorter than duck_gap), 0.8 s speech, 1.7 s pause
    # piece 1: 1.5 s speech, then 1.5 s pause
    voice0 = tone_wav(tmp_path / "v0.wav", [(0.7, 0.4), (0.3, 0.0), (0.8, 0.4)], 440)
    voice1 = tone_wav(tmp_path / "v1.wav", [(1.5, 0.4)], 440)
    tone_wav(tmp_path / "music.wav", [(4.0, 0.5)], MUSIC_HZ)  # whole cycles: loops cleanly
    picture = make_png(tmp_path / "p.png", (40, 60, 90))
    pieces = [
        RenderPiece("One. Two.", voice0, 3.5, image=picture),
        RenderPiece("Three.", voice1, 3.0, image=picture),
    ]
    visual = VisualConfig.from_dict(
        {"music": {"path": "music.wav", "fade": 0, **music}, "crossfade": 0, "motion": "off"},
        [tmp_path],
    )
    info = render_video(
        pieces, tmp_path / "v.mp4", tmp_path / "work", FAST, language="en", visual=visual
    )
    return info.path


def test_music_is_lowered_while_the_voice_speaks(tmp_path: Path) -> None:
    video = render(tmp_path, {})  # duck on by default, 12 dB, gap 0.6 s
    speech = [music_level(video, a, b) for a, b in ((0.2, 0.6), (1.1, 1.7), (3.8, 4.8))]
    breath = music_level(video, 0.75, 0.95)  # 0.3 s pause: stays down
    pauses = [music_level(video, a, b) for a, b in ((2.1, 3.2), (5.2, 6.3))]
    assert min(pauses) - max(speech) >= 10.0, (speech, pauses)
    assert min(pauses) - breath >= 10.0
    assert max(pauses) - min(pauses) < 1.0 and max(speech) - min(speech) < 1.5
    level = measure(video)  # the narration's loudness target still holds
    assert level.integrated == pytest.approx(-14.0, abs=1.0) and level.true_peak <= -1.0


def test_duck_off_keeps_the_music_level_and_duck_db_sets_the_depth(tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    flat = render(tmp_path / "flat", {"duck": False})
    assert abs(music_level(flat, 0.2, 0.6) - music_level(flat, 2.1, 3.2)) < 1.5
    (tmp_path / "deep").mkdir()
    deep = render(tmp_path / "deep", {"duck_db": 20})
    assert music_level(deep, 2.1, 3.2) - music_level(deep, 0.2, 0.6) >= 18.0


def test_speech_spans_close_short_pauses(tmp_path: Path) -> None:
    wav = tone_wav(
        tmp_path / "s.wav", [(0.5, 0.4), (0.3, 0.0), (0.5, 0.4), (1.0, 0.0), (0.2, 0.4)], 440
    )
    spans = speech_spans(wav, 0.6)
    assert [(round(a, 2), round(b, 2)) for a, b in spans] == [(0.0, 1.3), (2.3, 2.5)]
    assert len(speech_spans(wav, 0.2)) == 3
