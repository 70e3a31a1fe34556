"""Media layer: render a real short video from real inputs, then open it and look."""

from __future__ import annotations

import logging
import math
import re
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from imageio_ffmpeg import get_ffmpeg_exe
from PIL import Image, ImageDraw

from ytmaker.errors import ConfigError, MediaError
from ytmaker.media.audio import measure
from ytmaker.media.probe import frame_at, probe, wav_duration
from ytmaker.media.render import RenderPiece, RenderSettings, render_video
from ytmaker.media.subtitles import AssStyle, split_cues, to_ass, to_srt
from ytmaker.media.thumbnail import SAFE, layout, make_thumbnail
from ytmaker.media.visual import VisualConfig

SPECIAL = "{\\b1}50% off: 'yes'"
LONG_ZH = "台灣的夜市文化是觀光客最喜歡的體驗之一，從士林夜市到饒河街夜市，每一個攤位都有故事。"
FAST = RenderSettings(preset="ultrafast")
RED, GREEN, BLUE, MAGENTA = (200, 30, 30), (30, 160, 40), (20, 40, 200), (255, 0, 255)
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
        check=True,
    )  # fmt: skip
    return path


def make_logo(path: Path) -> Path:
    """A magenta disc on a transparent square: easy to find in a frame."""
    logo = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((10, 10, 290, 290), fill=(*MAGENTA, 255))
    logo.save(path)
    return path


def bright(img: Image.Image, band: tuple[slice, slice] = SUBTITLE_BAND) -> np.ndarray:
    """Mask of near-white pixels in the subtitle band."""
    return (np.asarray(img.convert("RGB"))[band] > 215).all(axis=2)


def magenta(img: Image.Image, rows: slice, cols: slice) -> int:
    pixels = np.asarray(img.convert("RGB"), dtype=int)[rows, cols]
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(((r > 200) & (g < 70) & (b > 200)).sum())


def patch_mean(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))[250:350, 910:1010].reshape(-1, 3).mean(axis=0)


def audio_samples(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        rate = container.streams.audio[0].sample_rate
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    return np.concatenate(chunks, axis=1).astype(np.float64), rate


def rms(samples: np.ndarray, rate: int, start: float, end: float) -> float:
    window = samples[:, int(start * rate) : int(end * rate)]
    return float(np.sqrt((window**2).mean()))


def srt_cues(path: Path) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = []
    for block in path.read_text("utf-8").strip().split("\n\n"):
        lines = block.split("\n")
        start, end = re.match(r"(\S+) --> (\S+)", lines[1]).groups()
        cues.append((seconds(start), seconds(end), " ".join(lines[2:])))
    return cues


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
        RenderPiece(
            LONG_ZH, make_wav(root / "a0.wav", 1.7), 2.0, image=make_png(root / "red.png", RED)
        ),
        RenderPiece(
            SPECIAL,
            make_wav(root / "a1.wav", 2.2, rate=44100, channels=2),
            2.5,
            image=make_png(root / "green.png", GREEN, (800, 800)),
        ),
        RenderPiece(
            "An avatar speaks.",
            make_wav(root / "a2.wav", 2.6, rate=24000),
            2.4,
            video=make_avatar(root / "avatar.mp4", 1.5),
        ),
        RenderPiece(
            "最後一段。",
            make_wav(root / "a3.wav", 1.0),
            2.1,
            image=make_png(root / "blue.png", BLUE),
        ),
    ]
    make_logo(root / "logo.png")
    visual = VisualConfig.from_dict({"logo": {"path": "logo.png", "opacity": 1.0}}, [root])
    progress: list[float] = []
    handler = ListHandler()
    logging.getLogger("ytmaker.media.render").addHandler(handler)
    try:
        info = render_video(
            pieces,
            root / "out" / "video.mp4",
            root / "work",
            FAST,
            on_progress=progress.append,
            language="zh-TW",
            visual=visual,
        )
    finally:
        logging.getLogger("ytmaker.media.render").removeHandler(handler)
    return {
        "info": info,
        "pieces": pieces,
        "progress": progress,
        "warnings": handler.records,
        "root": root,
        "visual": visual,
    }


def test_streams_are_youtube_ready(rendered: dict) -> None:
    info = probe(rendered["info"].path)
    assert (info.video_streams, info.audio_streams) == (1, 1)
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert (info.video.width, info.video.height) == (1920, 1080)
    assert info.video.fps == pytest.approx(30.0)
    assert info.audio.codec == "aac"
    result = rendered["info"].to_dict()
    assert result["video_codec"] == "h264" and result["resolution"] == "1920x1080"
    assert (result["encoded_pieces"], result["reused_pieces"]) == (4, 0)
    assert result["file_size"] == rendered["info"].path.stat().st_size > 0
    assert result["render_time"] > 0


def test_duration_matches_pieces_and_audio_matches_video(rendered: dict) -> None:
    expected = sum(piece.duration for piece in rendered["pieces"])
    info = probe(rendered["info"].path)
    assert info.duration == pytest.approx(expected, rel=0.02)
    assert abs(info.duration - expected) <= 1 / 30 + 0.03  # cross-fades kept the timeline
    assert abs(info.audio.duration - info.video.duration) < 0.1
    assert info.video.frames == round(expected * 30)


def test_narration_is_placed_and_padded_per_piece(rendered: dict) -> None:
    samples, rate = audio_samples(rendered["info"].path)
    assert rms(samples, rate, 0.2, 1.5) > 0.1  # piece 0 speaks until 1.7 s
    assert rms(samples, rate, 1.8, 1.95) < 0.01  # then silence up to 2.0 s
    assert rms(samples, rate, 2.1, 4.1) > 0.1  # piece 1 speaks from 2.0 s
    assert rms(samples, rate, 8.05, 8.95) < 0.01  # last piece: 1 s of speech in 2.1 s


def test_loudness_is_normalised_without_clipping(rendered: dict) -> None:
    level = measure(rendered["info"].path)  # EBU R128 on the final AAC track
    assert level.integrated == pytest.approx(-14.0, abs=1.0)
    assert level.true_peak <= -1.0
    assert rendered["info"].loudness_lufs == pytest.approx(-14.0, abs=0.5)


def test_frames_show_each_piece(rendered: dict) -> None:
    path = rendered["info"].path
    red, green, avatar, blue = (frame_at(path, t) for t in (1.0, 3.2, 5.5, 7.5))
    assert np.abs(patch_mean(red) - RED).max() < 12
    assert np.abs(patch_mean(green) - GREEN).max() < 12
    assert np.abs(patch_mean(blue) - BLUE).max() < 12
    assert np.asarray(avatar).std() > 40  # test pattern, held after the 1.5 s clip ends
    assert np.asarray(green)[300, 100].max() < 10  # square image: pillarboxed with black


def test_cross_fade_blends_into_the_next_picture(rendered: dict) -> None:
    # piece 1 starts at 2.0 s; its first 0.5 s fade in from piece 0's red
    middle = patch_mean(frame_at(rendered["info"].path, 2.25))
    blend = (np.array(RED) + np.array(GREEN)) / 2
    assert np.abs(middle - blend).max() < 40
    assert np.abs(patch_mean(frame_at(rendered["info"].path, 2.55)) - GREEN).max() < 12


def test_each_segments_subtitles_appear_during_that_segment(rendered: dict) -> None:
    path = rendered["info"].path
    cues = srt_cues(path.with_suffix(".srt"))
    bounds, start = [], 0.0
    for piece in rendered["pieces"]:
        bounds.append((start, start + piece.duration))
        start += piece.duration
    first = [c for c in cues if c[0] < bounds[0][1]]
    assert len(first) == 2  # the long first segment: two cues, one after the other
    assert "".join(c[2] for c in first).replace(" ", "") == LONG_ZH
    assert all(a[1] <= b[0] for a, b in zip(cues, cues[1:], strict=False))
    for cue_start, cue_end, _text in cues:
        assert any(lo - 1e-3 <= cue_start < cue_end <= hi + 1e-3 for lo, hi in bounds)
    frames = [frame_at(path, (c[0] + c[1]) / 2) for c in first]
    masks = [bright(f) for f in frames]
    assert all(mask.sum() > 800 for mask in masks)
    assert (masks[0] != masks[1]).sum() > 400  # a different line of text
    assert bright(Image.open(rendered["pieces"][0].image)).sum() == 0
    assert bright(frame_at(path, 1.9)).sum() == 0  # narration over: no subtitle
    assert not rendered["warnings"]  # libass found every glyph in the CJK font


def test_special_characters_render_literally(rendered: dict) -> None:
    assert bright(frame_at(rendered["info"].path, 3.2)).sum() > 800
    srt = rendered["info"].path.with_suffix(".srt").read_text(encoding="utf-8")
    assert SPECIAL in " ".join(srt.split())
    assert "台灣的夜市文化" in srt
    ass = to_ass(split_cues(SPECIAL + " \\N", 0, 1, "en"))
    dialogue = ass.splitlines()[-1]
    assert "{\\b1}" not in dialogue and "\\N" not in dialogue.split(",,", 1)[1]


def test_logo_is_in_the_top_right_corner(rendered: dict) -> None:
    for t in (1.0, 5.5):  # over a picture and over the avatar
        frame = frame_at(rendered["info"].path, t)
        # 10% of 1920 = 192 px wide, 40 px from the top and right edges
        assert magenta(frame, slice(40, 232), slice(1688, 1880)) > 15000
    red = frame_at(rendered["info"].path, 1.0)  # (the avatar's test pattern has magenta)
    assert magenta(red, slice(0, 300), slice(0, 1600)) == 0
    assert magenta(red, slice(300, 1080), slice(0, 1920)) == 0


def test_progress_is_monotonic_smooth_and_finishes(rendered: dict) -> None:
    progress = rendered["progress"]
    assert len(progress) >= len(rendered["pieces"]) + 1
    assert progress == sorted(progress) and progress[-1] == 1.0
    steps = np.diff([0.0, *progress])
    assert steps.max() <= 0.1 + 1e-9


def test_split_cues_limits_and_timing() -> None:
    text = (
        "台灣的夜市文化是觀光客最喜歡的體驗之一。\n"
        "從士林夜市到饒河街夜市，每一個攤位都有自己的故事。"
    )
    cues = split_cues(text, 10.0, 20.0, "zh-TW")
    assert cues[0].start == 10.0 and cues[-1].end == 20.0
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))
    assert all(len(line) <= 18 for cue in cues for line in cue.text.split("\n"))
    assert all(cue.text.count("\n") <= 1 for cue in cues)
    english = split_cues("word " * 60, 0.0, 5.0, "en")
    assert all(len(line) <= 42 for cue in english for line in cue.text.split("\n"))
    assert "\n" not in split_cues("two\nlines", 0, 1, "en")[0].text
    assert to_srt(cues).startswith("1\n00:00:10,000 --> ")
    narrow = split_cues(text, 0, 10, "zh-TW", max_chars=10)
    assert all(len(line) <= 10 for cue in narrow for line in cue.text.split("\n"))
    assert len(narrow) > len(cues)


def test_ass_style_from_config() -> None:
    style = AssStyle(font_family="X", font_size=70, primary="&H0000FFFF", alignment=8, margin_v=90)
    line = next(x for x in to_ass([], style=style).splitlines() if x.startswith("Style:"))
    fields = line.split(",")
    assert fields[1:4] == ["X", "70", "&H0000FFFF"] and fields[18] == "8" and fields[21] == "90"


def test_visual_config_defaults_and_errors(tmp_path: Path) -> None:
    config = VisualConfig.from_dict(None)
    assert config.motion == "pan" and config.crossfade == 0.5 and config.loudness == -14
    assert config.avatar.mode == "full" and config.logo.path is None
    assert VisualConfig.from_dict({"motion": True}).motion == "pan"
    assert VisualConfig.from_dict({"motion": False}).motion == "off"
    with pytest.raises(ConfigError) as err:
        VisualConfig.from_dict({"subtitles": {"colour": "#fff"}})
    assert "subtitles.colour" in err.value.message and "'color'" in err.value.message
    assert err.value.details["field"] == "visual_config.subtitles.colour"
    with pytest.raises(ConfigError, match="unknown field 'speed'"):
        VisualConfig.from_dict({"speed": 2})
    with pytest.raises(ConfigError, match="avatar.mode"):
        VisualConfig.from_dict({"avatar": {"mode": "corner"}})
    with pytest.raises(ConfigError, match="subtitles.color"):
        VisualConfig.from_dict({"subtitles": {"color": "white"}})
    with pytest.raises(ConfigError, match="logo.path.*file not found"):
        VisualConfig.from_dict({"logo": {"path": "nope.png"}}, [tmp_path])
    make_logo(tmp_path / "brand.png")
    found = VisualConfig.from_dict(
        {"logo": {"path": "brand.png"}, "subtitles": {"color": "#ff0"}}, [tmp_path / "x", tmp_path]
    )
    assert found.logo.path == (tmp_path / "brand.png").resolve()
    assert found.subtitles.color == "#FFFF00"


def test_thumbnail_chinese_and_english(tmp_path: Path) -> None:
    image = make_png(tmp_path / "pic.png", (90, 120, 160), (1000, 1000))
    titles = {
        "zh": "台灣夜市文化：從士林到饒河街，十個你一定要吃的經典小吃與隱藏版美食",
        "en": "Taiwan Night Markets: Ten Classic Street Foods You Must Try",
    }
    for name, title in titles.items():
        out = make_thumbnail(image, title, tmp_path / f"thumb_{name}.jpg")
        with Image.open(out) as thumb:
            assert thumb.format == "JPEG" and thumb.size == (1280, 720)
        assert out.stat().st_size < 2 * 1024 * 1024
        plan = layout(title, "美食頻道 · 第 12 集")
        boxes = [*plan.line_boxes, plan.tag_box]
        assert plan.font.size >= 60 and 1 <= len(plan.lines) <= 3
        assert all(
            SAFE[0] <= b[0] and SAFE[1] <= b[1] and b[2] <= SAFE[2] and b[3] <= SAFE[3]
            for b in boxes
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pic.png", "thumb_en.jpg", "thumb_zh.jpg"]
    very_long = layout("很長的標題" * 40, None)
    assert len(very_long.lines) == 3 and very_long.lines[-1].endswith("…")


def test_thumbnail_logo_and_second_line(tmp_path: Path) -> None:
    image = make_png(tmp_path / "pic.png", (40, 60, 90))
    make_logo(tmp_path / "logo.png")
    visual = VisualConfig.from_dict({"logo": {"path": str(tmp_path / "logo.png")}})
    out = make_thumbnail(
        image, "夜市小吃", tmp_path / "t.jpg", subtitle="美食頻道 · 第 12 集", visual=visual
    )
    with Image.open(out) as thumb:
        frame = thumb.convert("RGB")
    # 10% of 1280 = 128 px wide, 27 px from the top-right corner
    assert magenta(frame, slice(27, 155), slice(1125, 1253)) > 5000
    tag = np.asarray(frame)[400:640, 64:400]
    assert ((tag[..., 0] > 230) & (tag[..., 1] > 190) & (tag[..., 2] < 110)).sum() > 2000
    bottom_right = VisualConfig.from_dict(
        {"logo": {"path": str(tmp_path / "logo.png"), "corner": "bottom-right"}}
    )
    make_thumbnail(image, "x", tmp_path / "b.jpg", visual=bottom_right)
    with Image.open(tmp_path / "b.jpg") as thumb:  # moved clear of YouTube's length badge
        assert magenta(thumb.convert("RGB"), slice(27, 155), slice(1125, 1253)) > 5000


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
    nothing = RenderPiece("no picture", audio, 1.0)
    with pytest.raises(MediaError, match="needs an image or a video"):
        render_video([nothing], tmp_path / "out.mp4", tmp_path / "work", FAST)
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
    assert not list((tmp_path / "work" / "clips").glob("*.mp4"))  # no half-written clip


def test_wav_duration(tmp_path: Path) -> None:
    assert wav_duration(make_wav(tmp_path / "a.wav", 1.25, rate=16000)) == pytest.approx(1.25)
