"""The script of a video (what is said, for how long, over which picture) and its rules."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ytmaker.errors import ScriptValidationError


class ScriptRules(BaseModel):
    """Duration limits in seconds; configurable through settings."""

    segment_min: float = 5.0
    segment_max: float = 20.0
    total_min: float = 180.0
    total_max: float = 600.0


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


def validate_script(script: Script, rules: ScriptRules) -> Script:
    """Raise ScriptValidationError naming the segment and field that break the rules."""
    if not script.segments:
        raise ScriptValidationError("腳本沒有任何段落 (script has no segments)", field="segments")
    for segment in script.segments:
        _check_segment(segment, rules)
    total = sum(piece.duration for piece in script.pieces())
    if total < rules.total_min or total > rules.total_max:
        raise ScriptValidationError(
            f"影片總時長超出範圍 (total {total:.1f}s not within "
            f"{rules.total_min:g}-{rules.total_max:g}s)",
            field="total_duration",
            duration=round(total, 2),
        )
    return script


def _check_segment(segment: Segment, rules: ScriptRules) -> None:
    where = {"segment_index": segment.index, "duration": segment.duration}
    if not segment.text.strip():
        raise ScriptValidationError("段落內容為空 (segment text is empty)", field="text", **where)
    if not segment.image_description.strip():
        raise ScriptValidationError(
            "段落缺少圖片描述 (segment has no image_description)",
            field="image_description",
            **where,
        )
    if segment.duration > rules.segment_max:
        raise ScriptValidationError(
            f"段落時長超過限制 (segment {segment.index}: {segment.duration:g}s > "
            f"{rules.segment_max:g}s)",
            field="duration",
            **where,
        )
    if segment.duration < rules.segment_min:
        raise ScriptValidationError(
            f"段落時長低於限制 (segment {segment.index}: {segment.duration:g}s < "
            f"{rules.segment_min:g}s)",
            field="duration",
            **where,
        )
