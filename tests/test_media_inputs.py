"""Logo, music and font files that lie about what they are are refused naming the field — at
`project create`, in batch files, and again before the render — and no FFmpeg call runs
without a time limit. Every damaged file is made here by the test."""

from __future__ import annotations

import shutil
import time
import wave
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import png_header
from tests.test_hostile_cli import run_cli, visual_file
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings
from ytmaker.errors import ConfigError, MediaError
from ytmaker.layout import visual_config
from ytmaker.media import checks, runner
from ytmaker.media.fonts import font_path
from ytmaker.media.visual import VisualConfig


def wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(b"\x10\x00" * int(22050 * seconds))
    return path


def good_logo(path: Path) -> Path:
    Image.new("RGBA", (64, 32), (255, 0, 0, 128)).save(path)
    return path


def bad_logos(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    cut = folder / "cut.png"
    Image.effect_noise((256, 256), 64).save(cut)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    files = {
        "text": (b"hello, I am a logo\n", "is not a PNG, JPEG or WebP image"),
        "empty": (b"", "is empty (0 bytes)"),
        "bomb": (png_header(30000, 30000), "is 30000x30000 pixels; at most 4096x4096"),
        "html": (b"<!doctype html><html><body>404</body></html>", "is not a PNG, JPEG"),
    }
    made = {name: (folder / f"{name}.png", words) for name, (_, words) in files.items()}
    for name, (data, _) in files.items():
        made[name][0].write_bytes(data)
    made["cut"] = (cut, "is a damaged image")
    gif = folder / "anim.png"
    Image.new("P", (8, 8)).save(gif, format="GIF")
    made["gif"] = (gif, "is a GIF image; use PNG, JPEG or WebP")
    return made


def bad_music(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    picture = good_logo(folder / "music.png")
    renamed = folder / "picture.mp3"
    shutil.copyfile(picture, renamed)
    empty = folder / "empty.mp3"
    empty.write_bytes(b"")
    text = folder / "notes.mp3"
    text.write_text("la la la\n" * 100)
    return {
        "png": (renamed, "has no audio stream"),
        "empty": (empty, "is empty (0 bytes)"),
        "header only": (wav(folder / "header.wav", 0), "has no audio samples"),
        "text": (text, "is not audio FFmpeg can read"),
    }


def bad_fonts(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    real = Path(font_path()).read_bytes()
    files = {
        "text": (b"not a font", "is not an OpenType or TrueType font"),
        "cut": (real[:4096], "is a damaged font"),
        "magic only": (b"OTTO" + b"\0" * 200, "is a damaged font"),
        "empty": (b"", "is empty (0 bytes)"),
    }
    made = {}
    for name, (data, words) in files.items():
        path = folder / f"{name.replace(' ', '-')}.otf"
        path.write_bytes(data)
        made[name] = (path, words)
    return made


def test_each_lying_file_is_refused_naming_its_field(tmp_path: Path) -> None:
    cases = [
        ("logo", "path", "visual_config.logo.path", bad_logos(tmp_path / "logo")),
        ("music", "path", "visual_config.music.path", bad_music(tmp_path / "music")),
        ("subtitles", "font_file", "visual_config.subtitles.font_file",
         bad_fonts(tmp_path / "font")),
    ]  # fmt: skip
    for section, key, field, files in cases:
        for name, (path, words) in files.items():
            started = time.monotonic()
            with pytest.raises(ConfigError) as caught:
                VisualConfig.from_dict({section: {key: str(path)}})
            assert caught.value.details["field"] == field, name
            message = caught.value.message
            assert message.startswith(f"{field}: {path} ") and words in message, (name, message)
            assert "\n" not in message
            assert time.monotonic() - started < 2, f"{name} took long to refuse"


def test_real_files_are_accepted(tmp_path: Path) -> None:
    logo = good_logo(tmp_path / "logo.png")
    jpeg = tmp_path / "logo.jpg"
    Image.new("RGB", (4096, 100)).save(jpeg)
    music = wav(tmp_path / "music.wav", 0.5)
    config = VisualConfig.from_dict(
        {
            "logo": {"path": str(jpeg)},
            "music": {"path": str(music)},
            "subtitles": {"font_file": font_path()},
        }  # fmt: skip
    )
    assert config.music.path == music.resolve()
    assert checks.require_image(logo) == (64, 32)
    assert checks.require_audio(music) == pytest.approx(0.5, abs=0.01)


def test_the_bomb_is_refused_from_its_header_without_decoding(tmp_path: Path) -> None:
    """Its one IDAT byte would fail a decode as 'truncated': the size refusal proves the header
    was read first (and Pillow's own bomb check, past 179 M pixels, never comes into it)."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(4097, 4097))
    with pytest.raises(ConfigError, match="is 4097x4097 pixels; at most 4096x4096"):
        checks.require_image(bomb)
    jpeg = tmp_path / "wide.jpg"
    Image.new("RGB", (5000, 8)).save(jpeg)
    with pytest.raises(ConfigError, match="is 5000x8 pixels"):
        checks.require_image(jpeg)


def test_create_and_batch_refuse_them(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    logos = bad_logos(tmp_path / "look")
    music = bad_music(tmp_path / "look")
    article = tmp_path / "a.md"
    article.write_text("夜市", "utf-8")
    for data, words in [
        ({"logo": {"path": "text.png"}}, "visual_config.logo.path: "),
        ({"logo": {"path": "bomb.png"}}, "30000x30000 pixels"),
        ({"music": {"path": "header.wav"}}, "visual_config.music.path: "),
        ({"music": {"path": "picture.mp3"}}, "has no audio stream"),
    ]:
        code, screen = run_cli(
            monkeypatch,
            *("project", "create", "--name", "a", "--content-file", str(article)),
            *("--visual-config", str(visual_file(tmp_path, data))),
        )
        assert code == 1 and words in screen, screen
    assert logos and music
    plan = tmp_path / "look" / "b.yaml"
    plan.write_text(
        "projects:\n"
        "  - {name: a, content: x, visual_config: {logo: {path: bomb.png}}}\n"
        "  - {name: b, content: x, visual_config: {music: {path: header.wav}}}\n",
        "utf-8",
    )
    code, screen = run_cli(monkeypatch, "batch", "create", "--file", str(plan))
    assert code == 1
    assert "projects[0].visual_config.logo.path" in screen and "30000x30000" in screen
    assert "projects[1].visual_config.music.path" in screen and "no audio samples" in screen
    assert bootstrap(settings).repo.list_projects() == []


def test_a_file_damaged_after_create_is_refused_again_before_the_render(
    tmp_path: Path, settings: Settings
) -> None:
    ctx = bootstrap(settings)
    logo = good_logo(tmp_path / "logo.png")
    music = wav(tmp_path / "music.wav", 1.0)
    look = VisualConfig.from_dict({"logo": {"path": str(logo)}, "music": {"path": str(music)}})
    project = ctx.repo.create_project(name="a", content="x", visual_config=look.stored())
    assert visual_config(ctx, project.id).logo.path == logo.resolve()
    wav(music, 0)  # the music replaced by a header with no samples between runs
    with pytest.raises(ConfigError, match="visual_config.music.path: .* has no audio samples"):
        visual_config(ctx, project.id)


def test_ffmpeg_looping_an_empty_wav_is_stopped_by_its_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What made the render hang (music with no samples, looped): bounded now, whatever the
    check before it lets through."""
    monkeypatch.setattr(runner, "LIMIT_FLOOR_SECONDS", 1.0)
    monkeypatch.setattr(runner, "LIMIT_PER_MEDIA_SECOND", 1.0)
    empty = wav(tmp_path / "empty.wav", 0)
    started = time.monotonic()
    with pytest.raises(MediaError) as caught:
        runner.run_args(
            ["-stream_loop", "-1", "-i", str(empty), "-af", "atrim=end_sample=48000",
             "-f", "null", "-"],
            "music",
            media_seconds=1.0,
        )  # fmt: skip
    elapsed = time.monotonic() - started
    assert caught.value.code == "FFMPEG_TIMEOUT" and caught.value.details["step"] == "music"
    assert "did not finish music within 2 s" in caught.value.message
    assert 1.5 < elapsed < 10


def test_a_normal_ffmpeg_call_is_not_cut(tmp_path: Path) -> None:
    tone = wav(tmp_path / "tone.wav", 2.0)
    assert runner.time_limit(2.0) == runner.LIMIT_FLOOR_SECONDS + 2 * runner.LIMIT_PER_MEDIA_SECOND
    runner.run_args(["-i", str(tone), "-f", "null", "-"], "measure", media_seconds=2.0)
