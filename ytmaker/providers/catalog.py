"""The registry's entries: one per provider, grouped by stage, in the order `auto` prefers.

`auto` order (the first configured one wins, else the offline provider):

- script: gemini (GEMINI_API_KEY), then openai (OPENAI_API_KEY or OPENAI_BASE_URL);
- voice: gemini (GEMINI_API_KEY); `openai` and `edge` only when named (an OpenAI key may be
  another server's, for scripts), and `edge` too when a project chose one of its voices;
- images: stability; avatar: did; publisher: youtube.

Each build imports its client only when it is used: offline runs never load the SDKs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ytmaker.formats import FRAMES, Frame
from ytmaker.providers.registry import Entry, register

if TYPE_CHECKING:
    from ytmaker.config import Settings
    from ytmaker.voices import VoiceSettings


def _key(secret: object) -> str:
    return secret.get_secret_value()  # type: ignore[attr-defined]


def _changed(settings: Settings, *fields: str) -> dict[str, Any]:
    """The settings among `fields` that differ from their defaults: part of a provider's
    fingerprint, so that changing one makes its assets again while defaults keep the
    fingerprints assets were made with before."""
    defaults = type(settings).model_fields
    return {f: getattr(settings, f) for f in fields if getattr(settings, f) != defaults[f].default}


# --- script -----------------------------------------------------------------------------------


def _local_writer(settings: Settings, prompt_template: str | None = None) -> Any:
    from ytmaker.providers.local.script_writer import LocalScriptWriter

    return LocalScriptWriter()


def _gemini_writer(settings: Settings, prompt_template: str | None = None) -> Any:
    from ytmaker.providers.gemini import GeminiScriptWriter

    writer = GeminiScriptWriter(
        _key(settings.gemini_api_key),
        model=settings.gemini_model,
        base_url=settings.gemini_base_url,
        prompt_template=prompt_template,
        timeout=settings.timeout_request,
    )
    writer.variant = _changed(settings, "gemini_model")  # type: ignore[attr-defined]
    return writer


def _openai_writer(settings: Settings, prompt_template: str | None = None) -> Any:
    from ytmaker.providers.openai_writer import OpenAIScriptWriter

    key = settings.openai_api_key
    return OpenAIScriptWriter(
        _key(key) if key is not None else None,
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        prompt_template=prompt_template,
        timeout=settings.timeout_request,
    )


def _openai_ready(settings: Settings) -> bool:
    return settings.openai_api_key is not None or bool(settings.openai_base_url)


def _openai_detail(settings: Settings) -> str:
    return f"model {settings.openai_model} at {settings.openai_base_url or 'the OpenAI API'}"


register(Entry("local", "script", _local_writer, local=True, detail=lambda s: "offline text"))
register(
    Entry(
        "gemini",
        "script",
        _gemini_writer,
        needs="GEMINI_API_KEY",
        ready=lambda s: s.gemini_api_key is not None,
        auto=1,
        detail=lambda s: f"model {s.gemini_model}",
        cost="paid per token (free tier limited)",
    )
)
register(
    Entry(
        "openai",
        "script",
        _openai_writer,
        needs="OPENAI_API_KEY or OPENAI_BASE_URL",
        ready=_openai_ready,
        auto=2,
        detail=_openai_detail,
        cost="the server's price per token (a local server: free)",
    )
)


# --- voice ------------------------------------------------------------------------------------


def _espeak(settings: Settings, own: VoiceSettings | None = None) -> Any:
    from ytmaker.providers.local.voice import EspeakVoice

    return EspeakVoice()


def _gemini_voice(settings: Settings, own: VoiceSettings | None = None) -> Any:
    from ytmaker.providers.gemini import GeminiVoice

    voice = GeminiVoice(
        _key(settings.gemini_api_key),
        model=settings.gemini_tts_model,
        base_url=settings.gemini_base_url,
        timeout=settings.timeout_request,
    )
    voice.variant = _changed(settings, "gemini_tts_model")  # type: ignore[attr-defined]
    return voice


def _edge_voice(settings: Settings, own: VoiceSettings | None = None) -> Any:
    from ytmaker.providers.edge import EdgeVoice

    return EdgeVoice(own, url=settings.edge_tts_url, timeout=settings.timeout_request)


def _openai_voice(settings: Settings, own: VoiceSettings | None = None) -> Any:
    from ytmaker.providers.openai_voice import OpenAIVoice

    key = settings.openai_tts_api_key or settings.openai_api_key
    return OpenAIVoice(
        _key(key) if key is not None else None,
        model=settings.openai_tts_model,
        voice_name=settings.openai_tts_voice,
        base_url=settings.openai_tts_base_url or settings.openai_base_url,
        timeout=settings.timeout_request,
    )


def _openai_voice_detail(settings: Settings) -> str:
    where = settings.openai_tts_base_url or settings.openai_base_url or "the OpenAI API"
    return f"model {settings.openai_tts_model}, voice {settings.openai_tts_voice} at {where}"


register(Entry("local", "voice", _espeak, local=True, detail=lambda s: "espeak-ng, offline"))
register(
    Entry(
        "gemini",
        "voice",
        _gemini_voice,
        needs="GEMINI_API_KEY",
        ready=lambda s: s.gemini_api_key is not None,
        auto=1,
        detail=lambda s: f"model {s.gemini_tts_model}",
        cost="paid per token",
    )
)
register(
    Entry(
        "openai",
        "voice",
        _openai_voice,
        needs="OPENAI_TTS_BASE_URL, OPENAI_TTS_API_KEY or OPENAI_API_KEY",
        ready=lambda s: (
            bool(s.openai_tts_base_url)
            or s.openai_tts_api_key is not None
            or s.openai_api_key is not None
        ),
        detail=_openai_voice_detail,
        cost="the server's price per character (a local server: free)",
    )
)
register(
    Entry(
        "edge",
        "voice",
        _edge_voice,
        detail=lambda s: (
            "Microsoft Edge neural voices" + (f" at {s.edge_tts_url}" if s.edge_tts_url else "")
        ),
        cost="free, no key (Microsoft's online service)",
    )
)


# --- images, avatar, publisher ------------------------------------------------------------------


def _pillow(settings: Settings, frame: Frame = FRAMES["landscape"]) -> Any:
    from ytmaker.providers.local.images import PillowImages

    return PillowImages(size=(frame.width, frame.height))


def _local_clips(settings: Settings, frame: Frame = FRAMES["landscape"]) -> Any:
    from ytmaker.providers.local.clips import LocalClips

    return LocalClips(size=(frame.width, frame.height), preset=settings.x264_preset)


def _pexels(settings: Settings, frame: Frame = FRAMES["landscape"]) -> Any:
    from ytmaker.providers.pexels import PexelsFootage

    fallback = _stability if settings.stability_api_key is not None else _pillow
    return PexelsFootage(
        _key(settings.pexels_api_key),
        settings.pexels_base_url,
        visuals=settings.visuals,
        size=(frame.width, frame.height),
        cache_dir=settings.data_dir / "cache" / "pexels",
        fallback=fallback(settings, frame),
        timeout=settings.timeout_request,
    )


def _stability(settings: Settings, frame: Frame = FRAMES["landscape"]) -> Any:
    from ytmaker.providers.stability import StabilityImages

    return StabilityImages(
        _key(settings.stability_api_key),
        base_url=settings.stability_base_url,
        timeout=settings.timeout_request,
        size=(frame.width, frame.height),
        aspect_ratio=frame.aspect,
    )


def _drawn(settings: Settings) -> Any:
    from ytmaker.providers.local.avatar import DrawnAvatar

    return DrawnAvatar(preset=settings.x264_preset)


def _did(settings: Settings) -> Any:
    from ytmaker.providers.did import DIDAvatar

    return DIDAvatar(
        _key(settings.did_api_key),
        base_url=settings.did_base_url,
        presenter_image_url=settings.did_presenter_image_url,
        http_timeout=settings.timeout_request,
    )


Callback = Callable[..., None] | None


def _channel(settings: Settings, **_callbacks: Callback) -> Any:
    from ytmaker.providers.local.publisher import LocalChannel

    return LocalChannel(settings.channel_dir)


def _youtube(
    settings: Settings,
    on_progress: Callback = None,
    on_session: Callback = None,
    on_call: Callback = None,
) -> Any:
    from ytmaker.providers.youtube import YouTubePublisher

    return YouTubePublisher(
        settings.youtube_client_secrets_file,
        settings.youtube_token_file,
        api_endpoint=settings.youtube_api_endpoint,
        chunk_size=settings.youtube_chunk_size,
        http_timeout=settings.timeout_request,
        on_progress=on_progress,
        on_session=on_session,
        on_call=on_call,
    )


def _token_exists(settings: Settings) -> bool:
    token = settings.youtube_token_file
    return bool(token and token.exists())


register(Entry("local", "images", _pillow, local=True, detail=lambda s: "drawn offline"))
register(
    Entry(
        "local-clips",
        "images",
        _local_clips,
        detail=lambda s: "offline pictures filmed as moving clips",
        cost="free (about 2 s of CPU a segment)",
    )
)
register(
    Entry(
        "stability",
        "images",
        _stability,
        needs="STABILITY_API_KEY",
        ready=lambda s: s.stability_api_key is not None,
        auto=1,
        detail=lambda s: s.stability_base_url,
        cost="paid per image",
    )
)
register(
    Entry(
        "pexels",
        "images",
        _pexels,
        needs="PEXELS_API_KEY",
        ready=lambda s: s.pexels_api_key is not None,
        detail=lambda s: f"{s.visuals} at {s.pexels_base_url}",
        cost="free (rate limited per hour), credits in the description",
    )
)
register(Entry("local", "avatar", _drawn, local=True, detail=lambda s: "drawn offline"))
register(
    Entry(
        "did",
        "avatar",
        _did,
        needs="DID_API_KEY",
        ready=lambda s: s.did_api_key is not None,
        auto=1,
        detail=lambda s: s.did_base_url,
        cost="paid in D-ID credits",
    )
)
register(
    Entry(
        "local",
        "publisher",
        _channel,
        local=True,
        detail=lambda s: f"the local channel folder {s.channel_dir}",
    )
)
register(
    Entry(
        "youtube",
        "publisher",
        _youtube,
        needs="YOUTUBE_TOKEN_FILE (run `ytmaker youtube auth` first)",
        ready=_token_exists,
        auto=1,
        detail=lambda s: "YouTube Data API v3",
        cost="free within the daily quota",
    )
)
