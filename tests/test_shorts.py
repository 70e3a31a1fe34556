"""Vertical Shorts: the format as each entry takes it, the Shorts script rules, portrait
pictures from both image makers, the 1080x1920 render with its safe area, and an upload
without a custom thumbnail."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy
from imageio_ffmpeg import get_ffmpeg_exe
from PIL import Image

from tests.servers.gemini import gemini_writes_the_script, valid_script
from tests.servers.stability import FakeStability
from tests.servers.youtube import FakeYouTube
from ytmaker import db, formats, providers
from ytmaker.batch import parse_batch
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.errors import ConfigError, InputError, ScriptValidationError
from ytmaker.media.probe import frame_at, probe
from ytmaker.media.render import RenderPiece, RenderSettings, render_video
from ytmaker.media.visual import VisualConfig
from ytmaker.models import ProjectStatus
from ytmaker.pipeline import script as script_stage
from ytmaker.project_input import new_project
from ytmaker.providers.base import PublishRequest
from ytmaker.providers.local.images import PillowImages
from ytmaker.providers.local.publisher import LocalChannel
from ytmaker.providers.youtube import CHUNK_UNIT, YouTubePublisher
from ytmaker.script import Script

VERTICAL = RenderSettings(width=1080, height=1920, preset="ultrafast")
SHORT_ZH = (
    ROOT := Path(__file__).resolve().parent.parent
) / "data/samples/night-markets.short.zh-TW.md"


# --- the format at every entry ------------------------------------------------------------


def test_the_format_is_checked_naming_the_field() -> None:
    ok = new_project("夜市", "夜市很好吃。", "zh-TW", {}, video_format="shorts")
    assert ok["format"] == "shorts"
    assert new_project("夜市", "夜市很好吃。", "zh-TW", {})["format"] == "landscape"
    with pytest.raises(InputError) as caught:
        new_project("夜市", "夜市很好吃。", "zh-TW", {}, video_format="vertical")
    assert caught.value.details["field"] == "format"
    assert "format: 'vertical' is not a video format: use landscape or shorts" in str(caught.value)


def test_a_batch_file_gives_the_format_per_project_or_for_all(tmp_path: Path) -> None:
    plan = parse_batch(
        {
            "format": "shorts",
            "projects": [
                {"name": "a", "content": "夜市很好吃。"},
                {"name": "b", "content": "夜市很好吃。", "format": "landscape"},
            ],
        },
        tmp_path,
    )
    assert [p.format for p in plan.projects] == ["shorts", "landscape"]
    with pytest.raises(InputError) as caught:
        parse_batch({"projects": [{"name": "a", "content": "x", "format": "tall"}]}, tmp_path)
    assert "projects[0].format" in caught.value.message
    assert "'tall' is not a video format" in caught.value.message


def test_cli_project_create_takes_the_format(settings: Settings, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ytmaker_cli import app

    article = tmp_path / "a.md"
    article.write_text("夜市很好吃。", "utf-8")
    args = ["project", "create", "--name", "夜市", "--content-file", str(article)]
    made = CliRunner().invoke(app, [*args, "--format", "shorts"])
    assert made.exit_code == 0, made.output
    stored = bootstrap(settings).repo.get_project(int(made.output.strip()))
    assert stored.format == "shorts"
    refused = CliRunner().invoke(app, [*args, "--format", "square"])
    assert refused.exit_code == 1 and "format: 'square' is not a video format" in refused.output
    assert "Traceback" not in refused.output


def test_demo_refuses_an_unknown_format_in_one_line(settings: Settings) -> None:
    from typer.testing import CliRunner

    from ytmaker.providers.local.script_writer import LocalScriptWriter
    from ytmaker_cli import app

    refused = CliRunner().invoke(app, ["demo", "--format", "square"])
    assert refused.exit_code == 1
    assert "--format: 'square' is not a video format: use landscape or shorts" in refused.output
    assert "Traceback" not in refused.output
    for language in ("zh-TW", "en"):  # the Short samples are there and fit the Shorts rules
        sample = formats.demo_sample(ROOT / "data" / "samples", language, "shorts")
        rules = formats.rules_for(settings, "shorts")
        script = LocalScriptWriter().write(sample.read_text("utf-8"), language, rules)
        formats.check_script(script, rules, "shorts")


def test_the_prefect_ui_form_gives_the_format_and_the_captions() -> None:
    from ytmaker.forms import NewVideo, video_fields

    form = NewVideo(name="夜市", content="夜市很好吃。", format="shorts", captions="words")
    fields = video_fields(form)
    assert fields["format"] == "shorts"
    assert fields["visual_config"] == {"subtitles": {"style": "words"}}
    assert "visual_config" not in video_fields(NewVideo(name="夜市", content="夜市很好吃。"))


def test_an_older_database_gets_the_format_column_as_landscape(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    project_id = db.Repository(url).create_project(name="old", content="x").id
    with db.get_engine(url).begin() as conn:
        conn.execute(sqlalchemy.text("ALTER TABLE projects DROP COLUMN format"))
    db.dispose_engines()

    upgraded = db.Repository(url).get_project(project_id)

    assert upgraded.format == "landscape"
    db.dispose_engines()


def test_shorts_total_cannot_be_set_above_youtubes_three_minutes(monkeypatch) -> None:
    monkeypatch.setenv("YTMAKER_SHORTS_TOTAL_MAX_SECONDS", "200")
    with pytest.raises(ConfigError) as caught:
        reload_settings()
    assert "YTMAKER_SHORTS_TOTAL_MAX_SECONDS" in caught.value.message
    monkeypatch.delenv("YTMAKER_SHORTS_TOTAL_MAX_SECONDS")
    reload_settings()


# --- the Shorts script rules --------------------------------------------------------------


def _script(segments: int, seconds: float) -> Script:
    data = valid_script(segments=segments, seconds=seconds)
    return Script.model_validate({"language": "zh-TW", **data})


def test_shorts_rules_refuse_a_200_s_script_naming_the_rule(settings: Settings) -> None:
    rules = formats.rules_for(settings, "shorts")
    assert (rules.segment_min, rules.segment_max, rules.total_min, rules.total_max) == (
        2.0,
        10.0,
        15.0,
        180.0,
    )
    long = _script(segments=18, seconds=10)  # 10 + 10 + 180 = 200 s
    with pytest.raises(ScriptValidationError) as caught:
        formats.check_script(long, rules, "shorts")
    error = caught.value
    assert error.details["rule"] == "shorts.total_max"
    assert error.details["setting"] == "YTMAKER_SHORTS_TOTAL_MAX_SECONDS"
    assert "total 200.0s not within 15-180s" in error.message
    assert "rule shorts.total_max = 180 s (YTMAKER_SHORTS_TOTAL_MAX_SECONDS)" in error.message
    # the same script is a fine landscape video, and a 12 s segment breaks the Shorts rule
    formats.check_script(long, settings.rules, "landscape")
    with pytest.raises(ScriptValidationError) as caught:
        formats.check_script(_script(segments=5, seconds=12), rules, "shorts")
    assert caught.value.details["rule"] == "shorts.segment_max"


def test_a_short_asks_gemini_for_a_hook_and_refuses_its_200_s_script(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gemini_writes_the_script(monkeypatch, YTMAKER_RETRIES="0") as server:
        server.script_text = valid_script(segments=18, seconds=10)
        ctx = bootstrap(reload_settings())
        project = ctx.repo.create_project(
            name="夜市", content="夜市很好吃。", language="zh-TW", format="shorts"
        )
        with pytest.raises(ScriptValidationError) as caught:
            script_stage.run(ctx, project.id)
        (request,) = server.requests_to(":generateContent", "POST")
    prompt = request.json()["contents"][0]["parts"][0]["text"]
    assert "YouTube Short" in prompt and "a hook spoken in the first two or three seconds" in prompt
    assert "between 2 and 10" in prompt and "between 15 and 180 seconds" in prompt
    assert "YTMAKER_SHORTS_TOTAL_MAX_SECONDS" in caught.value.message
    stored = ctx.repo.get_project(project.id)
    assert stored.status is ProjectStatus.FAILED
    assert stored.error_info["rule"] == "shorts.total_max"


def test_the_local_writer_makes_a_short_of_the_bundled_sample(settings: Settings) -> None:
    from ytmaker.providers.local.script_writer import LocalScriptWriter

    rules = formats.rules_for(settings, "shorts")
    script = LocalScriptWriter().write(SHORT_ZH.read_text("utf-8"), "zh-TW", rules)
    formats.check_script(script, rules, "shorts")
    assert 15 <= script.total_duration <= 180
    # a hook first: the text's own opening question and fact, no greeting
    assert script.intro.text == "你知道嗎？台灣幾乎每座城市，天黑以後都會多出一條只賣小吃的街。"
    assert "大家好" not in script.intro.text and "按讚" not in script.outro.text
    # the landscape rules (and so the fingerprints of scripts already written) are unchanged
    assert settings.rules.model_dump() == formats.rules_for(settings, "landscape").model_dump()
    assert "hook" not in rules.model_dump()
    sample = ROOT / "data/samples/night-markets.zh-TW.md"  # too long for a Short
    with pytest.raises(InputError) as caught, formats.named_rules(rules, "shorts"):
        LocalScriptWriter().write(sample.read_text("utf-8"), "zh-TW", rules)
    assert "YTMAKER_SHORTS_TOTAL_MAX_SECONDS" in caught.value.message
    assert "YTMAKER_TOTAL_MAX_SECONDS" not in caught.value.message


# --- pictures -----------------------------------------------------------------------------


def test_stability_is_asked_for_9_16_and_the_picture_is_portrait(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with FakeStability() as server:
        monkeypatch.setenv("STABILITY_API_KEY", server.api_key)
        monkeypatch.setenv("STABILITY_BASE_URL", server.url)
        maker = providers.image_maker(reload_settings(), frame=formats.FRAMES["shorts"])
        out = maker.make("a night market street seen from above", 3, tmp_path / "s.png")
        (request,) = server.requests
    assert request.form["aspect_ratio"] == "9:16"
    with Image.open(out) as image:
        assert image.size == (1080, 1920)


def test_local_pictures_are_drawn_portrait_not_cropped(tmp_path: Path) -> None:
    """A portrait painting, not the middle of a landscape one made larger: it differs from
    that crop, and keeps the painter's full detail (the crop, scaled up 1.78x, is softer)."""
    description, seed = "a quiet harbour at dawn", 2
    tall = PillowImages(caption=False, size=(1080, 1920)).make(
        description, seed, tmp_path / "t.png"
    )
    wide = PillowImages(caption=False).make(description, seed, tmp_path / "w.png")
    with Image.open(tall) as t, Image.open(wide) as w:
        assert t.size == (1080, 1920) and w.size == (1920, 1080)
        portrait = np.asarray(t.convert("L"), np.float32)
        crop = w.crop((656, 0, 1264, 1080)).resize((1080, 1920), Image.Resampling.BICUBIC)
    cropped = np.asarray(crop.convert("L"), np.float32)
    assert np.corrcoef(portrait.ravel(), cropped.ravel())[0, 1] < 0.9

    def detail(pixels: np.ndarray) -> float:
        return float(np.abs(np.diff(pixels, axis=1)).mean())

    assert detail(portrait) > 1.2 * detail(cropped)
    rows = portrait.mean(axis=1)  # and sky above the calm, darker band for the captions
    assert rows[: 1920 // 3].mean() > rows[-1920 // 6 :].mean()


# --- render -------------------------------------------------------------------------------


def _tone(path: Path, seconds: float) -> Path:
    subprocess.run(
        [get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency=300:duration={seconds}", "-ar", "22050", "-ac", "1", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _landscape_avatar(path: Path, seconds: float) -> Path:
    subprocess.run(
        [get_ffmpeg_exe(), "-v", "error", "-y",
         "-f", "lavfi", "-i", f"color=c=0x30C030:size=640x360:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=500:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


def _white(frame: Image.Image) -> np.ndarray:
    pixels = np.asarray(frame.convert("RGB")).astype(int)
    return (pixels > 225).all(axis=2)


def test_a_vertical_render_fits_the_avatar_and_keeps_captions_in_the_safe_area(
    tmp_path: Path,
) -> None:
    dark = tmp_path / "dark.png"
    Image.new("RGB", (1080, 1920), (15, 25, 60)).save(dark)
    avatar = _landscape_avatar(tmp_path / "intro.mp4", 2.0)
    text = "夜市的起源可以追溯到早期廟口的市集，攤販跟著人潮而來，慢慢形成今天的夜市。"
    pieces = [
        RenderPiece("大家好，歡迎收看。", _tone(tmp_path / "0.wav", 2.0), 2.0, video=avatar),
        RenderPiece(text, _tone(tmp_path / "1.wav", 3.0), 3.0, image=dark),
    ]
    visual = VisualConfig.from_dict({"motion": "off", "crossfade": 0})
    out = tmp_path / "short.mp4"
    info = render_video(pieces, out, tmp_path / "work", VERTICAL, language="zh-TW", visual=visual)

    meta = probe(out)
    assert (info.width, info.height, round(info.fps)) == (1080, 1920, 30)
    assert meta.video.codec == "h264" and meta.audio.codec == "aac"
    assert abs(info.duration - 5.0) / 5.0 <= 0.02
    # the landscape avatar fills the width over a blurred copy of itself: no black bars
    intro = np.asarray(frame_at(out, 1.0).convert("RGB")).astype(int)
    assert intro[100, 540, 1] > 60 and intro[1800, 540, 1] > 60  # green, top and bottom
    # the captions: white text, centred, above the bottom 30 % and clear of the right side
    white = _white(frame_at(out, 3.5))
    ys, xs = np.nonzero(white)
    assert len(ys) > 2000
    assert ys.max() <= 1920 * 0.70 and ys.min() >= 1920 * 0.4
    assert xs.min() >= 140 and xs.max() <= 1080 - 140
    assert abs((xs.min() + xs.max()) / 2 - 540) <= 40


# --- upload -------------------------------------------------------------------------------


def test_youtube_gets_no_custom_thumbnail_for_a_short(tmp_path: Path) -> None:
    from google.oauth2.credentials import Credentials

    video = tmp_path / "short.mp4"
    video.write_bytes(b"\0" * (CHUNK_UNIT + 10))
    request = PublishRequest(title="夜市", description=formats.with_hashtag("夜市", "shorts", True))
    with FakeYouTube() as server:
        publisher = YouTubePublisher(
            None,
            None,
            api_endpoint=server.url,
            chunk_size=CHUNK_UNIT,
            credentials=Credentials(token=server.access_token),
            resume_delay=0,
        )
        published = publisher.publish(video, None, request)
        assert server.stored(published.video_id) == video.read_bytes()
        assert server.requests_to("/thumbnails/set", "POST") == []
        start = server.requests_to("/upload/youtube/v3/videos", "POST")[0]
    assert start.json()["snippet"]["description"] == "夜市\n\n#Shorts"


def test_the_hashtag_is_an_option() -> None:
    assert formats.with_hashtag("夜市", "shorts", False) == "夜市"
    assert formats.with_hashtag("夜市", "landscape", True) == "夜市"
    assert formats.with_hashtag("夜市 #shorts", "shorts", True) == "夜市 #shorts"


def test_the_local_channel_keeps_no_thumbnail_for_a_short(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0" * 100)
    published = LocalChannel(tmp_path / "channel").publish(video, None, PublishRequest("a", "b"))
    folder = tmp_path / "channel" / published.video_id
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "video.mp4"]
    assert json.loads((folder / "metadata.json").read_text("utf-8"))["custom_thumbnail"] is False


# --- end to end ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_short_end_to_end_with_word_captions(settings: Settings, prefect_harness: None) -> None:
    """The bundled Short sample through the whole flow: a 1080x1920 30 fps H.264/AAC video of
    at most 180 s, as long as its narration within 2 %, published without a thumbnail."""
    from flows.video import generate_video
    from ytmaker.summary import project_summary

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(
        name="夜市 Short",
        content=SHORT_ZH.read_text("utf-8"),
        language="zh-TW",
        format="shorts",
        visual_config={"subtitles": {"style": "words"}},
    )
    result = generate_video(project.id)
    assert result["status"] == "COMPLETED", result

    stored = ctx.repo.get_project(project.id)
    script = Script.model_validate(stored.script)
    video = ctx.project_dir(project.id) / "output" / "video.mp4"
    meta = probe(video)
    assert (meta.video.width, meta.video.height, round(meta.video.fps)) == (1080, 1920, 30)
    assert meta.video.codec == "h264" and meta.audio.codec == "aac"
    assert meta.duration <= 180
    expected = script.realised_duration()
    assert abs(meta.duration - expected) / expected <= 0.02
    with Image.open(ctx.project_dir(project.id) / "images" / "segment_001.png") as image:
        assert image.size == (1080, 1920)
    channel = settings.channel_dir / stored.youtube_video_id
    assert not (channel / "thumbnail.jpg").exists()
    summary = project_summary(ctx, project.id)
    assert summary["format"] == "shorts" and summary["custom_thumbnail"] is False
    assert "no custom thumbnail" in summary["thumbnail_note"]
    clips = list((ctx.project_dir(project.id) / "work" / "clips").glob("*.ass"))
    assert clips and all("{\\k" in clip.read_text("utf-8") for clip in clips)
