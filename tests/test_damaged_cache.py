"""Files damaged between runs: a cached picture, voice piece, presenter clip or rendered clip
that is no longer what was made is made again with a warning naming it (and counted as made
again in the summary) instead of failing the render or going silent in the video. The damage
is done by the test to the real files of a real (offline) project."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_faults import build_once
from ytmaker.bookkeeping import run_stage
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings
from ytmaker.context import Context
from ytmaker.layout import load_script, piece_paths
from ytmaker.media.probe import probe, wav_duration
from ytmaker.models import Timing
from ytmaker.pipeline import assets, render
from ytmaker.pipeline.records import lost
from ytmaker.reports import summary_markdown
from ytmaker.summary import project_summary


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """One offline project made and rendered once; each test damages a copy."""
    return build_once(tmp_path_factory, make_assets)


@pytest.fixture
def project(built: tuple[Path, int], settings: Settings) -> tuple[Context, int]:
    source, project_id = built
    shutil.copytree(source, settings.data_dir, dirs_exist_ok=True)
    for name in ("video.mp4", "video.srt"):
        (settings.project_dir(project_id) / "output" / name).unlink()
    return bootstrap(settings), project_id


def make_assets(ctx: Context, project_id: int) -> None:
    """The asset stage without Prefect, as its tasks call it: each job with its fingerprint
    (what tells a made file from one to make)."""
    with run_stage(ctx, project_id, "assets"):
        jobs = assets.voice_jobs(ctx, project_id)
        seconds = [assets.synthesize_piece(ctx, project_id, int(j.index), j.fingerprint)
                   for j in jobs]  # fmt: skip
        assets.record_durations(ctx, project_id, seconds)
        for job in assets.image_jobs(ctx, project_id):
            assets.make_image(ctx, project_id, int(job.index), fingerprint=job.fingerprint)
        for job in assets.avatar_jobs(ctx, project_id):
            assets.make_avatar(ctx, project_id, str(job.index), job.fingerprint)


def paid_rows(ctx: Context) -> list[tuple[str, str]]:
    with ctx.repo.session() as session:
        return [
            (str(t.asset), t.outcome)
            for t in session.query(Timing).filter(Timing.stage == "assets")
        ]


def test_damaged_assets_are_made_again_naming_the_file(
    project: tuple[Context, int], caplog: pytest.LogCaptureFixture
) -> None:
    ctx, project_id = project
    paths = piece_paths(ctx, project_id, load_script(ctx, project_id))
    picture, empty = paths["images"][1], paths["images"][2]
    voice, avatar = paths["audio"][1], paths["avatar"]["intro"]
    voice_bytes, voice_seconds = voice.read_bytes(), wav_duration(voice)
    picture.write_text("<!doctype html><html><body>502 Bad Gateway</body></html>")
    empty.write_bytes(b"")
    voice.write_bytes(voice_bytes[: len(voice_bytes) * 4 // 10])  # cut to 40 %
    avatar.write_text("this is not a video")
    stale = set()
    for jobs in (assets.voice_jobs, assets.image_jobs, assets.avatar_jobs):
        stale |= lost(ctx, project_id, jobs(ctx, project_id))
    assert stale == {1, 2, "intro"}  # Prefect's cached results of these are refreshed
    before = len(paid_rows(ctx))

    with caplog.at_level(logging.WARNING):
        make_assets(ctx, project_id)

    warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    for path in (picture, empty, voice, avatar):
        assert str(path) in warned, f"{path} not named: {warned}"
    assert "is empty (0 bytes)" in warned and "when made" in warned
    assert wav_duration(voice) == pytest.approx(voice_seconds, abs=0.05)
    assert voice.stat().st_size == pytest.approx(len(voice_bytes), rel=0.05)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and empty.stat().st_size > 0
    assert probe(avatar).video is not None
    remade_rows = [r for r in paid_rows(ctx)[before:] if r[1] == "ok" and r[0] != "None"]
    assert len(remade_rows) == 4  # made (and, with a paid provider, paid for) again
    summary = project_summary(ctx, project_id)
    assert {Path(r["path"]).name for r in summary["remade"]} == {
        picture.name,
        empty.name,
        voice.name,
        avatar.name,
    }
    assert "damaged, made and paid for again" in summary_markdown(summary)

    render.run(ctx, project_id)  # was: FFmpeg failed at piece 2, exit code 69
    video = probe(settings_video(ctx, project_id))
    assert video.audio is not None and video.video is not None


def settings_video(ctx: Context, project_id: int) -> Path:
    return ctx.project_dir(project_id) / "output" / "video.mp4"


def test_a_sound_file_is_not_made_again(
    project: tuple[Context, int], caplog: pytest.LogCaptureFixture
) -> None:
    ctx, project_id = project
    with caplog.at_level(logging.WARNING):
        make_assets(ctx, project_id)
    assert not [r for r in caplog.records if "making it again" in r.getMessage()]
    assert project_summary(ctx, project_id)["remade"] == []


def test_a_truncated_rendered_clip_is_encoded_again(
    project: tuple[Context, int], caplog: pytest.LogCaptureFixture
) -> None:
    ctx, project_id = project
    clips = sorted((ctx.project_dir(project_id) / "work" / "clips").glob("*.mp4"))
    assert clips
    clip = clips[len(clips) // 2]
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    with caplog.at_level(logging.WARNING):
        render.run(ctx, project_id)  # was: 影音長度不一致 (video 17.367s, audio 51.100s)
    warned = [r.getMessage() for r in caplog.records if "encoding it again" in r.getMessage()]
    assert len(warned) == 1 and str(clip) in warned[0]
    assert probe(clip).video is not None
    final = probe(settings_video(ctx, project_id))
    assert final.video is not None and final.video.duration == pytest.approx(
        final.duration, abs=0.2
    )


def test_a_voice_cut_short_without_a_record_fails_the_render_naming_it(
    project: tuple[Context, int],
) -> None:
    """Made by an older version (no facts recorded): the render's own check per piece."""
    from ytmaker.errors import MediaError
    from ytmaker.state import read_state, state_path

    ctx, project_id = project
    state = read_state(ctx.project_dir(project_id))
    for entry in state["assets"].values():
        entry.pop("made", None)
    state_path(ctx.project_dir(project_id)).write_text(json.dumps(state), "utf-8")
    voice = piece_paths(ctx, project_id, load_script(ctx, project_id))["audio"][2]
    voice.write_bytes(voice.read_bytes()[: voice.stat().st_size * 4 // 10])
    with pytest.raises(MediaError) as caught:
        render.run(ctx, project_id)
    assert caught.value.code == "VOICE_DAMAGED" and str(voice) in caught.value.message
    assert "cut short" in caught.value.message
    stored = ctx.repo.get_project(project_id)
    assert stored.error_info["path"] == str(voice)


def test_the_final_video_is_checked_piece_by_piece(tmp_path: Path) -> None:
    from imageio_ffmpeg import get_ffmpeg_exe

    from ytmaker.errors import MediaError
    from ytmaker.media.pieces import check_final

    video = tmp_path / "v.mp4"
    subprocess.run(
        [get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=s=64x64:d=6",
         "-f", "lavfi", "-i", "sine=f=440:d=2", "-f", "lavfi", "-i", "anullsrc=d=2",
         "-f", "lavfi", "-i", "sine=f=440:d=2",
         "-filter_complex", "[1][2][3]concat=n=3:v=0:a=1[a]", "-map", "0:v", "-map", "[a]",
         "-c:v", "libx264", "-c:a", "aac", "-shortest", "-y", str(video)],
        check=True, timeout=60,
    )  # fmt: skip
    with pytest.raises(MediaError, match="Piece 1 of the video .2.0-4.0 s. is silent"):
        check_final(video, [2.0, 2.0, 2.0])
    check_final(video, [2.0])  # the sound pieces alone pass
