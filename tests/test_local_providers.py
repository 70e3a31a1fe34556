"""The offline providers make real, usable media: speech, pictures, a presenter clip, an upload."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from ytmaker.errors import ProviderError
from ytmaker.language import count_units
from ytmaker.providers.base import PublishRequest
from ytmaker.providers.local.avatar import HEAD, DrawnAvatar
from ytmaker.providers.local.images import PillowImages
from ytmaker.providers.local.publisher import LocalChannel
from ytmaker.providers.local.voice import CHARS_PER_SECOND_ZH, WORDS_PER_SECOND_EN, EspeakVoice

ZH_SHORT = "台灣的夜市文化非常豐富。"
ZH_LONG = (
    "台灣的夜市文化非常豐富，從北到南都有各具特色的小吃。士林夜市的大雞排、饒河街的胡椒餅，"
    "都是觀光客必吃的美食。"
)
EN_SHORT = "Taiwan's night markets are famous."
EN_LONG = (
    "Taiwan's night markets are famous for their food. From Shilin in Taipei to Ruifeng in "
    "Kaohsiung, each one has its own specialties, and visitors try a little of everything."
)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2"), wav.getframerate()


# ---- voice ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "short", "long"), [("zh-TW", ZH_SHORT, ZH_LONG), ("en", EN_SHORT, EN_LONG)]
)
def test_voice_is_real_speech_proportional_to_text(tmp_path, language, short, long):
    voice = EspeakVoice(pause=0.4)
    durations = {}
    for name, text in (("short", short), ("long", long)):
        out = tmp_path / f"{name}.wav"
        seconds = voice.synthesize(text, language, out)
        samples, rate = read_wav(out)
        assert seconds == pytest.approx(len(samples) / rate)
        speech, pause = samples[: -int(0.4 * rate)], samples[-int(0.4 * rate) :]
        assert np.sqrt(np.mean(speech.astype(float) ** 2)) > 500  # clearly audible
        assert not pause.any()  # trailing silence so pieces don't run together
        durations[name] = seconds - 0.4
    ratio = count_units(long, language) / count_units(short, language)
    assert durations["long"] / durations["short"] == pytest.approx(ratio, rel=0.35)


def test_traditional_chinese_is_spoken_at_the_published_rate(tmp_path):
    """Not spelled letter by letter (far too slow) nor skipped (far too fast)."""
    seconds = EspeakVoice(pause=0).synthesize(ZH_LONG, "zh-TW", tmp_path / "zh.wav")
    assert count_units(ZH_LONG, "zh-TW") / seconds == pytest.approx(CHARS_PER_SECOND_ZH, rel=0.2)
    seconds = EspeakVoice(pause=0).synthesize(EN_LONG, "en", tmp_path / "en.wav")
    assert count_units(EN_LONG, "en") / seconds == pytest.approx(WORDS_PER_SECOND_EN, rel=0.2)


def test_voice_is_safe_to_use_from_several_threads(tmp_path):
    """Tasks run in threads; the shared C library must not mix their audio."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [(ZH_SHORT, "zh-TW"), (EN_SHORT, "en"), (ZH_LONG, "zh-TW"), (EN_LONG, "en")] * 2
    voice = EspeakVoice()
    alone = [
        voice.synthesize(t, lang, tmp_path / f"seq{i}.wav") for i, (t, lang) in enumerate(texts)
    ]
    with ThreadPoolExecutor(4) as pool:
        together = list(
            pool.map(
                lambda job: voice.synthesize(job[1][0], job[1][1], tmp_path / f"par{job[0]}.wav"),
                enumerate(texts),
            )
        )
    assert together == pytest.approx(alone, abs=0.03)  # espeak's pitch state jitters by ~ms


@pytest.mark.parametrize("text", ["", "   \n "])
def test_voice_rejects_empty_text(tmp_path, text):
    with pytest.raises(ProviderError):
        EspeakVoice().synthesize(text, "zh-TW", tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


# ---- images ---------------------------------------------------------------------------------


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)


def test_images_are_full_hd_deterministic_and_distinct(tmp_path):
    maker = PillowImages()
    first = maker.make("夜市 — 士林夜市的大雞排、饒河街的胡椒餅", 7, tmp_path / "a.png")
    again = maker.make("夜市 — 士林夜市的大雞排、饒河街的胡椒餅", 7, tmp_path / "b.png")
    other = maker.make("Alishan — the forest train climbs to the sunrise", 7, tmp_path / "c.png")
    with Image.open(first) as image:
        assert (image.format, image.size) == ("PNG", (1920, 1080))
    assert first.read_bytes() == again.read_bytes()
    assert np.abs(pixels(first) - pixels(other)).mean() > 10


def test_same_description_new_seed_gives_a_new_picture(tmp_path):
    maker = PillowImages()
    a = maker.make("台灣的夜市文化", 1, tmp_path / "a.png")
    b = maker.make("台灣的夜市文化", 2, tmp_path / "b.png")
    assert np.abs(pixels(a) - pixels(b)).mean() > 10


def busyness(region: np.ndarray) -> float:
    """Mean colour step between neighbouring 8x8 blocks: ignores grain, sees shapes and edges."""
    h, w = region.shape[0] // 8 * 8, region.shape[1] // 8 * 8
    blocks = region[:h, :w].reshape(h // 8, 8, w // 8, 8, 3).mean(axis=(1, 3))
    return float(np.abs(np.diff(blocks, axis=1)).mean())


def test_subtitle_band_is_calm(tmp_path):
    """The bottom quarter has no busy detail that would fight burned-in subtitles."""
    for seed in range(4):
        image = pixels(PillowImages().make("城市的夜景", seed, tmp_path / f"{seed}.png"))
        assert busyness(image[810:]) < 0.3 < busyness(image[:810])


# ---- avatar ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def avatar_clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("avatar")
    wav = folder / "intro.wav"
    EspeakVoice(pause=1.0).synthesize("大家好，歡迎收看本集影片。", "zh-TW", wav)
    return wav, DrawnAvatar().make(wav, "intro", folder / "intro.mp4")


def test_avatar_clip_format_and_length(avatar_clip):
    wav, mp4 = avatar_clip
    samples, rate = read_wav(wav)
    wav_seconds = len(samples) / rate
    with av.open(str(mp4)) as container:
        video = [s for s in container.streams if s.type == "video"]
        audio = [s for s in container.streams if s.type == "audio"]
        assert len(video) == 1 and len(audio) == 1
        v, a = video[0], audio[0]
        assert (v.codec_context.name, v.width, v.height) == ("h264", 1920, 1080)
        assert v.codec_context.pix_fmt == "yuv420p" and v.average_rate == 30
        assert a.codec_context.name == "aac"
        frames = sum(1 for _ in container.decode(video=0))
    assert abs(frames / 30 - wav_seconds) <= 1 / 30
    assert float(a.duration * a.time_base) == pytest.approx(wav_seconds, abs=1 / 30)


def test_avatar_mouth_follows_the_voice(avatar_clip):
    wav, mp4 = avatar_clip
    samples, rate = read_wav(wav)
    per_frame = rate // 30
    frames = len(samples) // per_frame
    rms = np.sqrt(
        np.mean(samples[: frames * per_frame].reshape(frames, per_frame).astype(float) ** 2, axis=1)
    )
    loud, silent = int(np.argmax(rms)), frames - 5  # the last frames are the 1 s pause
    with av.open(str(mp4)) as container:
        images = {
            i: f.to_ndarray(format="rgb24").astype(float)
            for i, f in enumerate(container.decode(video=0))
            if i in (loud, silent)
        }
    cx, cy = int(HEAD[0]), int(HEAD[1])
    mouth = np.s_[cy + 90 : cy + 180, cx - 70 : cx + 70]
    corner = np.s_[0:100, 0:100]
    assert np.abs(images[loud][mouth] - images[silent][mouth]).mean() > 10
    assert np.abs(images[loud][corner] - images[silent][corner]).mean() < 2


# ---- publisher ------------------------------------------------------------------------------


def test_publisher_writes_a_complete_video_folder(tmp_path):
    video, thumb = tmp_path / "final.mp4", tmp_path / "thumb.png"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(1000))
    Image.new("RGB", (1280, 720), (200, 80, 40)).save(thumb)
    request = PublishRequest(title="台灣夜市", description="小吃介紹", tags=["夜市", "台灣"])
    channel = tmp_path / "channel"
    published = LocalChannel(channel).publish(video, thumb, request)

    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", published.video_id)
    folder = channel / published.video_id
    assert sorted(p.name for p in channel.iterdir()) == [published.video_id]  # nothing half-done
    assert sorted(p.name for p in folder.iterdir()) == [
        "metadata.json",
        "thumbnail.jpg",
        "video.mp4",
    ]
    assert published.video_url == (folder / "video.mp4").resolve().as_uri()
    assert (folder / "video.mp4").read_bytes() == video.read_bytes()
    with Image.open(folder / "thumbnail.jpg") as image:
        assert (image.format, image.size) == ("JPEG", (1280, 720))
    meta = json.loads((folder / "metadata.json").read_text("utf-8"))
    assert meta["video_id"] == published.video_id
    assert {
        k: meta[k]
        for k in (
            "title",
            "description",
            "tags",
            "language",
            "privacy",
            "publish_at",
            "category_id",
            "made_for_kids",
            "synthetic_media",
        )
    } == {
        "title": "台灣夜市",
        "description": "小吃介紹",
        "tags": ["夜市", "台灣"],
        "language": "zh-TW",
        "privacy": "private",
        "publish_at": None,
        "category_id": "22",
        "made_for_kids": False,
        "synthetic_media": True,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["uploaded_at"])
    assert meta["files"] == {
        "video.mp4": video.stat().st_size,
        "thumbnail.jpg": (folder / "thumbnail.jpg").stat().st_size,
    }


def test_publisher_gives_each_upload_its_own_id(tmp_path):
    video, thumb = tmp_path / "v.mp4", tmp_path / "t.jpg"
    video.write_bytes(b"video")
    Image.new("RGB", (64, 36)).save(thumb, format="JPEG")
    channel = LocalChannel(tmp_path / "channel")
    ids = {channel.publish(video, thumb, PublishRequest("t", "d")).video_id for _ in range(3)}
    assert len(ids) == 3
    assert (tmp_path / "channel" / ids.pop() / "thumbnail.jpg").read_bytes() == thumb.read_bytes()


def test_publisher_refuses_missing_files(tmp_path):
    thumb = tmp_path / "t.jpg"
    Image.new("RGB", (64, 36)).save(thumb, format="JPEG")
    with pytest.raises(ProviderError) as error:
        LocalChannel(tmp_path / "channel").publish(
            tmp_path / "nope.mp4", thumb, PublishRequest("t", "d")
        )
    assert error.value.code == "LOCAL_PUBLISH_MISSING_FILE"
    assert not any((tmp_path / "channel").glob("*"))
