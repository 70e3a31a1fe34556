"""A full disk for real: the data dir (files, state file and SQLite database) on a small tmpfs
that the test mounts, filled by the pipeline itself. The project ends FAILED with DISK_FULL
naming the folder and about what the stage needs, no half-written file has a final name, and
the same stage completes once the disk is made bigger."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import FAST_RULES
from tests.test_damaged_cache import make_assets
from tests.test_faults import new_project
from ytmaker import db
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.media.probe import probe
from ytmaker.models import ProjectStatus
from ytmaker.pipeline import render, script


def mount(folder: Path, size: str, *, again: bool = False) -> bool:
    options = f"remount,size={size}" if again else f"size={size}"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "disk"
    folder.mkdir()
    if shutil.which("mount") is None or not mount(folder, "64m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        db.dispose_engines()
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def disk_settings(small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("YTMAKER_DATA_DIR", str(small_disk / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in FAST_RULES.items():
        monkeypatch.setenv(name, value)
    yield reload_settings()
    db.dispose_engines()
    reload_settings()


def used_mb(folder: Path) -> int:
    return -(-shutil.disk_usage(folder).used // (1024 * 1024))


def test_a_full_disk_at_the_render_is_disk_full_and_recovers(
    small_disk: Path, disk_settings: Settings
) -> None:
    ctx = bootstrap(disk_settings)
    project_id = new_project(ctx)
    script.run(ctx, project_id)
    make_assets(ctx, project_id)
    assert str(small_disk) in disk_settings.resolved_database_url  # the database too
    assert mount(small_disk, f"{used_mb(small_disk) + 1}m", again=True)  # 1 MB left

    with pytest.raises(Exception):  # noqa: B017 - what it is, is checked below
        render.run(ctx, project_id)

    stored = ctx.repo.get_project(project_id)
    assert stored.status is ProjectStatus.FAILED
    info = stored.error_info
    folder = str(ctx.project_dir(project_id))
    assert info["code"] == "DISK_FULL" and info["stage"] == "render" and info["folder"] == folder
    assert info["message"].startswith(f"The disk holding {folder} is full")
    assert "the render stage needs about" in info["message"] and info["needed_mb"] >= 20
    assert "ytmaker recover" in info["message"]
    output = ctx.project_dir(project_id) / "output"
    assert not (output / "video.mp4").exists()
    for clip in (ctx.project_dir(project_id) / "work" / "clips").glob("*.mp4"):
        assert probe(clip).video is not None, f"{clip} is half written under its final name"

    assert mount(small_disk, "256m", again=True)  # space freed
    render.run(ctx, project_id)
    assert ctx.repo.get_project(project_id).status is ProjectStatus.RENDERED
    final = probe(output / "video.mp4")
    assert final.video is not None and final.audio is not None
