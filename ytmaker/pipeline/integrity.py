"""Is a file made earlier still what was made? Before a cached asset (voice piece, picture,
presenter clip) is used again it is checked cheaply against the facts recorded when it was
made — its size, its SHA-256, and what it holds (picture size, audio length, a video stream) —
so a picture overwritten by an HTML page or a voice WAV cut to 40 % between runs is made again
(with a warning naming the file) instead of failing the render or going silent in the video.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ytmaker.errors import MediaError
from ytmaker.media.headers import file_image_size
from ytmaker.models import AssetType

VIDEO_KINDS = (AssetType.AVATAR_INTRO, AssetType.AVATAR_OUTRO)


def facts(kind: AssetType, path: Path) -> dict[str, Any]:
    """What to check the file against later: bytes, SHA-256, and what it holds."""
    made: dict[str, Any] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    made.update(_content(kind, path) or {})
    return made


def damage(kind: AssetType, path: Path, recorded: dict[str, Any] | None) -> str | None:
    """What is wrong with `path` (an existing file) against `recorded`; None if it is sound.
    Without a record (made by an older version) only its content is checked."""
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    if recorded:
        if recorded.get("bytes") not in (None, size):
            return f"is {size:,} bytes; it was {recorded['bytes']:,} when made"
        if recorded.get("sha256") not in (None, _sha256(path)):
            return "has changed since it was made (its SHA-256 differs)"
        return None
    try:
        held = _content(kind, path)
    except MediaError as exc:
        return exc.message
    return None if held is not None else "is not what it should be (it does not decode)"


def _content(kind: AssetType, path: Path) -> dict[str, Any] | None:
    """What the file holds, or None if it is not that kind of file at all."""
    from ytmaker.media.probe import probe, wav_duration

    if kind is AssetType.IMAGE:
        header = file_image_size(path)
        return None if header is None else {"width": header[1], "height": header[2]}
    if kind is AssetType.AUDIO:
        seconds = wav_duration(path)
        return {"seconds": round(seconds, 3)} if seconds > 0 else None
    if kind in VIDEO_KINDS:
        info = probe(path)
        return {"seconds": round(info.duration, 3)} if info.video and info.duration > 0 else None
    return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
