"""Pick each service's implementation from settings, by name, from one registry.

`auto` means a configured service (in the documented order of ytmaker/providers/catalog.py),
else the offline local one; `local` forces offline; a provider's name forces that provider (and
fails clearly without its settings). ytmaker/providers/registry.py says how.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ytmaker.config import Settings
from ytmaker.errors import ConfigError
from ytmaker.formats import FRAMES, Frame
from ytmaker.providers import catalog, registry  # noqa: F401 - catalog fills the registry
from ytmaker.providers.base import (
    AvatarMaker,
    ImageMaker,
    Publisher,
    ScriptWriter,
    Voice,
)
from ytmaker.voices import VoiceSettings


def script_writer(settings: Settings, prompt_template: str | None = None) -> ScriptWriter:
    """`prompt_template`: the project's own LLM prompt (the local writer needs none)."""
    return registry.build(settings, "script", prompt_template=prompt_template)


def voice(settings: Settings, own: VoiceSettings | None = None) -> Voice:
    """`own`: the project's voice (an Edge voice, its rate and pitch), or None."""
    return voice_choice(settings, own).entry.build(settings, own=own)


def voice_choice(settings: Settings, own: VoiceSettings | None = None) -> registry.Choice:
    """The stage's choice; under `auto` a project that chose an Edge voice is voiced by Edge,
    and a provider named by the setting that cannot take it is a clear error."""
    choice = registry.choose(settings, "voice")
    if own is None or choice.name == "edge":
        return choice
    if settings.voice_provider == "auto":
        edge = next(e for e in registry.entries("voice") if e.name == "edge")
        return registry.Choice("voice", edge, choice.setting, f"the project chose {own.name}")
    raise ConfigError(
        f"voice: the project chose the Edge voice {own.name}, but {choice.setting}: set "
        "YTMAKER_VOICE_PROVIDER to auto or edge, or clear the project's voice.",
        field="voice",
    )


def image_maker(settings: Settings, frame: Frame = FRAMES["landscape"]) -> ImageMaker:
    """Pictures for `frame`: a Short's are made portrait (9:16), not cut from landscape ones."""
    return registry.build(settings, "images", frame=frame)


def avatar_maker(settings: Settings) -> AvatarMaker:
    return registry.build(settings, "avatar")


def publisher(
    settings: Settings,
    on_progress: Callable[[int, int], None] | None = None,
    on_session: Callable[[str], None] | None = None,
    on_call: Callable[[str], None] | None = None,
) -> Publisher:
    """`on_progress(bytes_sent, total)` and `on_session(uri)` are called by resumable uploads,
    `on_call(method)` before each metered YouTube API call."""
    return registry.build(
        settings, "publisher", on_progress=on_progress, on_session=on_session, on_call=on_call
    )


class Providers:
    """Each service's implementation for one run: built from settings on first use, then kept
    (one client per run, not one per call). Parts given here, such as a test's recording fake,
    are used as they are."""

    def __init__(
        self,
        settings: Settings,
        *,
        script_writer: ScriptWriter | None = None,
        voice: Voice | None = None,
        images: ImageMaker | None = None,
        avatar: AvatarMaker | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        self.settings = settings
        self._given: dict[str, object | None] = {
            "voice": voice,
            "images": images,
            "avatar": avatar,
            "publisher": publisher,
        }
        self._writer = script_writer
        self._built: dict[object, object] = {}
        self._lock = threading.Lock()

    def _once(self, key: object, build: Callable[[], object]) -> Any:
        with self._lock:
            if key not in self._built:
                self._built[key] = build()
            return self._built[key]

    def script_writer(self, prompt_template: str | None = None) -> ScriptWriter:
        """One writer per prompt template (a project may bring its own)."""
        if self._writer is not None:
            return self._writer
        return self._once(
            ("script", prompt_template), lambda: script_writer(self.settings, prompt_template)
        )

    def voice(self, own: VoiceSettings | None = None) -> Voice:
        """One voice per project voice (a project may choose its own)."""
        given = self._given["voice"]
        if given is not None:
            return given  # type: ignore[return-value]
        return self._once(("voice", own), lambda: voice(self.settings, own))

    def images(self, frame: Frame = FRAMES["landscape"]) -> ImageMaker:
        """One image maker per frame (a Short's pictures are portrait)."""
        given = self._given["images"]
        if given is not None:
            return given  # type: ignore[return-value]
        return self._once(("images", frame), lambda: image_maker(self.settings, frame))

    def avatar(self) -> AvatarMaker:
        return self._given_or_built("avatar", avatar_maker)

    def _given_or_built(self, kind: str, build: Callable[[Settings], Any]) -> Any:
        given = self._given[kind]
        return given if given is not None else self._once(kind, lambda: build(self.settings))

    def publisher(
        self,
        on_progress: Callable[[int, int], None] | None = None,
        on_session: Callable[[str], None] | None = None,
        on_call: Callable[[str], None] | None = None,
    ) -> Publisher:
        """Built for each upload: it carries that upload's callbacks."""
        given = self._given["publisher"]
        if given is not None:
            return given  # type: ignore[return-value]
        return publisher(self.settings, on_progress, on_session, on_call)
