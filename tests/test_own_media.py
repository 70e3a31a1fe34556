"""A creator's own pictures and clips: checked when given (refused naming the file), used for
their segments in name order or by `segment_NN.*`, the other segments made by the provider."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import run_cli
from tests.test_clips import make_clip
from tests.test_media import FAST, make_png, make_wav, patch_mean
from ytmaker import own_media
from ytmaker.batch import parse_batch
from ytmaker.errors import InputError
from ytmaker.files import clip_path
from ytmaker.media.probe import frame_at, probe
from ytmaker.media.render import RenderPiece, render_video

ORANGE = (230, 120, 20)


def huge_png(path: Path, side: int = 30000) -> Path:
    """A valid PNG header claiming side x side pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


@pytest.mark.parametrize(
    ("name", "make", "why"),
    [
        ("clip.mp4", lambda p: p.write_text("not a video"), "is not a video FFmpeg can read"),
        ("empty.png", lambda p: p.write_bytes(b""), "is empty (0 bytes)"),
        ("huge.png", huge_png, "is 30000x30000 pixels"),
        ("notes.txt", lambda p: p.write_text("x"), "is neither a picture nor a video"),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, name, make, why) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    make_png(folder / "a.png", ORANGE)
    make(folder / name)
    with pytest.raises(InputError) as caught:
        own_media.plan(folder, 10_000_000, "--media")
    assert str(folder / name) in str(caught.value) and why in str(caught.value)
    content = tmp_path / "c.md"
    content.write_text("夜市很熱鬧。" * 200, "utf-8")
    ran = run_cli(tmp_path, "project", "create", "--name", "x", "--content-file", str(content),
                  "--media", str(folder))  # fmt: skip
    assert ran.returncode == 1 and f"--media: {folder / name} {why}" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_the_size_limit_is_the_setting(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    picture = make_png(folder / "a.png", ORANGE)
    with pytest.raises(InputError, match="YTMAKER_MEDIA_MAX_BYTES"):
        own_media.plan(folder, picture.stat().st_size - 1)


def test_a_batch_media_folder_must_be_under_the_batch_folder(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    batch = tmp_path / "batch"
    (batch / "media").mkdir(parents=True)
    make_png(batch / "media" / "one.png", ORANGE)
    make_png(tmp_path / "outside" / "x.png", ORANGE)
    item = {"name": "A", "content": "夜市很熱鬧。" * 50}
    plan = parse_batch({"projects": [{**item, "media": "media"}]}, batch)
    media = plan.projects[0].visual_config["media"]
    assert media["order"] == ["one.png"] and media["folder"] == str((batch / "media").resolve())
    with pytest.raises(InputError) as caught:
        parse_batch({"projects": [{**item, "media": "../outside"}]}, batch)
    assert "projects[0].media" in str(caught.value) and "outside the batch" in str(caught.value)


def test_files_go_to_segments_by_name_then_in_name_order(tmp_path: Path) -> None:
    media = {
        "folder": str(tmp_path),
        "order": ["a.png", "b.png"],
        "segments": {"2": "segment_02.mp4"},
    }
    chosen = [own_media.file_for(media, s, [1, 2, 3, 4]) for s in (1, 2, 3, 4)]
    assert [p.name if p else None for p in chosen] == ["a.png", "segment_02.mp4", "b.png", None]


def test_own_picture_and_clip_with_provider_stills_in_one_video(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    make_png(folder / "a.png", ORANGE, (1280, 960))  # 4:3: cover-cropped
    make_clip(folder / "segment_02.mp4", 1.0)
    media = own_media.plan(folder, 50_000_000)
    images = tmp_path / "images"
    pieces = []
    for index in (1, 2, 3):
        picture = images / f"segment_{index:03d}.png"
        own = own_media.file_for(media, index, [1, 2, 3])
        if own is not None:
            own_media.use(own, picture, (1920, 1080), clip_path(picture))
        else:
            make_png(picture, (30, 160, 40))  # what the provider made
        clip = clip_path(picture)
        pieces.append(
            RenderPiece(f"Part {index}.", make_wav(tmp_path / f"{index}.wav", 1.0), 2.0,
                        image=picture, clip=clip if clip.exists() else None)
        )  # fmt: skip
    assert probe(images / "segment_001.png").video.width == 1920
    assert not clip_path(images / "segment_001.png").exists()
    assert probe(clip_path(images / "segment_002.png")).video is not None
    from ytmaker.media.visual import VisualConfig

    look = VisualConfig.from_dict({"crossfade": 0, "motion": "off"})
    info = render_video(
        pieces, tmp_path / "v.mp4", tmp_path / "w", FAST, language="en", visual=look
    )
    assert probe(info.path).video.frames == 180
    assert np.abs(patch_mean(frame_at(info.path, 1.0)) - ORANGE).max() < 12  # own picture
    moving = [np.asarray(frame_at(info.path, t).convert("L"), float) for t in (2.3, 2.7)]
    assert np.abs(moving[0] - moving[1]).mean() > 2  # own clip
    assert np.abs(patch_mean(frame_at(info.path, 5.0)) - (30, 160, 40)).max() < 12


def test_the_asset_stage_uses_own_media_and_the_provider_for_the_rest(
    settings, tmp_path: Path
) -> None:
    from ytmaker.bootstrap import bootstrap
    from ytmaker.layout import piece_paths
    from ytmaker.pipeline.assets import image_jobs, make_image
    from ytmaker.providers.local.script_writer import LocalScriptWriter
    from ytmaker.script import ScriptRules

    folder = tmp_path / "media"
    folder.mkdir()
    make_png(folder / "segment_01.png", ORANGE)
    make_clip(folder / "b.mp4", 1.0)
    ctx = bootstrap(settings)
    visual = {"media": own_media.plan(folder, settings.media_max_bytes)}
    project = ctx.repo.create_project(name="M", content="x", language="en", visual_config=visual)
    text = "Night markets glow. " * 20 + "\n\n" + "Street food sizzles. " * 20
    script = LocalScriptWriter().write(text, "en", ScriptRules(total_min=5, segment_min=1))
    ctx.repo.update_project(project.id, script=script.model_dump(mode="json"))
    before = {job.index: job.fingerprint for job in image_jobs(ctx, project.id)}
    images = piece_paths(ctx, project.id, script)["images"]
    for index in sorted(images):
        make_image(ctx, project.id, index)
    first, second, third = (images[i] for i in sorted(images)[:3])
    assert np.abs(np.asarray(frame_at(first, 0).convert("RGB"), float)[500, 900] - ORANGE).max() < 3
    assert probe(clip_path(second)).video.frames == 24  # the own clip (1 s at 24 fps)
    assert third.is_file() and not clip_path(third).exists()  # made by the provider
    make_png(folder / "segment_01.png", (10, 10, 200))  # an edited own file: made again
    after = {job.index: job.fingerprint for job in image_jobs(ctx, project.id)}
    assert after[1] != before[1] and after[3] == before[3]


# --- one segment's own file, given in the script review (`segments[n].media`) ---------------


def test_a_segment_media_in_the_edited_script_is_checked_and_shown_there(
    settings, tmp_path: Path
) -> None:
    from ytmaker.bootstrap import bootstrap
    from ytmaker.layout import piece_paths
    from ytmaker.pipeline.assets import image_jobs, make_image
    from ytmaker.providers.local.script_writer import LocalScriptWriter
    from ytmaker.script import ScriptRules
    from ytmaker.script_review import MediaRules, apply_edit, editable

    rules = ScriptRules(total_min=5, segment_min=1)
    text = "Night markets glow. " * 20 + "\n\n" + "Street food sizzles. " * 20
    script = LocalScriptWriter().write(text, "en", rules)
    folder = tmp_path / "mine"
    folder.mkdir()
    make_png(folder / "stall.png", ORANGE)
    (folder / "notes.mp4").write_text("not a video", "utf-8")
    media = MediaRules(folder, settings.media_max_bytes)

    def edit(**second: str) -> dict:
        given = editable(script)
        given["segments"][1].update(second)
        return given

    for bad, why in (("notes.mp4", "is not a video FFmpeg can read"), ("gone.png", "not a file")):
        with pytest.raises(InputError) as refused:
            apply_edit(script, edit(media=bad), rules, "--script s.yaml", media)
        (problem,) = refused.value.details["problems"]
        assert problem["field"] == "segments[2].media" and why in problem["message"]
    edited, changed = apply_edit(script, edit(media="stall.png"), rules, "s.yaml", media)
    assert changed == ["segments[2].media"]
    assert edited.segments[1].media == str((folder / "stall.png").resolve())
    kept, _ = apply_edit(edited, editable(edited), rules, "s.yaml", media)  # shown, kept
    assert kept.segments[1].media == edited.segments[1].media
    cleared, _ = apply_edit(edited, edit(media=""), rules, "s.yaml", media)
    assert cleared.segments[1].media is None

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="M", content="x", language="en")
    ctx.repo.update_project(project.id, script=script.model_dump(mode="json"))
    before = {job.index: job.fingerprint for job in image_jobs(ctx, project.id)}
    ctx.repo.update_project(project.id, script=edited.model_dump(mode="json"))
    after = {job.index: job.fingerprint for job in image_jobs(ctx, project.id)}
    second = edited.segments[1].index
    assert [i for i in after if after[i] != before[i]] == [second]  # only it is made again
    picture = Path(make_image(ctx, project.id, second))
    assert picture == piece_paths(ctx, project.id, edited)["images"][second]
    pixel = np.asarray(frame_at(picture, 0).convert("RGB"), float)[500, 900]
    assert np.abs(pixel - ORANGE).max() < 3  # the creator's picture, not a drawing
