"""Media layer: render a real short video from real inputs, then open it and look."""

from __future__ import annotations

import logging
import math
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from imageio_ffmpeg import get_ffmpeg_exe
from PIL import Image

from ytmaker.errors import MediaError
from ytmaker.media.probe import frame_at, probe, wav_duration
from ytmaker.media.render import RenderPiece, RenderSettings, render_video
from ytmaker.media.subtitles import split_cues, to_ass, to_srt
from ytmaker.media.thumbnail import make_thumbnail

SPECIAL = "{\\b1}50% off: 'yes'"
FAST = RenderSettings(preset="ultrafast")
RED, GREEN, BLUE = (200, 30, 30), (30, 160, 40), (20, 40, 200)
SUBTITLE_BAND = (slice(860, 1060), slice(200, 1720))  # rows, cols of the bottom-centre band


def make_png(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (1920, 1080)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def make_wav(path: Path, seconds: float, rate: int = 22050, channels: int = 1) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.3 * np.sin(2 * math.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.repeat(tone, channels).tobytes())
    return path


def make_avatar(path: Path, seconds: float) -> Path:
    subprocess.run(
        [get_ffmpeg_exe(), "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=size=640x360:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=1000:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         str(path)],
        check=True)
    return path


def bright(img: Image.Image) -> np.ndarray:
    """Mask of near-white pixels in the subtitle band."""
    band = np.asarray(img.convert("RGB"))[SUBTITLE_BAND]
    return (band > 215).all(axis=2)


def patch_mean(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))[250:350, 910:1010].reshape(-1, 3).mean(axis=0)


def audio_samples(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        rate = container.streams.audio[0].sample_rate
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    return np.concatenate(chunks, axis=1).astype(np.float64), rate


def rms(samples: np.ndarray, rate: int, start: float, end: float) -> float:
    window = samples[:, int(start * rate):int(end * rate)]
    return float(np.sqrt((window ** 2).mean()))


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    # quotes, brackets, commas and colons in the work path exercise the filter escaping
    root = tmp_path_factory.mktemp("media") / "work dir's [1],x;y:z"
    root.mkdir()
    pieces = [
        RenderPiece("台灣的夜市文化", make_wav(root / "a0.wav", 1.7), 2.0,
                    image=make_png(root / "red.png", RED)),
        RenderPiece(SPECIAL, make_wav(root / "a1.wav", 2.2, rate=44100, channels=2), 2.5,
                    image=make_png(root / "green.png", GREEN, (800, 800))),
        RenderPiece("An avatar speaks.", make_wav(root / "a2.wav", 2.6, rate=24000), 2.4,
                    video=make_avatar(root / "avatar.mp4", 1.5)),
        RenderPiece("最後一段。", make_wav(root / "a3.wav", 1.0), 2.1,
                    image=make_png(root / "blue.png", BLUE)),
    ]
    progress: list[float] = []
    handler = ListHandler()
    logging.getLogger("ytmaker.media.render").addHandler(handler)
    try:
        info = render_video(pieces, root / "out" / "video.mp4", root / "work", FAST,
                            on_progress=progress.append, language="zh-TW")
    finally:
        logging.getLogger("ytmaker.media.render").removeHandler(handler)
    return {"info": info, "pieces": pieces, "progress": progress, "warnings": handler.records,
            "root": root}


def test_streams_are_youtube_ready(rendered: dict) -> None:
    info = probe(rendered["info"].path)
    assert (info.video_streams, info.audio_streams) == (1, 1)
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert (info.video.width, info.video.height) == (1920, 1080)
    assert info.video.fps == pytest.approx(30.0)
    assert info.audio.codec == "aac"
    assert rendered["info"].to_dict()["video_codec"] == "h264"


def test_duration_matches_pieces_and_audio_matches_video(rendered: dict) -> None:
    expected = sum(piece.duration for piece in rendered["pieces"])
    info = probe(rendered["info"].path)
    assert info.duration == pytest.approx(expected, rel=0.02)
    assert abs(info.duration - expected) <= 1 / 30 + 0.03
    assert abs(info.audio.duration - info.video.duration) < 0.1
    assert info.video.frames == round(expected * 30)


def test_narration_is_placed_and_padded_per_piece(rendered: dict) -> None:
    samples, rate = audio_samples(rendered["info"].path)
    assert rms(samples, rate, 0.2, 1.5) > 0.1  # piece 0 speaks until 1.7 s
    assert rms(samples, rate, 1.8, 1.95) < 0.01  # then silence up to 2.0 s
    assert rms(samples, rate, 2.1, 4.1) > 0.1  # piece 1 speaks from 2.0 s
    assert rms(samples, rate, 8.05, 8.95) < 0.01  # last piece: 1 s of speech in 2.1 s


def test_frames_show_each_piece(rendered: dict) -> None:
    path = rendered["info"].path
    red, green, avatar, blue = (frame_at(path, t) for t in (1.0, 3.2, 5.5, 7.5))
    assert np.abs(patch_mean(red) - RED).max() < 12
    assert np.abs(patch_mean(green) - GREEN).max() < 12
    assert np.abs(patch_mean(blue) - BLUE).max() < 12
    assert np.asarray(avatar).std() > 40  # test pattern, held after the 1.5 s clip ends
    assert np.asarray(green)[300, 100].max() < 10  # square image: pillarboxed with black


def test_chinese_subtitle_is_burned_in(rendered: dict) -> None:
    source = Image.open(rendered["pieces"][0].image)
    frame = frame_at(rendered["info"].path, 1.0)
    assert bright(source).sum() == 0
    assert bright(frame).sum() > 800
    assert bright(frame_at(rendered["info"].path, 1.9)).sum() == 0  # narration over
    assert not rendered["warnings"]  # libass found every glyph in the CJK font


def test_special_characters_render_literally(rendered: dict) -> None:
    assert bright(frame_at(rendered["info"].path, 3.2)).sum() > 800
    srt = rendered["info"].path.with_suffix(".srt").read_text(encoding="utf-8")
    assert SPECIAL in " ".join(srt.split())
    assert "台灣的夜市文化" in srt
    ass = to_ass(split_cues(SPECIAL + " \\N", 0, 1, "en"))
    dialogue = ass.splitlines()[-1]
    assert "{\\b1}" not in dialogue and "\\N" not in dialogue.split(",,", 1)[1]


def test_progress_is_monotonic_and_finishes(rendered: dict) -> None:
    progress = rendered["progress"]
    assert len(progress) >= len(rendered["pieces"]) + 1
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_split_cues_limits_and_timing() -> None:
    text = ("台灣的夜市文化是觀光客最喜歡的體驗之一。\n"
            "從士林夜市到饒河街夜市，每一個攤位都有自己的故事。")
    cues = split_cues(text, 10.0, 20.0, "zh-TW")
    assert cues[0].start == 10.0 and cues[-1].end == 20.0
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))
    assert all(len(line) <= 18 for cue in cues for line in cue.text.split("\n"))
    assert all(cue.text.count("\n") <= 1 for cue in cues)
    english = split_cues("word " * 60, 0.0, 5.0, "en")
    assert all(len(line) <= 42 for cue in english for line in cue.text.split("\n"))
    assert "\n" not in split_cues("two\nlines", 0, 1, "en")[0].text
    assert to_srt(cues).startswith("1\n00:00:10,000 --> ")


def test_thumbnail_chinese_and_english(tmp_path: Path) -> None:
    image = make_png(tmp_path / "pic.png", (90, 120, 160), (1000, 1000))
    titles = {"zh": "台灣夜市文化：從士林到饒河街，十個你一定要吃的經典小吃與隱藏版美食",
              "en": "Taiwan Night Markets: Ten Classic Street Foods You Must Try"}
    for name, title in titles.items():
        out = make_thumbnail(image, title, tmp_path / f"thumb_{name}.jpg")
        with Image.open(out) as thumb:
            assert thumb.format == "JPEG" and thumb.size == (1280, 720)
        assert out.stat().st_size < 2 * 1024 * 1024
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pic.png", "thumb_en.jpg",
                                                          "thumb_zh.jpg"]


def test_missing_input_names_the_piece(tmp_path: Path) -> None:
    audio = make_wav(tmp_path / "a.wav", 0.5)
    good = RenderPiece("ok", audio, 1.0, image=make_png(tmp_path / "i.png", RED))
    missing = RenderPiece("no image", audio, 1.0, image=tmp_path / "nope.png")
    with pytest.raises(MediaError) as err:
        render_video([good, missing], tmp_path / "out.mp4", tmp_path / "work", FAST)
    assert err.value.details["piece_index"] == 1
    no_audio = RenderPiece("no audio", tmp_path / "nope.wav", 1.0, image=good.image)
    with pytest.raises(MediaError, match="piece 0"):
        render_video([no_audio], tmp_path / "out.mp4", tmp_path / "work", FAST)
    assert not (tmp_path / "out.mp4").exists()


def test_ffmpeg_failure_reports_stderr_and_leaves_no_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a png")
    piece = RenderPiece("x", make_wav(tmp_path / "a.wav", 0.5), 1.0, image=broken)
    with pytest.raises(MediaError) as err:
        render_video([piece], tmp_path / "out" / "v.mp4", tmp_path / "work", FAST)
    assert err.value.details["ffmpeg_stderr"].strip()
    assert err.value.details["step"] == "piece 0"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_wav_duration(tmp_path: Path) -> None:
    assert wav_duration(make_wav(tmp_path / "a.wav", 1.25, rate=16000)) == pytest.approx(1.25)
