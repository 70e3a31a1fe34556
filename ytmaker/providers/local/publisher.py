"""Offline publishing: a folder per video in a local "channel" directory, like an upload."""

from __future__ import annotations

import dataclasses
import json
import secrets
import shutil
import string
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from ytmaker.errors import ProviderError
from ytmaker.files import atomic_output, atomic_write_text
from ytmaker.providers.base import Published, PublishRequest

VIDEO_ID_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
VIDEO_ID_LENGTH = 11
VIDEO_FILE, THUMBNAIL_FILE, METADATA_FILE = "video.mp4", "thumbnail.jpg", "metadata.json"
_JPEG_MAGIC = b"\xff\xd8\xff"


def new_video_id() -> str:
    """11 random characters of YouTube's id alphabet."""
    return "".join(secrets.choice(VIDEO_ID_ALPHABET) for _ in range(VIDEO_ID_LENGTH))


def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise ProviderError(
            f"Cannot publish: the {what} file {path} does not exist.",
            code="LOCAL_PUBLISH_MISSING_FILE",
            file=what,
            path=str(path),
        )


def copy_thumbnail(source: Path, target: Path) -> None:
    """Copy a JPEG as is; convert anything else (PNG from the pipeline) to JPEG."""
    with atomic_output(target) as tmp:
        with source.open("rb") as fh:
            is_jpeg = fh.read(3) == _JPEG_MAGIC
        if is_jpeg:
            shutil.copyfile(source, tmp)
            return
        try:
            with Image.open(source) as image:
                image.convert("RGB").save(tmp, format="JPEG", quality=92)
        except OSError as exc:
            raise ProviderError(
                f"The thumbnail {source} is not a readable image: {exc}.",
                code="LOCAL_PUBLISH_BAD_THUMBNAIL",
                path=str(source),
            ) from exc


def metadata(request: PublishRequest, video_id: str, folder: Path) -> dict[str, Any]:
    return {
        "video_id": video_id,
        **dataclasses.asdict(request),
        "uploaded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": {
            name: (folder / name).stat().st_size
            for name in (VIDEO_FILE, THUMBNAIL_FILE)
            if (folder / name).exists()
        },
        "custom_thumbnail": (folder / THUMBNAIL_FILE).exists(),
    }


class LocalChannel:
    """Implements Publisher offline: channel_dir/{video_id}/ with video, thumbnail, metadata."""

    name = "local-channel"
    metered_service = None

    def __init__(self, channel_dir: Path) -> None:
        self.channel_dir = Path(channel_dir)

    def publish(
        self,
        video: Path,
        thumbnail: Path | None,
        request: PublishRequest,
        *,
        resume_uri: str | None = None,
    ) -> Published:
        """Copy into the channel folder (`resume_uri` is for the YouTube protocol; unused);
        `thumbnail` None: the video has no custom thumbnail (a Short)."""
        video, thumbnail = Path(video), Path(thumbnail) if thumbnail else None
        _require_file(video, "video")
        if thumbnail is not None:
            _require_file(thumbnail, "thumbnail")
        self.channel_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.channel_dir, prefix=".publishing-"))
        try:
            video_id = self._free_id()
            self._fill(staging, video, thumbnail, request, video_id)
            staging.chmod(0o755)
            final = self.channel_dir / video_id
            staging.rename(final)  # the video appears complete or not at all
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return Published(video_id=video_id, video_url=(final / VIDEO_FILE).resolve().as_uri())

    def _free_id(self) -> str:
        while (self.channel_dir / (video_id := new_video_id())).exists():
            pass
        return video_id

    @staticmethod
    def _fill(
        folder: Path, video: Path, thumbnail: Path | None, request: PublishRequest, video_id: str
    ) -> None:
        with atomic_output(folder / VIDEO_FILE) as tmp:
            shutil.copyfile(video, tmp)
        if thumbnail is not None:
            copy_thumbnail(thumbnail, folder / THUMBNAIL_FILE)
        info = metadata(request, video_id, folder)
        atomic_write_text(folder / METADATA_FILE, json.dumps(info, ensure_ascii=False, indent=2))
