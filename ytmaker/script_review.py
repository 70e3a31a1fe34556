"""A person reads the script before any voice or picture is paid for, and may change it.

The script is shown piece by piece (intro, each segment's text and image description, outro)
with its planned seconds; it is edited as YAML (`ytmaker review ID --edit`, `--script FILE`)
or in the Prefect UI's Resume form (one field per piece, flows/review_gate.py). An edit is
checked by the script's own rules (ytmaker/script.py) and refused naming the piece
(`segments[3].text`, numbered as the script numbers its segments) and the rule. A changed
piece gets its planned seconds from its new text; an unchanged one keeps its own, and its
fingerprint, so its voice and picture are not paid twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ytmaker import own_media
from ytmaker.config import get_settings
from ytmaker.errors import InputError, ScriptValidationError
from ytmaker.project_input import TAG_MAX, check_name, explain, invalid
from ytmaker.providers.youtube import DESCRIPTION_MAX_BYTES, TITLE_MAX
from ytmaker.script import (
    MAX_CHARS_PER_SECOND,
    MAX_TERM_CHARS,
    MAX_TERMS,
    Metadata,
    Narration,
    Script,
    ScriptRules,
    Segment,
    clean_terms,
    spoken_seconds,
    validate_script,
)

IMAGE_DESCRIPTION_MAX = 1000  # what a picture prompt needs; image services take a few thousand
REASON_MAX = 500
PIECE_MIN_SECONDS = 1.0  # an intro or outro of a word or two still gets a moment on screen


def text_max(rules: ScriptRules) -> int:
    """The longest text a piece may have (ytmaker.script's own length rule)."""
    return int(rules.segment_max * MAX_CHARS_PER_SECOND)


# --- the edit as a document: YAML, or the structured form of the Resume form's fields ---------


class _SegmentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    image_description: str
    search_terms: list[str] | None = None  # stock-footage terms (pexels); None: kept as they are
    media: str | None = None  # own picture or clip; None: kept as it is, "": none any more


class ScriptEdit(BaseModel):
    """What a person may change: the metadata and every piece's words and picture."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=TITLE_MAX, pattern=r"^[^<>\n\r]*$")
    description: str = Field(default="", pattern=r"^[^<>]*$")
    tags: list[Annotated[str, Field(min_length=1, max_length=TAG_MAX)]] = Field(
        default_factory=list
    )
    intro: str
    segments: list[_SegmentEdit] = Field(min_length=1)
    outro: str


def editable(script: Script) -> dict[str, Any]:
    """The script as a person edits it."""
    return {
        "title": script.metadata.title,
        "description": script.metadata.description,
        "tags": list(script.metadata.tags),
        "intro": script.intro.text,
        "segments": [_segment(s, _uses_terms(script)) for s in script.segments],
        "outro": script.outro.text,
    }


def _uses_terms(script: Script) -> bool:
    """The writer gave stock-footage search terms: they are shown and edited too."""
    return any(s.search_terms for s in script.segments)


def _segment(segment: Segment, terms: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {"text": segment.text, "image_description": segment.image_description}
    if terms:
        shown["search_terms"] = list(segment.search_terms)
    if segment.media:
        shown["media"] = segment.media
    return shown


YAML_HEADER = (
    "# Edit the script, save and close: it is checked, then approved.\n"
    "# segments are numbered from 1 (segments[1] is the first); a changed piece is voiced and\n"
    "# drawn again, its planned seconds from its new text; the others are not paid twice.\n"
    "# media: FILE under a segment shows your own picture or clip there (relative to the\n"
    "# folder you run ytmaker in, or to the --script file's folder).\n"
)


def to_yaml(script: Script) -> str:
    body = yaml.safe_dump(editable(script), allow_unicode=True, sort_keys=False, width=100)
    return YAML_HEADER + body


def from_yaml(text: str, source: str) -> dict[str, Any]:
    """The YAML a person wrote, as a mapping; an InputError saying where it does not parse."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(f"{source} is not valid YAML{where}: {exc}", field="script") from None
    if not isinstance(data, dict):
        raise InputError(f"{source}: give the script as a mapping (title, intro, ...)")
    return data


# --- applying an edit under the script's rules -------------------------------------------------


@dataclass(frozen=True)
class MediaRules:
    """Where a segment's relative `media:` path starts, and the largest file it may name."""

    root: Path = field(default_factory=Path.cwd)
    # YTMAKER_MEDIA_MAX_BYTES, as for --media folders (also where a run re-checks a kept file)
    max_bytes: int = field(default_factory=lambda: get_settings().media_max_bytes)


def apply_edit(
    script: Script,
    given: dict[str, Any],
    rules: ScriptRules,
    source: str = "The script",
    media: MediaRules | None = None,
) -> tuple[Script, list[str]]:
    """The edited script, checked, and the pieces that changed (`segments[3].text`...); one
    InputError naming each field it refuses."""
    try:
        edit = ScriptEdit.model_validate(given)
    except ValidationError as exc:
        raise invalid(source, [(_one_based(f), rule) for f, rule in explain(exc)]) from None
    problems: list[tuple[str, str]] = []
    try:
        title = check_name(edit.title, "the video")
    except ValueError as exc:
        problems.append(("title", str(exc)))
        title = edit.title
    if len(edit.description.encode("utf-8")) > DESCRIPTION_MAX_BYTES:
        problems.append(("description", f"must stay within {DESCRIPTION_MAX_BYTES} bytes"))
    language = script.language
    old = {s.index: s for s in script.segments}
    segments = []
    for i, piece in enumerate(edit.segments, start=1):
        before = old.get(i)
        duration = _planned(piece.text, before, language, rules, f"segments[{i}].text", problems)
        terms = before.search_terms if before is not None else []
        own = before.media if before is not None and piece.media is None else piece.media
        segments.append(
            Segment(
                index=i,
                text=piece.text.strip(),
                duration=duration,
                image_description=piece.image_description.strip(),
                search_terms=terms
                if piece.search_terms is None
                else clean_terms(piece.search_terms),
                media=_own_media(own, i, media or MediaRules(), problems),
            )
        )
    intro = Narration(
        text=edit.intro.strip(),
        duration=_planned(edit.intro, script.intro, language, rules, "intro.text", problems),
    )
    outro = Narration(
        text=edit.outro.strip(),
        duration=_planned(edit.outro, script.outro, language, rules, "outro.text", problems),
    )
    if problems:
        raise invalid(source, problems)
    edited = Script(
        language=language,
        intro=intro,
        segments=segments,
        outro=outro,
        metadata=Metadata(title=title, description=edit.description.strip(), tags=edit.tags),
        total_duration=round(sum(p.duration for p in (intro, *segments, outro)), 2),
    )
    try:
        validate_script(edited, rules)
    except ScriptValidationError as exc:
        raise invalid(source, [(field_of(exc), exc.message)]) from None
    return edited, changed_pieces(script, edited)


def _own_media(
    given: str | None, index: int, media: MediaRules, problems: list[tuple[str, str]]
) -> str | None:
    """A segment's own file, checked as `--media` files are; kept as an absolute path."""
    if not given or not given.strip():
        return None
    where = f"segments[{index}].media"
    path = Path(given.strip()).expanduser()
    path = (path if path.is_absolute() else media.root / path).resolve()
    if not path.is_file():
        problems.append((where, f"{path} is not a file"))
        return None
    try:
        own_media.check_file(path, media.max_bytes, where)
    except InputError as exc:
        problems.append((where, exc.message.removeprefix(f"{where}: ")))
        return None
    return str(path)


def _planned(
    text: str,
    before: Narration | None,
    language: str,
    rules: ScriptRules,
    where: str,
    problems: list[tuple[str, str]],
) -> float:
    """An unchanged piece keeps its planned seconds; a changed one is planned from its text,
    and a segment must be sayable within the segment limit."""
    text = text.strip()
    if before is not None and before.text == text:
        return before.duration
    seconds = spoken_seconds(text, language)
    segment = where.startswith("segments")
    if segment and seconds > rules.segment_max:
        problems.append(
            (
                where,
                f"takes about {seconds:.0f}s to say; a segment lasts at most "
                f"{rules.segment_max:g}s (shorten it or split it into two segments)",
            )
        )
    least = rules.segment_min if segment else PIECE_MIN_SECONDS
    return round(max(least, min(seconds, rules.segment_max) if segment else seconds), 2)


def field_of(exc: ScriptValidationError) -> str:
    """Where a script rule was broken, as the edit names it: `segments[3].text`, `intro.text`."""
    details = exc.details
    field = str(details.get("field") or "script")
    if "segment_index" in details:
        return f"segments[{details['segment_index']}].{field}"
    if "piece" in details:
        return f"{details['piece']}.{field}"
    return field


def _one_based(field: str) -> str:
    """pydantic counts list items from 0; the script numbers its segments from 1."""
    if field.startswith("segments[") and "]" in field:
        number, rest = field[len("segments[") :].split("]", 1)
        if number.isdigit():
            return f"segments[{int(number) + 1}]{rest}"
    return field


def changed_pieces(before: Script, after: Script) -> list[str]:
    """The pieces whose words or picture differ (what is voiced or drawn again)."""
    changed = []
    if before.intro.text != after.intro.text:
        changed.append("intro.text")
    old = {s.index: s for s in before.segments}
    for segment in after.segments:
        was = old.get(segment.index)
        for part in ("text", "image_description", "search_terms", "media"):
            if was is None or getattr(was, part) != getattr(segment, part):
                changed.append(f"segments[{segment.index}].{part}")
    changed += [f"segments[{i}]" for i in sorted(set(old) - {s.index for s in after.segments})]
    if before.outro.text != after.outro.text:
        changed.append("outro.text")
    return changed


# --- the decision: approve (with the script as edited) or reject -------------------------------


def checked_script_decision(
    values: dict[str, Any],
    script: Script,
    rules: ScriptRules,
    source: str = "The script review",
    media: MediaRules | None = None,
) -> dict[str, Any]:
    """The decision as stored and applied: `script` holds the approved (perhaps edited) script,
    `changed` the pieces that differ from the writer's."""
    verdict = values.get("decision", "approve")
    if verdict not in ("approve", "reject"):
        raise invalid(source, [("decision", "must be approve or reject")])
    reason = str(values.get("reason") or "")
    if len(reason) > REASON_MAX:
        raise invalid(source, [("reason", f"must stay within {REASON_MAX} characters")])
    if verdict == "reject":
        return {"decision": "reject", "reason": reason}
    edit = values.get("script")
    changed: list[str] = []
    edited = script
    if edit is not None:
        edited, changed = apply_edit(script, edit, rules, source, media)
    return {
        "decision": "approve",
        "reason": reason,
        "script": edited.model_dump(mode="json"),
        "changed": changed,
    }


# --- the Resume form: one field per piece, each with its own limits ----------------------------


def segment_field(index: int, part: str) -> str:
    return f"segment_{index}_{part}"


def form_fields(script: Script, rules: ScriptRules) -> dict[str, tuple[Any, Any]]:
    """The fields of the script's Resume form, prefilled from `script` (pydantic fields; the
    flow makes them a RunInput)."""
    most = text_max(rules)
    fields: dict[str, tuple[Any, Any]] = {
        "decision": (
            Literal["approve", "reject"],
            Field(
                title="Decision",
                description="approve: make the video from the script below (changed pieces are "
                "voiced and drawn; nothing else is paid twice); reject: stop here, nothing more "
                "is paid for (the project ends REJECTED with your reason).",
            ),
        ),
        "reason": (
            str,
            Field(default="", title="Reason", description="Why.", max_length=REASON_MAX),
        ),
        "title": (
            str,
            Field(
                default=script.metadata.title,
                title="Title",
                description=f"The video's title: one line, 1-{TITLE_MAX} characters.",
                min_length=1,
                max_length=TITLE_MAX,
                pattern=r"^[^<>\n\r]*$",
            ),
        ),
        "description": (
            str,
            Field(
                default=script.metadata.description,
                title="Description",
                description=f"The YouTube description: at most {DESCRIPTION_MAX_BYTES} bytes.",
                max_length=DESCRIPTION_MAX_BYTES,
                pattern=r"^[^<>]*$",
            ),
        ),
        "tags": (
            list[Annotated[str, Field(min_length=1, max_length=TAG_MAX)]],
            Field(
                default=list(script.metadata.tags),
                title="Tags",
                description=f"YouTube tags: each 1-{TAG_MAX} characters.",
            ),
        ),
        "intro": (str, _text_field(script.intro, "Intro", most)),
    }
    terms = _uses_terms(script)
    for segment in script.segments:
        fields[segment_field(segment.index, "text")] = (
            str,
            _text_field(segment, f"Segment {segment.index}: text", most, rules),
        )
        fields[segment_field(segment.index, "image_description")] = (
            str,
            Field(
                default=segment.image_description,
                title=f"Segment {segment.index}: image description",
                description=f"What its picture shows: 1-{IMAGE_DESCRIPTION_MAX} characters.",
                min_length=1,
                max_length=IMAGE_DESCRIPTION_MAX,
            ),
        )
        if terms:
            fields[segment_field(segment.index, "search_terms")] = (
                list[Annotated[str, Field(min_length=1, max_length=MAX_TERM_CHARS)]],
                Field(
                    default=list(segment.search_terms),
                    title=f"Segment {segment.index}: search terms",
                    description=f"Stock-footage search terms in English: at most {MAX_TERMS}.",
                    max_length=MAX_TERMS,
                ),
            )
    fields["outro"] = (str, _text_field(script.outro, "Outro", most))
    return fields


def _text_field(piece: Narration, title: str, most: int, rules: ScriptRules | None = None) -> Any:
    said = f"planned {piece.duration:g}s"
    limit = f"; a segment is {rules.segment_min:g}-{rules.segment_max:g}s to say" if rules else ""
    return Field(
        default=piece.text,
        title=title,
        description=f"What is said ({said}): 1-{most:,} characters{limit}.",
        min_length=1,
        max_length=most,
    )


def form_model(script: Script, rules: ScriptRules, base: type[BaseModel]) -> type[BaseModel]:
    """The form as a model on `base` (a RunInput in the flow; BaseModel in tests)."""
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "ScriptDecision",
        __base__=base,
        __config__=None,
        **form_fields(script, rules),
    )
    return model


def from_form(values: dict[str, Any], script: Script) -> dict[str, Any]:
    """The Resume form's fields as a decision (`script`: the edit in the shape of ScriptEdit);
    a field left out keeps the script's."""
    base = editable(script)
    edit = {
        "title": values.get("title", base["title"]),
        "description": values.get("description", base["description"]),
        "tags": values.get("tags", base["tags"]),
        "intro": values.get("intro", base["intro"]),
        "segments": [
            {
                part: values.get(segment_field(s.index, part), getattr(s, part))
                for part in ("text", "image_description", "search_terms")
            }
            for s in script.segments
        ],
        "outro": values.get("outro", base["outro"]),
    }
    return {
        "decision": values.get("decision", "approve"),
        "reason": values.get("reason", ""),
        "script": edit,
    }


def form_values(script: Script, decision: str = "approve", reason: str = "") -> dict[str, Any]:
    """The Resume form filled in with `script` (what `ytmaker review` sends a suspended run)."""
    values: dict[str, Any] = {
        "decision": decision,
        "reason": reason,
        "title": script.metadata.title,
        "description": script.metadata.description,
        "tags": list(script.metadata.tags),
        "intro": script.intro.text,
        "outro": script.outro.text,
    }
    for s in script.segments:
        values[segment_field(s.index, "text")] = s.text
        values[segment_field(s.index, "image_description")] = s.image_description
        if _uses_terms(script):
            values[segment_field(s.index, "search_terms")] = list(s.search_terms)
    return values


# --- what a reviewer reads ---------------------------------------------------------------------


def rows(script: Script) -> list[dict[str, Any]]:
    """Piece by piece: its name, text, image description and planned seconds."""
    found = [{"piece": "intro", "text": script.intro.text, "image": "", "seconds": 0.0}]
    found[0]["seconds"] = script.intro.duration
    for s in script.segments:
        found.append(
            {
                "piece": f"segments[{s.index}]",
                "text": s.text,
                "image": s.image_description,
                "seconds": s.duration,
            }
        )
    found.append(
        {"piece": "outro", "text": script.outro.text, "image": "", "seconds": script.outro.duration}
    )
    return found


def script_markdown(project_id: int, name: str, script: Script, refused: str | None) -> str:
    """The script as a table (the artifact beside the Resume form, and `ytmaker review ID`)."""

    def cell(text: str) -> str:
        return " ".join(text.replace("|", "\\|").split())

    lines = [
        f"# Project {project_id}: {cell(name)}: the script, before anything is paid for",
        "",
        f"**{cell(script.metadata.title)}** · {len(script.segments)} segments · planned "
        f"{script.total_duration:.0f}s · tags: {cell(', '.join(script.metadata.tags)) or '-'}",
        "",
    ]
    if refused:
        lines += [f"**Your last edit was refused:** {cell(refused)}", ""]
    lines += ["| piece | text | image description | planned seconds |", "|---|---|---|---|"]
    for row in rows(script):
        lines.append(
            f"| {row['piece']} | {cell(row['text'])} | {cell(row['image'])} | {row['seconds']:g} |"
        )
    lines += [
        "",
        "## Decide",
        "",
        "Prefect UI: this run → **Resume** (approve or reject; every piece can be edited). "
        f"Command line: `ytmaker review {project_id} --edit` (YAML in $EDITOR), "
        f"`--script FILE`, `--approve` or `--reject --reason …`.",
    ]
    return "\n".join(lines) + "\n"
