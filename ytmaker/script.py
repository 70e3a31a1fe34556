"""The script of a video (what is said, for how long, over which picture) and its rules."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ytmaker.errors import ScriptValidationError
from ytmaker.language import count_units, family


class ScriptRules(BaseModel):
    """Duration limits in seconds; configurable through settings."""

    segment_min: float = 5.0
    segment_max: float = 20.0
    total_min: float = 180.0
    total_max: float = 600.0
    # Open with a hook, not a greeting (a Short). Left out of model_dump: the rules a script
    # was written under are fingerprinted by their numbers, and landscape ones must not change.
    hook: bool = Field(False, exclude=True)


class Narration(BaseModel):
    """A piece of spoken text. `duration` is planned; `audio_duration` is measured after voicing."""

    text: str
    duration: float
    audio_duration: float | None = None

    @property
    def spoken_duration(self) -> float:
        return self.audio_duration if self.audio_duration is not None else self.duration


class Segment(Narration):
    index: int = Field(ge=1)
    image_description: str
    # 1-3 English stock-footage search terms (pexels); none: the image description is used
    search_terms: list[str] = Field(default_factory=list)
    # the creator's own picture or clip for this segment (a checked absolute path), before any
    # `--media` folder and any provider
    media: str | None = None


class Metadata(BaseModel):
    title: str
    description: str
    tags: list[str] = Field(default_factory=list)


class Script(BaseModel):
    language: str
    intro: Narration
    segments: list[Segment]
    outro: Narration
    metadata: Metadata
    total_duration: float

    def pieces(self) -> list[Narration]:
        """Intro, segments, outro in the order they play."""
        return [self.intro, *self.segments, self.outro]

    def realised_duration(self) -> float:
        return sum(piece.spoken_duration for piece in self.pieces())


MAX_CHARS_PER_SECOND = 25  # well above any narration (English runs ~15 characters a second)
SPEAKING_RATE = {"zh": 3.7, "en": 2.9}  # units a second, the rate the script writer is told
SPEECH_SLACK = 2.0  # text that takes over twice the limit to say is runaway, not a rough plan


def max_segments(rules: ScriptRules) -> int:
    """How many segments of at least segment_min fit in total_max (10,000 with no minimum)."""
    return int(rules.total_max // rules.segment_min) if rules.segment_min > 0 else 10_000


def spoken_seconds(text: str, language: str) -> float:
    """About how long a voice takes to say `text` at the rate writers are asked for."""
    return count_units(text, language) / SPEAKING_RATE[family(language)]


def validate_script(script: Script, rules: ScriptRules) -> Script:
    """Raise ScriptValidationError naming the segment and field that break the rules."""
    if not script.segments:
        raise ScriptValidationError("腳本沒有任何段落 (script has no segments)", field="segments")
    _check_count(len(script.segments), rules)
    for segment in script.segments:
        _check_segment(segment, rules, script.language)
    _check_piece(script.intro, "intro", rules)
    _check_piece(script.outro, "outro", rules)
    total = sum(piece.duration for piece in script.pieces())
    if not rules.total_min <= total <= rules.total_max:
        raise ScriptValidationError(
            f"影片總時長超出範圍 (total {total:.1f}s not within "
            f"{rules.total_min:g}-{rules.total_max:g}s)",
            field="total_duration",
            duration=_number(round(total, 2)),
        )
    _check_speech(script, rules)
    return script


def _check_count(count: int, rules: ScriptRules) -> None:
    most = max_segments(rules)
    if count > most:
        raise ScriptValidationError(
            f"段落太多 ({count} segments; at most {most} fit in {rules.total_max:g}s "
            f"at {rules.segment_min:g}s each)",
            field="segments",
            count=count,
            limit=most,
        )


def _number(value: float) -> float | str:
    """The value for error details; NaN and infinity as text, which JSON can carry."""
    return value if math.isfinite(value) else str(value)


def _check_segment(segment: Segment, rules: ScriptRules, language: str) -> None:
    where: dict[str, Any] = {"segment_index": segment.index, "duration": _number(segment.duration)}
    label = f"segment {segment.index}"
    if not segment.text.strip():
        raise ScriptValidationError("段落內容為空 (segment text is empty)", field="text", **where)
    if not segment.image_description.strip():
        raise ScriptValidationError(
            "段落缺少圖片描述 (segment has no image_description)",
            field="image_description",
            **where,
        )
    _check_duration(segment.duration, label, rules, where)
    _check_length(segment.text, label, rules, where)
    seconds = spoken_seconds(segment.text, language)
    if seconds > rules.segment_max * SPEECH_SLACK:
        raise ScriptValidationError(
            f"段落文字太長 ({label}: about {seconds:.0f}s to say, at most {rules.segment_max:g}s)",
            field="text",
            spoken_seconds=round(seconds, 1),
            **where,
        )


def _check_duration(duration: float, label: str, rules: ScriptRules, where: dict[str, Any]) -> None:
    if not math.isfinite(duration):
        raise ScriptValidationError(
            f"段落時長無效 ({label}: duration {duration} is not a number of seconds)",
            field="duration",
            **where,
        )
    if duration > rules.segment_max:
        raise ScriptValidationError(
            f"段落時長超過限制 ({label}: {duration:g}s > {rules.segment_max:g}s)",
            field="duration",
            **where,
        )
    if duration < rules.segment_min:
        raise ScriptValidationError(
            f"段落時長低於限制 ({label}: {duration:g}s < {rules.segment_min:g}s)",
            field="duration",
            **where,
        )


PIECE_NAMES = {"intro": "開場", "outro": "結尾"}


def _check_piece(piece: Narration, name: str, rules: ScriptRules) -> None:
    """The intro and outro: something to say, for a positive number of seconds."""
    where: dict[str, Any] = {"piece": name, "duration": _number(piece.duration)}
    shown = PIECE_NAMES[name]
    if not piece.text.strip():
        raise ScriptValidationError(
            f"{shown}內容為空 ({name} text is empty)", field="text", **where
        )
    if not (math.isfinite(piece.duration) and piece.duration > 0):
        raise ScriptValidationError(
            f"{shown}時長無效 ({name} duration {piece.duration:g} is not a positive number "
            "of seconds)",
            field="duration",
            **where,
        )
    _check_length(piece.text, name, rules, where)


def _check_length(text: str, label: str, rules: ScriptRules, where: dict[str, Any]) -> None:
    most = int(rules.segment_max * MAX_CHARS_PER_SECOND)
    if len(text) > most:
        raise ScriptValidationError(
            f"文字過長 ({label}: {len(text):,} characters, at most {most:,})",
            field="text",
            length=len(text),
            **where,
        )


def _check_speech(script: Script, rules: ScriptRules) -> None:
    """Planned durations are the writer's word; the text decides how long the voice runs."""
    seconds = sum(spoken_seconds(piece.text, script.language) for piece in script.pieces())
    if seconds > rules.total_max * SPEECH_SLACK:
        raise ScriptValidationError(
            f"腳本文字太長 (the narration takes about {seconds:.0f}s to say; the video may "
            f"last at most {rules.total_max:g}s)",
            field="text",
            spoken_seconds=round(seconds, 1),
        )


# --- what an LLM writer is asked for (the response schema every writer shares) ---------------


class _WireNarration(BaseModel):
    text: str
    duration: float


class _WireSegment(_WireNarration):
    index: int
    image_description: str
    search_terms: list[str] = Field(default_factory=list)


class _WireMetadata(BaseModel):
    title: str
    description: str
    tags: list[str] = Field(default_factory=list)


class WireScript(BaseModel):
    """The JSON the model is asked for: the response schema of every LLM writer."""

    intro: _WireNarration
    segments: list[_WireSegment]
    outro: _WireNarration
    metadata: _WireMetadata
    total_duration: float


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Model text without control characters or lone surrogates, which no file or voice takes."""
    return _UNPRINTABLE.sub("", text).strip()


MAX_TERMS = 3
MAX_TERM_CHARS = 60


def clean_terms(terms: list[str]) -> list[str]:
    """At most MAX_TERMS distinct, non-empty, one-line search terms (a model may give more)."""
    cleaned = [" ".join(clean_text(t).split())[:MAX_TERM_CHARS] for t in terms]
    return list(dict.fromkeys(t for t in cleaned if t))[:MAX_TERMS]


def schema_error(exc: ValidationError, who: str, provider: str) -> ScriptValidationError:
    """A writer's answer that does not fit WireScript: the first problem, with the 1-based
    segment it is in (segments are numbered so); another draw of the model may well fit."""
    loc = exc.errors()[0]["loc"]
    where = ".".join(str(p) for p in loc) or "(root)"
    seat: dict[str, Any] = {}
    if len(loc) > 1 and loc[0] == "segments" and isinstance(loc[1], int):
        seat = {"segment_index": loc[1] + 1}
    shown = f"segment {seat['segment_index']}, field {where}" if seat else f"field {where}"
    return ScriptValidationError(
        f"{who} 的腳本不符合格式 ({shown}: {exc.errors()[0]['msg']}); run the script step again.",
        field=where,
        retryable=True,
        provider=provider,
        reason="schema_mismatch",
        errors=len(exc.errors()),
        **seat,
    )


def from_wire(wire: WireScript, language: str) -> Script:
    """A writer's answer as a Script: segments renumbered in order, text cleaned, the total
    the sum of the durations (the rules are checked by validate_script)."""
    segments = [
        Segment(
            index=i,
            text=clean_text(s.text),
            duration=round(float(s.duration), 2),
            image_description=clean_text(s.image_description),
            search_terms=clean_terms(s.search_terms),
        )
        for i, s in enumerate(wire.segments, start=1)
    ]
    intro = Narration(text=clean_text(wire.intro.text), duration=round(wire.intro.duration, 2))
    outro = Narration(text=clean_text(wire.outro.text), duration=round(wire.outro.duration, 2))
    total = round(intro.duration + outro.duration + sum(s.duration for s in segments), 2)
    tags = list(dict.fromkeys(tag for tag in map(clean_text, wire.metadata.tags) if tag))
    return Script(
        language=language,
        intro=intro,
        segments=segments,
        outro=outro,
        metadata=Metadata(
            title=clean_text(wire.metadata.title),
            description=clean_text(wire.metadata.description),
            tags=tags,
        ),
        total_duration=total,
    )
