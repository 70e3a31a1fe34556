"""A full disk, said in words a user can act on: which folder, how much is free, and about how
much the stage needs (so "free some space" has a number).

What a stage writes, measured on a 21.5 s 1920x1080 offline video (x264 ultrafast): voice WAVs
44 kB/s, each picture 0.25 MB (a service's PNG up to ~5 MB), presenter clips 27 kB/s, the final
MP4 215 kB/s and as much again in cached clips, plus the render's scratch WAVs (48 kHz stereo
float: up to ~1 MB/s while the sound is mixed). The figures below round those up.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MB = 1024 * 1024
PER_SECOND_MB = {"script": 0.0, "assets": 0.1, "render": 1.5, "thumbnail": 0.0, "upload": 0.0}
PER_IMAGE_MB = {"assets": 5.0}
FIXED_MB = {"script": 1.0, "assets": 5.0, "render": 20.0, "thumbnail": 5.0, "upload": 1.0}


def needed_mb(stage: str, seconds: float, images: int) -> float:
    """About how many MB `stage` writes for a video of `seconds` with `images` pictures."""
    return (
        FIXED_MB.get(stage, 5.0)
        + PER_SECOND_MB.get(stage, 0.0) * max(seconds, 0.0)
        + PER_IMAGE_MB.get(stage, 0.0) * max(images, 0)
    )


RESERVE = ".space-reserve"
RESERVE_BYTES = 4 * MB  # given back when the disk is full, so the failure can be written


def keep_reserve(data_dir: Path) -> None:
    """A few MB held in the data dir while there is room: when the disk fills, releasing them
    lets the database and the state file record the failure (a project left RENDERING when
    nothing could be written any more)."""
    reserve = data_dir / RESERVE
    try:
        if not reserve.exists() or reserve.stat().st_size < RESERVE_BYTES:
            free = shutil.disk_usage(data_dir).free
            if free > RESERVE_BYTES * 4:
                with open(reserve, "wb") as handle:
                    handle.write(b"\0" * RESERVE_BYTES)
                    handle.flush()
    except OSError:
        reserve.unlink(missing_ok=True)


def release_reserve(data_dir: Path) -> None:
    (data_dir / RESERVE).unlink(missing_ok=True)


def free_mb(folder: Path) -> float | None:
    """Free space on the disk holding `folder` (its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free / MB
            except OSError:
                return None
    return None


def full_message(folder: Path, stage: str, need: float) -> str:
    free = free_mb(folder)
    left = f" ({free:.1f} MB free)" if free is not None else ""
    return (
        f"The disk holding {folder} is full{left}: the {stage} stage needs about {need:.0f} MB. "
        "Free some space (or set YTMAKER_DATA_DIR to a bigger disk), then run "
        "`ytmaker recover` to go on from where it stopped."
    )
