"""The Run forms of the `new-video` and `new-batch` deployments (the Prefect UI draws them from
these models: titles, descriptions, drop-downs).

The forms carry the limits Prefect can check before a run exists (lengths, choices, the shape
of a date and time: the server refuses a run that breaks them). Every other rule is
ytmaker.project_input's, applied by `video_fields` and `batch_plan` exactly as
`ytmaker project create` and batch files apply it; a break names the form's field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ytmaker import voices
from ytmaker.batch import BatchPlan, NewProject, parse_batch
from ytmaker.config import Settings
from ytmaker.errors import InputError
from ytmaker.length import minimum_text
from ytmaker.project_input import (
    CONTENT_MAX,
    NAME_MAX,
    TAG_MAX,
    TAGS_MAX_CHARS,
    invalid,
    new_project,
)

# A date and a time, seconds and an offset optional (`2026-12-24 20:00`, `...T20:00:00+08:00`);
# empty: publish when uploaded. Whether it is a real, future time is project_input's rule.
PUBLISH_AT_PATTERN = (
    r"^$|^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
# parse_batch's folder for `content_file`, which UI batches may not use (refused before): one
# that cannot exist, should one slip through.
_NO_FILES = Path("/dev/null/no-files")
# The form's field for each field project_input names.
_FORM_FIELD = {
    "youtube.privacy": "privacy",
    "youtube.publish_at": "publish_at",
    "youtube.tags": "tags",
    "voice.name": "voice",
    "voice.rate": "voice_rate",
    "voice.pitch": "voice_pitch",
}
# The voice drop-down: the worker's default voice ("") or one of the table's.
VoiceName = Literal[("", *voices.NAMES)]  # type: ignore[valid-type]

# Fields of the new-video form and of the review form (ytmaker/review_form.py).
Privacy = Annotated[
    Literal["private", "unlisted", "public"],
    Field(
        title="Privacy",
        description="Who can see the uploaded video. A scheduled video stays private until "
        "its publish time.",
    ),
]
PublishAt = Annotated[
    str,
    Field(
        title="Publish at",
        description="When YouTube publishes it, e.g. 2026-12-24 20:00 (Asia/Taipei time unless "
        "an offset is written: +09:00, Z). Must be in the future; empty: when uploaded.",
        pattern=PUBLISH_AT_PATTERN,
    ),
]


class NewVideo(BaseModel):
    """A text to turn into a narrated video."""

    model_config = ConfigDict(extra="forbid", title="New video")

    name: str = Field(
        title="Name",
        description=f"The project's name: one line, 1-{NAME_MAX} characters. It names the run "
        "and is only ever shown, never used as a path.",
        min_length=1,
        max_length=NAME_MAX,
    )
    content: str = Field(
        title="Content",
        description=f"The article, notes or topic to narrate: paste it, paragraphs and all "
        f"(at most {CONTENT_MAX:,} characters). Without an LLM key on the worker the text is "
        f"narrated as it is, so it sets the video's length: a video needs "
        f"{minimum_text('landscape')}; a Short {minimum_text('shorts')}. A shorter text is "
        "refused before anything is made, saying how much to add.",
        min_length=1,
        max_length=CONTENT_MAX,
    )
    language: Literal["zh-TW", "en"] = Field(
        default="zh-TW",
        title="Language",
        description="zh-TW: Traditional Chinese narration and subtitles; en: English.",
    )
    privacy: Privacy = "private"
    publish_at: PublishAt = ""
    tags: list[Annotated[str, Field(min_length=1, max_length=TAG_MAX)]] = Field(
        default_factory=list,
        title="Tags",
        description=f"YouTube tags: each 1-{TAG_MAX} characters, {TAGS_MAX_CHARS} together.",
    )
    review: Literal["default", "none", "script", "upload", "both"] = Field(
        default="default",
        title="Review",
        description="When a person looks before it goes on. script: the run stops after the "
        "script and its Resume form shows every piece to edit before any voice or picture is "
        "paid for; upload: it stops after the thumbnail and its Resume form approves (with the "
        "title, description, tags... as you edit them) or rejects; both: each; none: never; "
        "default: the worker's YTMAKER_REVIEW decides.",
    )
    format: Literal["landscape", "shorts"] = Field(
        default="landscape",
        title="Format",
        description="landscape: a 1920x1080 video; shorts: a vertical 1080x1920 YouTube Short "
        "(15-180 s, a hook first, no custom thumbnail).",
    )
    length: Literal["standard", "short"] = Field(
        default="standard",
        title="Length",
        description="standard: the worker's rule (3-10 minutes unless its YTMAKER_TOTAL_... "
        "settings say otherwise; a Short 15-180 s); short: a shorter video, 1-3 minutes (a "
        "Short 15-60 s), for a shorter text.",
    )
    captions: Literal["line", "words"] = Field(
        default="line",
        title="Captions",
        description="line: each subtitle line as a whole; words: each word (each character "
        "for Chinese) lights up while it is spoken.",
    )
    voice: VoiceName = Field(
        default="",
        title="Voice",
        description="A Microsoft Edge neural voice for the narration (free, online), in the "
        "video's language: "
        + "; ".join(f"{v.name}: {v.label}" for v in voices.VOICES)
        + ". Empty: the worker's voice (YTMAKER_VOICE_PROVIDER).",
    )
    voice_rate: str = Field(
        default="+0%",
        title="Voice rate",
        description="How fast the chosen voice speaks: +10% faster, -20% slower (-50%..+100%).",
        pattern=r"^[+-]\d{1,3}%$",
    )
    voice_pitch: str = Field(
        default="+0Hz",
        title="Voice pitch",
        description="The chosen voice's pitch: +5Hz higher, -10Hz lower (-50Hz..+50Hz).",
        pattern=r"^[+-]\d{1,3}Hz$",
    )
    prompt_template: str = Field(
        default="",
        title="Prompt template",
        description="This project's own prompt for the LLM script writer (Gemini or an "
        "OpenAI-compatible server); must contain "
        "{content}. Other placeholders: {language}, {language_name}, {segment_min}, "
        "{segment_max}, {total_min}, {total_max}, {rate}. Empty: the default prompt.",
    )


def video_fields(
    form: NewVideo,
    *,
    where: str = "",
    source: str = "The new-video form",
    settings: Settings | None = None,
) -> dict:
    """The checked fields of the project's row, by project_input's rules (with `settings`, the
    text's length too); an InputError names every field it refuses by the form's names (with
    `where` in front: `projects[1].`)."""
    youtube = {
        "privacy": form.privacy,
        "publish_at": form.publish_at or None,
        "tags": form.tags or None,
    }
    try:
        fields = new_project(
            form.name,
            form.content,
            form.language,
            youtube,
            form.prompt_template or None,
            review=None if form.review == "default" else form.review,
            video_format=form.format,
            length=form.length,
            settings=settings,
            voice=_voice(form),
        )
    except InputError as exc:
        raise invalid(source, _renamed(exc, where)) from None
    if form.captions == "words":
        fields["visual_config"] = {"subtitles": {"style": "words"}}
    return fields


def _voice(form: NewVideo) -> dict[str, str] | None:
    if not form.voice:
        return None
    return {"name": form.voice, "rate": form.voice_rate, "pitch": form.voice_pitch}


def _renamed(exc: InputError, where: str) -> list[tuple[str, str]]:
    return [
        (where + _FORM_FIELD.get(p["field"], p["field"]), p["message"])
        for p in exc.details["problems"]
    ]


# --- new-batch -------------------------------------------------------------------------------


class NewBatch(BaseModel):
    """A batch of texts to turn into videos: YAML text, or a list of projects."""

    model_config = ConfigDict(extra="forbid", title="New batch")

    batch_yaml: str = Field(
        default="",
        title="Batch (YAML)",
        description="The batch in the batch-file format (README, Batches): optional name: and "
        "language: lines, then projects: with one '- name:' entry per video, its text inline "
        "under 'content: |' (content_file cannot be read from here), and optional language, "
        "format, length, prompt_template and 'youtube: {privacy, publish_at, tags}'. Leave "
        "empty to give the projects as a list below instead.",
    )
    name: str = Field(
        default="",
        title="Batch name",
        description="The name of a batch given as a list (YAML text names itself). Default: batch.",
        max_length=NAME_MAX,
    )
    projects: list[NewVideo] = Field(
        default_factory=list,
        title="Projects",
        description="The batch as a list of projects, each with the fields of a new video "
        "(when the YAML above is empty).",
    )


def batch_plan(
    form: NewBatch, *, source: str = "The new-batch form", settings: Settings | None = None
) -> BatchPlan:
    """The batch of the form: its YAML text or its list of projects (one of the two). One
    InputError lists every problem (with `settings`, each text too short for its video);
    nothing is written."""
    if bool(form.batch_yaml.strip()) == bool(form.projects):
        raise InputError(
            f"{source}: give the batch either as YAML text (batch_yaml) or as a list of "
            "projects (projects), not both and not neither.",
            field="batch_yaml",
        )
    if form.batch_yaml.strip():
        return _from_yaml(form.batch_yaml, source, settings)
    return _from_list(form.name, form.projects, source, settings)


def _from_yaml(text: str, source: str, settings: Settings | None) -> BatchPlan:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(
            f"{source}: batch_yaml is not valid YAML: {exc}", field="batch_yaml"
        ) from None
    files = _content_files(data)
    if files:
        rule = "not available from the Prefect UI (the worker's files are not yours): paste the "
        raise invalid(source, [(where, rule + "text as content") for where in files])
    return parse_batch(
        data,
        _NO_FILES,
        source=f"{source} (batch_yaml)",
        default_name="batch",
        settings=settings,
    )


def _content_files(data: Any) -> list[str]:
    """`projects[i].content_file` for each project that names a file."""
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        return []  # parse_batch explains the shape
    return [
        f"projects[{i}].content_file"
        for i, item in enumerate(data["projects"])
        if isinstance(item, dict) and "content_file" in item
    ]


def _from_list(
    name: str, projects: list[NewVideo], source: str, settings: Settings | None
) -> BatchPlan:
    problems: list[tuple[str, str]] = []
    made: list[NewProject] = []
    for i, form in enumerate(projects):
        try:
            fields = video_fields(form, where=f"projects[{i}].", settings=settings)
            made.append(NewProject(**fields))
        except InputError as exc:
            problems += [(p["field"], p["message"]) for p in exc.details["problems"]]
    if problems:
        raise invalid(source, problems)
    return BatchPlan(name=name.strip() or "batch", projects=made)
