"""A project's video format: `landscape` (1920x1080, as before) or `shorts` (1080x1920, a
YouTube Short: square or taller and at most three minutes; YouTube offers no custom thumbnail
for it). Each format has its frame, its script rules (settings), its picture aspect and its
default prompt; everything else in the pipeline is the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from ytmaker.errors import InputError, ScriptValidationError
from ytmaker.script import Script, ScriptRules, validate_script

if TYPE_CHECKING:
    from ytmaker.config import Settings

VideoFormat = Literal["landscape", "shorts"]
FORMATS: tuple[str, ...] = get_args(VideoFormat)
DEFAULT_FORMAT: VideoFormat = "landscape"
SHORTS_LIMIT_SECONDS = 180.0  # YouTube: a Short lasts at most three minutes
SHORTS_HASHTAG = "#Shorts"


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    fps: int
    aspect: str  # what image services are asked for

    @property
    def vertical(self) -> bool:
        return self.height > self.width


FRAMES: dict[str, Frame] = {
    "landscape": Frame(1920, 1080, 30, "16:9"),
    "shorts": Frame(1080, 1920, 30, "9:16"),
}


def check_format(value: object) -> VideoFormat:
    """`landscape` or `shorts` (ValueError saying so; callers name the field)."""
    text = str(value).strip().lower() if value is not None else DEFAULT_FORMAT
    if text not in FORMATS:
        raise ValueError(f"{value!r} is not a video format: use {' or '.join(FORMATS)}")
    return text  # type: ignore[return-value]


def check_optional_format(value: str | None) -> str | None:
    """For a field that may be left out (a batch file's default)."""
    return None if value is None else check_format(value)


def format_of(stored: str | None) -> VideoFormat:
    """A stored project's format; rows made before formats existed are landscape."""
    return check_format(stored or DEFAULT_FORMAT)


def frame_of(fmt: str | None) -> Frame:
    return FRAMES[format_of(fmt)]


def image_shape(fmt: str | None) -> list[str]:
    """What a picture's fingerprint adds for this format: nothing for landscape (pictures
    made before formats existed stay valid), the aspect for the others."""
    name = format_of(fmt)
    return [] if name == "landscape" else [FRAMES[name].aspect]


# --- script rules -----------------------------------------------------------------------------

# ScriptRules field -> the setting that changes it, per format.
RULE_SETTINGS: dict[str, dict[str, str]] = {
    "landscape": {
        "segment_min": "YTMAKER_SEGMENT_MIN_SECONDS",
        "segment_max": "YTMAKER_SEGMENT_MAX_SECONDS",
        "total_min": "YTMAKER_TOTAL_MIN_SECONDS",
        "total_max": "YTMAKER_TOTAL_MAX_SECONDS",
    },
    "shorts": {
        "segment_min": "YTMAKER_SHORTS_SEGMENT_MIN_SECONDS",
        "segment_max": "YTMAKER_SHORTS_SEGMENT_MAX_SECONDS",
        "total_min": "YTMAKER_SHORTS_TOTAL_MIN_SECONDS",
        "total_max": "YTMAKER_SHORTS_TOTAL_MAX_SECONDS",
    },
}


def rules_for(settings: Settings, fmt: str | None, length: str | None = None) -> ScriptRules:
    """The script rules of a format (landscape: exactly the rules used before formats), for a
    project's length choice (`short`: a shorter video than the worker's rule asks for)."""
    if format_of(fmt) == "landscape":
        rules = settings.rules
    else:
        rules = ScriptRules(
            segment_min=settings.shorts_segment_min_seconds,
            segment_max=settings.shorts_segment_max_seconds,
            total_min=settings.shorts_total_min_seconds,
            total_max=settings.shorts_total_max_seconds,
            hook=True,
        )
    if check_length(length) == "short":
        low, high = SHORT_LENGTH[format_of(fmt)]
        total_min = min(rules.total_min, low)
        rules = rules.model_copy(
            update={"total_min": total_min, "total_max": max(total_min, min(rules.total_max, high))}
        )
    return rules


# --- length -----------------------------------------------------------------------------------

# A project's length: `standard` (the worker's rule: YTMAKER_TOTAL_..., YTMAKER_SHORTS_TOTAL_...)
# or `short`, for a text too short for it; never beyond the worker's maximum.
VideoLength = Literal["standard", "short"]
LENGTHS: tuple[str, ...] = get_args(VideoLength)
SHORT_LENGTH = {"landscape": (60.0, 180.0), "shorts": (15.0, 60.0)}  # seconds, at most


def check_length(value: object) -> VideoLength:
    """`standard` (also for None: rows from before lengths) or `short` (ValueError saying so)."""
    text = str(value).strip().lower() if value is not None else "standard"
    if text not in LENGTHS:
        raise ValueError(f"{value!r} is not a length: use {' or '.join(LENGTHS)}")
    return text  # type: ignore[return-value]


def check_optional_length(value: str | None) -> str | None:
    """For a field that may be left out (a batch file's default)."""
    return None if value is None else check_length(value)


def check_script(script: Script, rules: ScriptRules, fmt: str | None) -> Script:
    """validate_script, whose refusal also names the format's rule and the setting behind it."""
    with named_rules(rules, fmt):
        return validate_script(script, rules)


@contextmanager
def named_rules(rules: ScriptRules, fmt: str | None) -> Iterator[None]:
    """A script refused for its length (by the checks or by a script writer) names the
    format's rule and the setting that changes it:
    `...; rule shorts.total_max = 180 s (YTMAKER_SHORTS_TOTAL_MAX_SECONDS)`."""
    try:
        yield
    except (ScriptValidationError, InputError) as exc:
        name = format_of(fmt)
        rule = broken_rule(exc, rules)
        if rule is None or name == "landscape":  # landscape messages name their settings
            raise
        setting = RULE_SETTINGS[name][rule]
        message = exc.message
        for field, landscape in RULE_SETTINGS["landscape"].items():
            message = message.replace(landscape, RULE_SETTINGS[name][field])
        shown = f"{name}.{rule} = {getattr(rules, rule):g} s ({setting})"
        details = {**exc.details, "rule": f"{name}.{rule}", "setting": setting}
        raise type(exc)(f"{message}; rule {shown}", code=exc.code, **details) from None


def broken_rule(exc: ScriptValidationError | InputError, rules: ScriptRules) -> str | None:
    """Which duration rule a refusal is about, from its field and number (a script writer
    refuses content that makes too long or too short a video as field `content`)."""
    value = exc.details.get("duration")
    if not isinstance(value, int | float):
        return None
    if exc.details.get("field") in ("total_duration", "content"):
        return "total_max" if value > rules.total_max else "total_min"
    if exc.details.get("field") == "duration" and "segment_index" in exc.details:
        if value > rules.segment_max:
            return "segment_max"
        if value < rules.segment_min:
            return "segment_min"
    return None


# The default Gemini prompt of a Short: a hook first, short segments, no greeting.
SHORTS_PROMPT = """You write the narration script of a YouTube Short (a vertical video of at
most three minutes) from the content below. Write every spoken text and the metadata in
{language_name}; write each image_description in English, as a prompt for an image generator
(a concrete scene in portrait orientation, 9:16, no text in the picture).

Rules:
- intro: a hook spoken in the first two or three seconds: a surprising fact or a question from
  the content that makes the viewer stay. No greeting, no "in this video".
- segments: numbered from 1, in the order they are spoken; each is one short idea with the
  spoken text, its duration in seconds (between {segment_min:g} and {segment_max:g}; about
  {rate} when spoken), and an image_description.
- outro: one short line that ends the story and invites the viewer to follow the channel.
- total_duration: the sum of all durations, between {total_min:g} and {total_max:g} seconds.
- metadata: a title (at most 100 characters), a description (at most 4500 characters, ending
  with a note that the video was made with AI tools) and up to 10 tags.
- Stay faithful to the content; do not invent facts.

Content:
{content}
"""


def default_prompt(fmt: str | None) -> str | None:
    """The prompt a project of this format gets when it has none of its own (None: the
    script writer's default)."""
    return SHORTS_PROMPT if format_of(fmt) == "shorts" else None


def custom_thumbnail(fmt: str | None) -> bool:
    """YouTube offers no custom thumbnail for a Short: none is sent (the summary says so)."""
    return format_of(fmt) != "shorts"


def summary_of(fmt: str | None) -> dict[str, object]:
    """What a project's summary says about its format and thumbnail."""
    name = format_of(fmt)
    said: dict[str, object] = {"format": name, "custom_thumbnail": custom_thumbnail(name)}
    if not custom_thumbnail(name):
        said["thumbnail_note"] = (
            "A Short has no custom thumbnail on YouTube: none was sent (YouTube picks a frame)."
        )
    return said


def with_hashtag(description: str, fmt: str | None, wanted: bool) -> str:
    """`#Shorts` at the end of a Short's description when the setting asks for it."""
    if not wanted or format_of(fmt) != "shorts" or SHORTS_HASHTAG.lower() in description.lower():
        return description
    return f"{description.rstrip()}\n\n{SHORTS_HASHTAG}".lstrip()


# The bundled samples `ytmaker demo` makes a video of (data/samples/); a Short tells less.
DEMO_SAMPLES = {
    ("zh-TW", "landscape"): "night-markets.zh-TW.md",
    ("en", "landscape"): "bubble-tea.en.md",
    ("zh-TW", "shorts"): "night-markets.short.zh-TW.md",
    ("en", "shorts"): "bubble-tea.short.en.md",
}


def demo_sample(folder: Path, language: str, fmt: str) -> Path:
    return folder / DEMO_SAMPLES[(language, check_format(fmt))]
