"""One small protocol per external service; each has a real client and an offline local one."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ytmaker.script import Script, ScriptRules

AvatarRole = Literal["intro", "outro"]
Gate = Callable[[], AbstractContextManager[object]]
"""Held around each call to a paid service, not around storing its answer: a shared limit on
calls in flight (the Prefect tasks pass one; plain use needs none)."""


class ScriptWriter(Protocol):
    def write(self, content: str, language: str, rules: ScriptRules) -> Script:
        """Return a script for `content`; validation happens in the caller."""
        ...


class Voice(Protocol):
    def synthesize(self, text: str, language: str, out_path: Path) -> float:
        """Write speech for `text` as a WAV file at `out_path`; return its length in seconds."""
        ...


class ImageMaker(Protocol):
    def make(self, description: str, seed: int, out_path: Path) -> Path:
        """Write a 1920x1080 PNG for `description` at `out_path`."""
        ...


class AvatarMaker(Protocol):
    def make(self, audio_path: Path, role: AvatarRole, out_path: Path) -> Path:
        """Write an MP4 of a presenter speaking `audio_path` (with that audio) at `out_path`."""
        ...


@dataclass
class PublishRequest:
    title: str
    description: str
    tags: list[str] = field(default_factory=list)
    language: str = "zh-TW"
    privacy: str = "private"
    publish_at: str | None = None
    category_id: str = "22"
    made_for_kids: bool = False
    synthetic_media: bool = True


@dataclass
class Published:
    video_id: str
    video_url: str


class Publisher(Protocol):
    def publish(
        self,
        video: Path,
        thumbnail: Path | None,
        request: PublishRequest,
        *,
        resume_uri: str | None = None,
    ) -> Published:
        """Upload video and thumbnail (None: no custom thumbnail, as for a Short);
        `resume_uri` continues an interrupted resumable upload."""
        ...
