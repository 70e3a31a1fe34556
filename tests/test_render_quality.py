"""Render quality beyond the basics: incremental re-renders, picture-in-picture, music, motion."""

from __future__ import annotations

import hashlib
import math
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.test_media import (
    FAST,
    audio_samples,
    bright,
    make_avatar,
    make_png,
    make_wav,
    rms,
)
from ytmaker.media.audio import measure
from ytmaker.media.probe import frame_at, probe
from ytmaker.media.render import RenderPiece, render_video
from ytmaker.media.visual import VisualConfig

TOP_BAND = (slice(20, 220), slice(200, 1720))


def packets(path: Path) -> dict[str, list[str]]:
    """Per stream type, a hash of every packet: equal lists mean identical streams."""
    out: dict[str, list[str]] = {"video": [], "audio": []}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size:
                kind = packet.stream.type
                out[kind].append(hashlib.sha1(bytes(packet)).hexdigest() + f"@{packet.pts}")
    return out


def stripes(path: Path) -> Path:
    """Vertical stripes with a gradient: any horizontal move shows."""
    x = np.arange(1920)
    row = np.stack(
        [(x * 255 // 1919), ((x // 40) % 2) * 200 + 30, np.full_like(x, 90)], axis=-1
    ).astype(np.uint8)
    Image.fromarray(np.repeat(row[None], 1080, axis=0)).save(path)
    return path


def noise_wav(path: Path, seconds: float, rate: int = 44100) -> Path:
    rng = np.random.default_rng(1)
    samples = (rng.uniform(-0.5, 0.5, int(seconds * rate)) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def pieces_v1(root: Path) -> list[RenderPiece]:
    colours = [(200, 30, 30), (30, 160, 40), (20, 40, 200)]
    pieces = [
        RenderPiece(
            f"第 {i} 段的旁白，說明這張圖片。",
            make_wav(root / f"a{i}.wav", 1.2),
            1.5,
            image=make_png(root / f"i{i}.png", colour),
        )
        for i, colour in enumerate(colours)
    ]
    avatar = make_avatar(root / "avatar.mp4", 1.0)
    pieces.append(RenderPiece("謝謝收看。", make_wav(root / "a3.wav", 1.0), 1.3, video=avatar))
    return pieces


def test_changing_one_segment_re_encodes_only_that_segment(tmp_path: Path) -> None:
    pieces = pieces_v1(tmp_path)
    work, out = tmp_path / "work", tmp_path / "out" / "video.mp4"
    first = render_video(pieces, out, work, FAST)
    assert (first.encoded_pieces, first.reused_pieces, first.audio_reused) == (4, 0, False)

    pieces[1].text = "改過的第 1 段：{\\i1} 100% 新的字幕"
    second = render_video(pieces, out, work, FAST)
    assert (second.encoded_pieces, second.reused_pieces, second.audio_reused) == (1, 3, True)
    expected = sum(p.duration for p in pieces)
    info = probe(out)
    assert info.duration == pytest.approx(expected, rel=0.02)
    assert abs(info.video.duration - info.audio.duration) < 0.1
    srt = out.with_suffix(".srt").read_text("utf-8")
    assert "改過的第 1 段：\n{\\i1} 100% 新的字幕" in srt
    assert bright(frame_at(out, 2.2)).sum() > 800

    # a full render of the edited project elsewhere: the very same streams
    fresh = render_video(pieces, tmp_path / "fresh.mp4", tmp_path / "fresh-work", FAST)
    assert fresh.encoded_pieces == 4
    assert packets(out) == packets(tmp_path / "fresh.mp4")
    assert second.duration == pytest.approx(fresh.duration, abs=1e-3)

    # nothing changed: nothing encoded; only the unused clip of the old text was dropped
    again = render_video(pieces, out, work, FAST)
    assert (again.encoded_pieces, again.audio_reused) == (0, True)
    assert len(list((work / "clips").glob("*.mp4"))) == 4

    # a crash before a clip was finished: only that clip is made again
    sorted((work / "clips").glob("*.mp4"))[0].unlink()
    out.unlink()
    resumed = render_video(pieces, out, work, FAST)
    assert resumed.encoded_pieces == 1 and packets(out) == packets(tmp_path / "fresh.mp4")

    # a new picture also changes the cross-fade into the next piece: two clips
    make_png(pieces[0].image, (240, 200, 20))
    assert render_video(pieces, out, work, FAST).encoded_pieces == 2


def test_picture_in_picture_music_motion_and_top_subtitles(tmp_path: Path) -> None:
    intro = RenderPiece(
        "大家好，歡迎收看。",
        make_wav(tmp_path / "intro.wav", 1.0),  # 440 Hz voice; the avatar's own audio is 1 kHz
        2.0,
        video=make_avatar(tmp_path / "avatar.mp4", 2.5),
    )
    segment = RenderPiece(
        "畫面會慢慢移動。",
        make_wav(tmp_path / "seg.wav", 1.0),
        2.0,
        image=stripes(tmp_path / "stripes.png"),
    )
    noise_wav(tmp_path / "music.wav", 0.7)
    visual = VisualConfig.from_dict(
        {
            "avatar": {"mode": "pip", "corner": "bottom-right", "size": 0.3},
            "subtitles": {"position": "top", "margin": 40, "size": 60},
            "music": {"path": "music.wav", "level_db": -18, "fade": 0.2},
            "motion": "pan",
        },
        [tmp_path],
    )
    info = render_video(
        [intro, segment], tmp_path / "v.mp4", tmp_path / "work", FAST, visual=visual
    )
    path = info.path
    assert info.duration == pytest.approx(4.0, abs=0.05)

    blue = np.asarray(frame_at(path, 0.5).convert("RGB"), dtype=float)[..., 2]
    # PiP box 576x324 at (1304, 716) over the next segment's stripes (blue is flat in them)
    assert blue[736:1020, 1324:1860].std() > 50
    assert blue[736:1020, 100:1200].std() < 20 and blue[100:600, 1324:1860].std() < 20
    # subtitles at the top, none at the bottom
    assert bright(frame_at(path, 0.5), TOP_BAND).sum() > 800
    assert bright(frame_at(path, 0.5), (slice(860, 1060), slice(200, 1250))).sum() == 0

    # motion: the stripes move between two moments of the same piece
    early = np.asarray(frame_at(path, 2.6).convert("L"), dtype=float)[400:600]
    late = np.asarray(frame_at(path, 3.8).convert("L"), dtype=float)[400:600]
    assert np.abs(early - late).mean() > 5

    # sound: the voice (not the avatar's own track), music under it, at the loudness target
    samples, rate = audio_samples(path)
    voice = samples[0, int(0.2 * rate) : int(0.9 * rate)]
    spectrum = np.abs(np.fft.rfft(voice))
    freqs = np.fft.rfftfreq(voice.size, 1 / rate)
    assert spectrum[np.abs(freqs - 440) < 5].max() > 5 * spectrum[np.abs(freqs - 1000) < 5].max()
    music_only = rms(samples, rate, 1.3, 1.8)  # narration over, music still looping
    assert music_only > 0.003
    assert rms(samples, rate, 0.2, 0.9) > 4 * music_only
    level = measure(path)
    assert level.integrated == pytest.approx(-14.0, abs=1.0) and level.true_peak <= -1.0


def test_full_frame_avatar_without_music_has_silence_in_gaps(tmp_path: Path) -> None:
    piece = RenderPiece(
        "Hello.", make_wav(tmp_path / "v.wav", 0.6), 1.2, video=make_avatar(tmp_path / "a.mp4", 2)
    )
    info = render_video([piece], tmp_path / "v.mp4", tmp_path / "w", FAST, language="en")
    samples, rate = audio_samples(info.path)
    assert rms(samples, rate, 0.1, 0.5) > 0.05 and rms(samples, rate, 0.8, 1.1) < 0.005
    frame = np.asarray(frame_at(info.path, 0.5).convert("RGB"), dtype=float)
    assert frame[100:900, 300:1600].std() > 40  # full frame: the pattern fills the picture
    assert math.isclose(info.fps, 30.0) and info.encoded_pieces == 1
