"""The Edge neural voices a project may choose, and a project's own voice settings.

The table is kept here: the service's voice list (`edge_tts.list_voices()`) is another online
address, so it cannot be read offline, in tests or before a run. A project's voice is
`{name, rate, pitch}`: a name from the table (for the project's language), a speaking rate
(`+10%`, `-20%`) and a pitch (`+5Hz`, `-10Hz`), as Edge's SSML prosody takes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from ytmaker.language import family


@dataclass(frozen=True)
class EdgeVoice:
    name: str
    language: str  # zh-TW | en
    label: str


VOICES: tuple[EdgeVoice, ...] = (
    EdgeVoice("zh-TW-HsiaoChenNeural", "zh-TW", "曉臻 HsiaoChen (女聲, Taiwan)"),
    EdgeVoice("zh-TW-HsiaoYuNeural", "zh-TW", "曉雨 HsiaoYu (女聲, Taiwan)"),
    EdgeVoice("zh-TW-YunJheNeural", "zh-TW", "雲哲 YunJhe (男聲, Taiwan)"),
    EdgeVoice("en-US-AriaNeural", "en", "Aria (female, US)"),
    EdgeVoice("en-US-JennyNeural", "en", "Jenny (female, US)"),
    EdgeVoice("en-US-EmmaNeural", "en", "Emma (female, US)"),
    EdgeVoice("en-US-GuyNeural", "en", "Guy (male, US)"),
    EdgeVoice("en-US-AndrewNeural", "en", "Andrew (male, US)"),
    EdgeVoice("en-GB-SoniaNeural", "en", "Sonia (female, UK)"),
    EdgeVoice("en-GB-RyanNeural", "en", "Ryan (male, UK)"),
)
BY_NAME = {voice.name: voice for voice in VOICES}
NAMES = tuple(BY_NAME)
DEFAULTS = {"zh": "zh-TW-HsiaoChenNeural", "en": "en-US-AriaNeural"}

RATE = re.compile(r"^([+-])(\d{1,3})%$")
PITCH = re.compile(r"^([+-])(\d{1,3})Hz$")
RATE_RANGE = (-50, 100)  # percent: half as fast to twice as fast
PITCH_RANGE = (-50, 50)  # Hz


def default_voice(language: str) -> str:
    return DEFAULTS[family(language)]


def check_rate(value: str) -> str:
    return _signed(value, RATE, RATE_RANGE, "%", "a rate such as +10% or -20%")


def check_pitch(value: str) -> str:
    return _signed(value, PITCH, PITCH_RANGE, "Hz", "a pitch such as +5Hz or -10Hz")


def _signed(value: str, shape: re.Pattern[str], bounds: tuple[int, int], unit: str, eg: str) -> str:
    match = shape.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not {eg}")
    number = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
    if not bounds[0] <= number <= bounds[1]:
        raise ValueError(f"{value} is outside {bounds[0]:+d}{unit}..{bounds[1]:+d}{unit}")
    return f"{number:+d}{unit}"


class VoiceSettings(BaseModel):
    """A project's own voice (frozen: the per-run provider cache is keyed by it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    rate: str = "+0%"
    pitch: str = "+0Hz"

    @field_validator("name", mode="after")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if value not in BY_NAME:
            raise ValueError(f"{value!r} is not a supported voice; use one of {', '.join(NAMES)}")
        return value

    _rate = field_validator("rate", mode="after")(check_rate)
    _pitch = field_validator("pitch", mode="after")(check_pitch)

    def check_language(self, language: str) -> VoiceSettings:
        """The voice speaks the project's language (a zh-TW voice for zh-TW text)."""
        spoken = BY_NAME[self.name].language
        if family(spoken) != family(language):
            fitting = ", ".join(v.name for v in VOICES if family(v.language) == family(language))
            raise ValueError(f"{self.name} speaks {spoken}, not {language}; use {fitting}")
        return self


def stored_voice(data: Any) -> VoiceSettings | None:
    """A project row's `voice` (None: the default voice); a row from another tool that is
    not a voice is refused by the validators above."""
    if not data:
        return None
    return VoiceSettings.model_validate(data)
