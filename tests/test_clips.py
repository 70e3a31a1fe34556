"""Segments that are video clips: trimmed or looped to the piece, cropped to the frame, CFR,
silent, cached like stills; checked on the rendered MP4."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from imageio_ffmpeg import get_ffmpeg_exe

from tests.test_media import FAST, GREEN, audio_samples, make_png, make_wav, patch_mean
from ytmaker.media.probe import frame_at, probe
from ytmaker.media.render import RenderPiece, RenderSettings, render_video
from ytmaker.media.visual import VisualConfig

NO_FADE = VisualConfig.from_dict({"crossfade": 0, "motion": "off"}, [])


def make_clip(path: Path, seconds: float, size: str = "640x480", rate: int = 24) -> Path:
    """A moving test pattern with a 1 kHz sound track (which the render must drop)."""
    subprocess.run(
        [get_ffmpeg_exe(), "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=1000:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def gray(path: Path, t: float) -> np.ndarray:
    return np.asarray(frame_at(path, t).convert("L"), dtype=float)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("clips")
    pieces = [
        RenderPiece("A short clip, looped.", make_wav(root / "a.wav", 2.0), 2.5,
                    clip=make_clip(root / "short.mp4", 1.0)),
        RenderPiece("A still.", make_wav(root / "b.wav", 1.0), 1.5,
                    image=make_png(root / "g.png", GREEN)),
        RenderPiece("A long clip, trimmed.", make_wav(root / "c.wav", 1.2), 1.5,
                    clip=make_clip(root / "long.mp4", 4.0, "1280x720", 25)),
    ]  # fmt: skip
    info = render_video(pieces, root / "v.mp4", root / "work", FAST, language="en", visual=NO_FADE)
    return {"root": root, "pieces": pieces, "info": info}


def test_clip_video_is_cfr_full_frame_and_as_long_as_the_pieces(mixed: dict) -> None:
    info = probe(mixed["info"].path)
    assert (info.video_streams, info.audio_streams) == (1, 1)
    assert (info.video.width, info.video.height) == (1920, 1080)
    assert info.video.fps == pytest.approx(30.0)
    assert info.video.frames == 165  # 5.5 s at 30 fps: nothing of the 4 s clip beyond 1.5 s
    assert info.duration == pytest.approx(5.5, rel=0.02)


def test_a_short_clip_loops_instead_of_freezing(mixed: dict) -> None:
    path = mixed["info"].path
    times = [0.5 + 0.2 * k for k in range(10)]  # up to 2.3 s, well past the 1 s clip's end
    frames = [gray(path, t) for t in times]
    moves = [np.abs(a - b).mean() for a, b in zip(frames, frames[1:], strict=False)]
    assert min(moves) > 2.0, moves  # every 0.2 s the picture changed
    # the loop starts again at the clip's first frame
    assert np.abs(gray(path, 0.3) - gray(path, 1.3)).mean() < 3.0


def test_clip_is_cropped_to_fill_the_frame_and_its_sound_dropped(mixed: dict) -> None:
    path = mixed["info"].path
    for t in (0.5, 4.5):  # 4:3 and 16:9 sources
        frame = np.asarray(frame_at(path, t).convert("RGB"), dtype=float)
        edges = [frame[:8].mean(), frame[-8:].mean(), frame[:, :8].mean(), frame[:, -8:].mean()]
        assert min(edges) > 20, edges  # no black bars
    assert np.abs(patch_mean(frame_at(path, 3.2)) - GREEN).max() < 12  # the still between
    samples, rate = audio_samples(path)
    spectrum = np.abs(np.fft.rfft(samples[0, : int(2.0 * rate)]))
    freqs = np.fft.rfftfreq(int(2.0 * rate), 1 / rate)
    assert spectrum[np.abs(freqs - 440) < 5].max() > 50 * spectrum[np.abs(freqs - 1000) < 5].max()


def test_clips_are_cached_by_their_inputs(mixed: dict) -> None:
    root, pieces = mixed["root"], mixed["pieces"]
    again = render_video(
        pieces, root / "v2.mp4", root / "work", FAST, language="en", visual=NO_FADE
    )
    assert (again.encoded_pieces, again.reused_pieces) == (0, 3)
    make_clip(root / "long.mp4", 4.0, "1280x720", 30)  # new content, same name
    edited = render_video(
        pieces, root / "v3.mp4", root / "work", FAST, language="en", visual=NO_FADE
    )
    assert (edited.encoded_pieces, edited.reused_pieces) == (1, 2)


def test_clips_cross_fade_and_fill_a_short(tmp_path: Path) -> None:
    pieces = [
        RenderPiece("One.", make_wav(tmp_path / "a.wav", 1.0), 1.5,
                    clip=make_clip(tmp_path / "a.mp4", 0.8)),
        RenderPiece("Two.", make_wav(tmp_path / "b.wav", 1.0), 1.5,
                    clip=make_clip(tmp_path / "b.mp4", 2.0, "1920x1080", 30)),
    ]  # fmt: skip
    settings = RenderSettings(width=1080, height=1920, preset="ultrafast")
    info = render_video(pieces, tmp_path / "s.mp4", tmp_path / "w", settings, language="en")
    probed = probe(info.path)
    assert (probed.video.width, probed.video.height) == (1080, 1920)
    assert probed.video.frames == 90 and probed.video.fps == pytest.approx(30.0)
    frame = np.asarray(frame_at(info.path, 1.6).convert("RGB"), dtype=float)  # mid-fade
    assert min(frame[:8].mean(), frame[-8:].mean(), frame[:, :8].mean()) > 20


# --- the offline clip maker through the whole flow ------------------------------------------

CONTENT_EN = """Night markets
Night markets open when the sun goes down, with food stalls and bright lights.
Tea gardens climb the green mountains, and the leaves are picked by hand.
Temples fill with incense during the festival, and the streets are full of people.
"""


@pytest.mark.slow
def test_local_clips_make_moving_segments_through_the_flow(
    settings, prefect_harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.video import generate_video
    from ytmaker.bootstrap import bootstrap
    from ytmaker.config import reload_settings
    from ytmaker.script import Script

    monkeypatch.setenv("YTMAKER_IMAGE_PROVIDER", "local-clips")
    ctx = bootstrap(reload_settings())
    project = ctx.repo.create_project(
        name="Night markets", content=CONTENT_EN, language="en", visual_config={"motion": "off"}
    )
    result = generate_video(project.id)
    assert result["status"] == "COMPLETED", result
    script = Script.model_validate(ctx.repo.get_project(project.id).script)
    images = ctx.project_dir(project.id) / "images"
    for segment in script.segments:  # a picture (thumbnail, review) and its clip
        clip = probe(images / f"segment_{segment.index:03d}.mp4")
        assert (clip.video.width, clip.video.height, clip.audio) == (1920, 1080, None)
        assert (images / f"segment_{segment.index:03d}.png").is_file()
    video = Path(result["video_path"])
    info = probe(video)
    assert info.video.fps == pytest.approx(30.0) and (info.video.width, info.video.height) == (
        1920,
        1080,
    )
    assert info.duration == pytest.approx(script.realised_duration(), rel=0.02)
    start = script.intro.spoken_duration + 0.6  # past the cross-fade
    length = script.segments[0].spoken_duration
    early, late = gray(video, start), gray(video, start + min(1.0, length - 0.8))
    assert np.abs(early - late).mean() > 2.0  # motion "off": only footage moves


def test_demo_refuses_unknown_visuals_in_one_line(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    refused = run_cli(tmp_path, "demo", "--visuals", "gifs")
    assert refused.returncode == 1 and "--visuals: 'gifs' is not pictures or clips" in (
        refused.stderr
    )
    assert "Traceback" not in refused.stderr + refused.stdout
