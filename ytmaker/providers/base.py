"""One small protocol per external service; each has a real client and an offline local one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ytmaker.script import Script, ScriptRules

AvatarRole = Literal["intro", "outro"]
Gate = Callable[[], AbstractContextManager[object]]
"""Held around each call to a paid service, not around storing its answer: a shared limit on
calls in flight (the Prefect tasks pass one; plain use needs none)."""
_gate: ContextVar[Gate] = ContextVar("ytmaker_gate", default=nullcontext)


def paid_call() -> AbstractContextManager[object]:
    """The gate the caller set around this call (`gated`), else none: a provider built once per
    run still waits at the slot of the image it is making now."""
    return _gate.get()()


@contextmanager
def gated(gate: Gate) -> Iterator[None]:
    token = _gate.set(gate)
    try:
        yield
    finally:
        _gate.reset(token)


class Service(Protocol):
    name: str
    """Who makes it (`stability`, `pillow`...): part of every asset's fingerprint and the key of
    per-service limits."""

    @property
    def metered_service(self) -> str | None:
        """The account its calls are counted against (`gemini`, `stability`, `youtube`), or None
        for an offline one (a class attribute in each provider)."""


def variant_of(service: object) -> dict[str, Any]:
    """What besides its name decides a provider's output (its model, voice, rate...), where it
    says: a fingerprint includes it, so another model or voice makes the asset again."""
    return dict(getattr(service, "variant", None) or {})


class ScriptWriter(Service, Protocol):
    def write(
        self, content: str, language: str, rules: ScriptRules, *, title: str | None = None
    ) -> Script:
        """Return a script for `content`; validation happens in the caller. `title`: the
        project's name (a writer that cannot write a title of its own uses it)."""
        ...


class Voice(Service, Protocol):
    def synthesize(self, text: str, language: str, out_path: Path) -> float:
        """Write speech for `text` as a WAV file at `out_path`; return its length in seconds."""
        ...


class ImageMaker(Service, Protocol):
    def make(self, description: str, seed: int, out_path: Path) -> Path:
        """Write a 1920x1080 PNG for `description` at `out_path`."""
        ...


class AvatarMaker(Service, Protocol):
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


class Publisher(Service, Protocol):
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
