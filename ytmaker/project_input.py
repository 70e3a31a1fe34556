"""What a user may give a project, checked the same way at every entry (CLI, batch file, the
flow's own check of a stored project): each rejection names the field and the rule."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import ErrorDetails

from ytmaker.config import Settings
from ytmaker.errors import InputError, YTMakerError
from ytmaker.formats import check_format, check_length
from ytmaker.language import normalise_language
from ytmaker.prompts import check_template
from ytmaker.review_modes import parse_mode, stored
from ytmaker.terminal import BIDI_CONTROLS, LINE_SEPARATORS
from ytmaker.voices import VoiceSettings

LOCAL_TZ = ZoneInfo("Asia/Taipei")  # our users' zone: times written without an offset
NAME_MAX = 200
# ~25 minutes of narration: the longest allowed video (600 s) needs far less; more is a mistake.
CONTENT_MAX = 50_000
CONTENT_MAX_BYTES = 4 * CONTENT_MAX  # UTF-8: more bytes than this is surely too many characters
TAGS_MAX_CHARS = 500  # YouTube's limit for all tags together
TAG_MAX = 100


def check_name(value: str, what: str = "the project") -> str:
    """A project or batch name: one line of 1-200 characters with something visible in it (it
    is only ever shown, never a path)."""
    name = value.strip()
    if not name:
        raise ValueError(f"is empty: give {what} a name")
    if len(name) > NAME_MAX:
        raise ValueError(f"is {len(name):,} characters; at most {NAME_MAX}")
    _no_control(name, allow_newlines=False)
    for position, char in enumerate(name):
        if char in LINE_SEPARATORS or char in BIDI_CONTROLS:
            raise ValueError(
                f"contains the invisible character U+{ord(char):04X} at position {position} "
                "(a line separator or a bidi override)"
            )
    if not any(_visible(char) for char in name):
        raise ValueError("has no visible character (only spaces or zero-width characters)")
    return name


def _unsafe(char: str) -> bool:
    """A control character, a line separator or a bidi override: never in one-line text."""
    return unicodedata.category(char) == "Cc" or char in LINE_SEPARATORS or char in BIDI_CONTROLS


def _visible(char: str) -> bool:
    """Not a space, a format character (zero-width, joiners) or a combining mark alone."""
    return unicodedata.category(char) not in ("Zs", "Cf", "Mn", "Me", "Cc") and char.isprintable()


def check_content(value: str) -> str:
    """The article, notes or topic: not empty, at most CONTENT_MAX characters, no NUL."""
    if not value.strip():
        raise ValueError("is empty: give an article, notes or a topic")
    if len(value) > CONTENT_MAX:
        raise ValueError(
            f"is {len(value):,} characters; at most {CONTENT_MAX:,} (split it into several "
            "projects)"
        )
    _no_control(value, allow_newlines=True)
    return value


def _no_control(text: str, *, allow_newlines: bool) -> None:
    allowed = {"\n", "\r", "\t"} if allow_newlines else {"\t"}
    for position, char in enumerate(text):
        if char not in allowed and unicodedata.category(char) == "Cc":
            raise ValueError(
                f"contains the control character U+{ord(char):04X} at position {position}"
            )


def check_publish_at(value: datetime, now: datetime | None = None) -> datetime:
    """In the future (YouTubeSpec has already zoned a time written without an offset)."""
    if value <= (now or datetime.now(UTC)):
        raise ValueError(f"{value.isoformat()} is in the past: give a future time")
    return value


def check_tags(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    tags = [tag.strip() for tag in value]
    if any(not tag for tag in tags):
        raise ValueError("must not be empty strings")
    for tag in tags:
        if bad := next((c for c in tag if c in "<>" or _unsafe(c)), None):
            raise ValueError(
                f"{tag!r} contains {bad!r} (U+{ord(bad):04X}): YouTube refuses '<' and '>', "
                "and tags are one line of visible text"
            )
    if any(len(tag) > TAG_MAX for tag in tags):
        raise ValueError(f"each tag must stay within {TAG_MAX} characters")
    if sum(len(tag) for tag in tags) > TAGS_MAX_CHARS:
        raise ValueError(f"together must stay within {TAGS_MAX_CHARS} characters")
    return tags


class YouTubeSpec(BaseModel):
    """Privacy, schedule and tags of one upload (the publish time is checked by its caller)."""

    model_config = ConfigDict(extra="forbid")

    privacy: Literal["private", "unlisted", "public"] | None = None
    publish_at: datetime | None = None
    tags: list[str] | None = None

    @field_validator("publish_at", mode="after")
    @classmethod
    def _zoned(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=LOCAL_TZ)
        return value

    @field_validator("tags", mode="after")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return check_tags(value)


def youtube_settings(spec: YouTubeSpec, now: datetime | None = None) -> dict[str, Any]:
    """The stored form: a scheduled video is private until then; times in UTC ('Z')."""
    data = spec.model_dump(exclude_none=True)
    if spec.publish_at is None:
        return data
    rules = []
    if data.setdefault("privacy", "private") != "private":
        rules.append(
            f"a scheduled video must be private until then (privacy is {data['privacy']!r})"
        )
    try:
        when = check_publish_at(spec.publish_at, now)
        data["publish_at"] = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except ValueError as exc:
        rules.append(str(exc))
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is in the year 10000 in UTC
        rules.append(f"{spec.publish_at.isoformat()} is beyond the last time a calendar can hold")
    if rules:
        raise ValueError("; ".join(rules))
    return data


def invalid(source: str, problems: list[tuple[str, str]], what: str = "valid") -> InputError:
    """One InputError listing every problem as `field: rule`."""
    lines = "\n".join(f"  {where}: {rule}" for where, rule in problems)
    return InputError(
        f"{source} is not {what}:\n{lines}",
        field=problems[0][0],
        problems=[{"field": where, "message": what} for where, what in problems],
    )


def explain(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """pydantic errors as (field, rule) pairs."""
    return [(prefix + _loc(e["loc"]), _msg(e)) for e in exc.errors()]


def _loc(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(value)"


def _msg(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "is required"
    return error["msg"].removeprefix("Value error, ")


def new_project(
    name: str,
    content: str,
    language: str,
    youtube: dict[str, Any],
    prompt_template: str | None = None,
    *,
    review: bool | str | None = None,
    video_format: str | None = None,
    length: str | None = None,
    settings: Settings | None = None,
    voice: dict[str, Any] | None = None,
    source: str = "The project",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The checked fields of a new Project row; one InputError lists every problem. `review`:
    a person approves it before upload (None: YTMAKER_REVIEW decides); `length`: standard or
    short; `settings`: the rules of the machine that makes the video, to check that the text
    can make a video of that length (ytmaker/length.py)."""
    problems: list[tuple[str, str]] = []
    fields: dict[str, Any] = {}
    checks = {
        "name": lambda: check_name(name),
        "content": lambda: check_content(content),
        "language": lambda: normalise_language(language),
        "youtube_settings": lambda: _youtube(youtube, now, problems),
        "prompt_template": lambda: prompt_template and check_template(prompt_template),
        "format": lambda: check_format(video_format),
        "length": lambda: check_length(length),
        "voice": lambda: check_voice(voice, language),
        "review": lambda: parse_mode(review),
    }
    for field, check in checks.items():
        try:
            fields[field] = check()
        except (ValueError, InputError) as exc:
            problems.append((getattr(exc, "where", field), _rule(exc)))
    if settings is not None and not problems:
        problems += narration_problems(settings, fields)
    if problems:
        raise invalid(source, problems)
    fields["prompt_template"] = fields["prompt_template"] or None
    fields.update(stored(fields.pop("review")))
    return fields


def narration_problems(
    settings: Settings, fields: dict[str, Any], where: str = ""
) -> list[tuple[str, str]]:
    """`[(content, why)]` when the text cannot make the video's length (the offline writer)."""
    from ytmaker.length import length_problem, narrates_text

    if not narrates_text(settings):
        return []
    problem = length_problem(
        settings,
        fields["name"],
        fields["content"],
        fields["language"],
        fields["format"],
        fields.get("length"),
    )
    return [(f"{where}content", problem)] if problem else []


def check_voice(voice: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    """The stored form of a project's own voice (None: the default voice), or a ValueError
    naming the part that is wrong (`voice.rate: '+500%' is outside -50%..+100%`)."""
    if not voice:
        return None
    try:
        settings = VoiceSettings.model_validate(voice)
    except ValidationError as exc:
        raise FieldProblem(*explain(exc, prefix="voice.")[0]) from None
    try:
        language = normalise_language(language)
    except YTMakerError:
        return settings.model_dump()  # the language itself is refused on its own
    try:
        return settings.check_language(language).model_dump()
    except ValueError as exc:
        raise FieldProblem("voice.name", str(exc)) from None


class FieldProblem(ValueError):
    """A rule broken by one part of a field (`voice.rate`)."""

    def __init__(self, where: str, rule: str) -> None:
        super().__init__(rule)
        self.where = where


def _youtube(data: dict[str, Any], now: datetime | None, problems: list) -> dict[str, Any]:
    given = {key: value for key, value in data.items() if value is not None}
    try:
        spec = YouTubeSpec.model_validate(given)
    except ValidationError as exc:
        problems.extend(explain(exc, prefix="youtube."))
        return {}
    try:
        return youtube_settings(spec, now)
    except ValueError as exc:
        problems.append(("youtube.publish_at", str(exc)))
        return {}


def _rule(exc: Exception) -> str:
    """The rule alone: a ValueError's text, or an InputError's message without its full stop."""
    return (getattr(exc, "message", None) or str(exc)).rstrip(".")
