"""Pick each service's implementation from settings.

`auto` means the real service when its credentials exist, else the offline local one; `local`
forces offline; a service name forces that service (and fails clearly without credentials).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ytmaker.config import Settings
from ytmaker.errors import ConfigError
from ytmaker.formats import FRAMES, Frame
from ytmaker.providers.base import (
    AvatarMaker,
    ImageMaker,
    Publisher,
    ScriptWriter,
    Voice,
)


def _choose(stage: str, choice: str, service: str, configured: bool, needs: str) -> bool:
    """True for the real service, False for local; a forced service without credentials fails."""
    if choice == "local":
        return False
    if choice == "auto":
        return configured
    if choice != service:
        raise ConfigError(
            f"YTMAKER_{stage}: {choice!r} cannot do this stage; use auto, local or {service}."
        )
    if not configured:
        raise ConfigError(f"YTMAKER_{stage}={service} needs {needs}.")
    return True


def _key(secret: object) -> str:
    return secret.get_secret_value()  # type: ignore[attr-defined]


def script_writer(settings: Settings, prompt_template: str | None = None) -> ScriptWriter:
    """`prompt_template`: the project's own LLM prompt (the local writer needs none)."""
    if _choose(
        "SCRIPT_PROVIDER",
        settings.script_provider,
        "gemini",
        settings.gemini_api_key is not None,
        "GEMINI_API_KEY",
    ):
        from ytmaker.providers.gemini import GeminiScriptWriter

        return GeminiScriptWriter(
            _key(settings.gemini_api_key),
            model=settings.gemini_model,
            base_url=settings.gemini_base_url,
            prompt_template=prompt_template,
            timeout=settings.timeout_request,
        )
    from ytmaker.providers.local.script_writer import LocalScriptWriter

    return LocalScriptWriter()


def voice(settings: Settings) -> Voice:
    if _choose(
        "VOICE_PROVIDER",
        settings.voice_provider,
        "gemini",
        settings.gemini_api_key is not None,
        "GEMINI_API_KEY",
    ):
        from ytmaker.providers.gemini import GeminiVoice

        return GeminiVoice(
            _key(settings.gemini_api_key),
            model=settings.gemini_tts_model,
            base_url=settings.gemini_base_url,
            timeout=settings.timeout_request,
        )
    from ytmaker.providers.local.voice import EspeakVoice

    return EspeakVoice()


def image_maker(settings: Settings, frame: Frame = FRAMES["landscape"]) -> ImageMaker:
    """Pictures for `frame`: a Short's are made portrait (9:16), not cut from landscape ones."""
    if _choose(
        "IMAGE_PROVIDER",
        settings.image_provider,
        "stability",
        settings.stability_api_key is not None,
        "STABILITY_API_KEY",
    ):
        from ytmaker.providers.stability import StabilityImages

        return StabilityImages(
            _key(settings.stability_api_key),
            base_url=settings.stability_base_url,
            timeout=settings.timeout_request,
            size=(frame.width, frame.height),
            aspect_ratio=frame.aspect,
        )
    from ytmaker.providers.local.images import PillowImages

    return PillowImages(size=(frame.width, frame.height))


def avatar_maker(settings: Settings) -> AvatarMaker:
    if _choose(
        "AVATAR_PROVIDER",
        settings.avatar_provider,
        "did",
        settings.did_api_key is not None,
        "DID_API_KEY",
    ):
        from ytmaker.providers.did import DIDAvatar

        return DIDAvatar(
            _key(settings.did_api_key),
            base_url=settings.did_base_url,
            presenter_image_url=settings.did_presenter_image_url,
            http_timeout=settings.timeout_request,
        )
    from ytmaker.providers.local.avatar import DrawnAvatar

    return DrawnAvatar()


def publisher(
    settings: Settings,
    on_progress: Callable[[int, int], None] | None = None,
    on_session: Callable[[str], None] | None = None,
    on_call: Callable[[str], None] | None = None,
) -> Publisher:
    """`on_progress(bytes_sent, total)` and `on_session(uri)` are called by resumable uploads,
    `on_call(method)` before each metered YouTube API call."""
    token = settings.youtube_token_file
    if _choose(
        "PUBLISHER",
        settings.publisher,
        "youtube",
        bool(token and token.exists()),
        "YOUTUBE_TOKEN_FILE (run `ytmaker youtube auth` first)",
    ):
        from ytmaker.providers.youtube import YouTubePublisher

        return YouTubePublisher(
            settings.youtube_client_secrets_file,
            token,
            api_endpoint=settings.youtube_api_endpoint,
            chunk_size=settings.youtube_chunk_size,
            http_timeout=settings.timeout_request,
            on_progress=on_progress,
            on_session=on_session,
            on_call=on_call,
        )
    from ytmaker.providers.local.publisher import LocalChannel

    return LocalChannel(settings.channel_dir)


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

    def voice(self) -> Voice:
        return self._given_or_built("voice", voice)

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
