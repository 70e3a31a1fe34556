"""A person's decision on a finished video before upload: approve (with the metadata as it is
to be published) or reject (with a reason).

`ReviewForm` is what the Prefect UI draws when a run waits (flows/review_gate.py makes it a
RunInput) and what `ytmaker review ID --approve/--reject` fills in. What JSON Schema can say
(lengths, choices, the shape of a time) the form says, so the Prefect server refuses it before
the run resumes; everything else is checked by `checked_decision` with the rules of
`ytmaker project create` (ytmaker.project_input), naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ytmaker.errors import InputError
from ytmaker.forms import Privacy, PublishAt
from ytmaker.project_input import (
    TAG_MAX,
    TAGS_MAX_CHARS,
    YouTubeSpec,
    check_name,
    explain,
    invalid,
    youtube_settings,
)
from ytmaker.providers.youtube import DESCRIPTION_MAX_BYTES, TITLE_MAX

REASON_MAX = 500


class ReviewForm(BaseModel):
    """Approve to upload with this metadata, or reject (nothing is uploaded)."""

    model_config = ConfigDict(extra="forbid", title="Review before upload")

    decision: Literal["approve", "reject"] = Field(
        title="Decision",
        description="approve: upload the video with the metadata below; reject: do not "
        "publish it (the project ends REJECTED with your reason).",
    )
    reason: str = Field(
        default="",
        title="Reason",
        description="Why (kept with the project; shown for a rejection).",
        max_length=REASON_MAX,
    )
    title: str = Field(
        title="Title",
        description=f"The YouTube title: one line, 1-{TITLE_MAX} characters, no '<' or '>'.",
        min_length=1,
        max_length=TITLE_MAX,
        pattern=r"^[^<>\n\r]*$",
    )
    description: str = Field(
        default="",
        title="Description",
        description=f"The YouTube description: at most {DESCRIPTION_MAX_BYTES} bytes, no '<' "
        "or '>'.",
        max_length=DESCRIPTION_MAX_BYTES,
        pattern=r"^[^<>]*$",
    )
    tags: list[Annotated[str, Field(min_length=1, max_length=TAG_MAX, pattern=r"^[^<>]*$")]] = (
        Field(
            default_factory=list,
            title="Tags",
            description=f"YouTube tags: each 1-{TAG_MAX} characters, {TAGS_MAX_CHARS} together.",
        )
    )
    privacy: Privacy = "private"
    publish_at: PublishAt = ""
    ai_generated: bool = Field(
        default=True,
        title="Altered or synthetic content",
        description="YouTube's disclosure (containsSyntheticMedia): the narration, pictures "
        "and presenter are machine-made.",
    )


# The CLI option for each field, so a refusal names what the user typed.
CLI_OPTIONS = {
    "title": "--title",
    "description": "--description",
    "tags": "--tags",
    "privacy": "--privacy",
    "publish_at": "--publish-at",
    "reason": "--reason",
    "ai_generated": "--ai-generated",
}


def checked_decision(values: dict[str, Any], *, source: str = "The review") -> dict[str, Any]:
    """The decision as stored and applied: every field checked by the form's and project
    create's rules; one InputError names each field it refuses. For an approval, `youtube`
    holds the settings as `project create` stores them (privacy, publish_at in UTC, tags)."""
    try:
        form = ReviewForm.model_validate(values)
    except ValidationError as exc:
        raise invalid(source, explain(exc)) from None
    problems: list[tuple[str, str]] = []
    decision = form.model_dump()
    if form.decision == "reject":
        return decision
    try:
        decision["title"] = check_name(form.title, "the video")
    except ValueError as exc:
        problems.append(("title", str(exc)))
    if len(form.description.encode("utf-8")) > DESCRIPTION_MAX_BYTES:
        problems.append(("description", f"must stay within {DESCRIPTION_MAX_BYTES} bytes"))
    decision["youtube"] = _youtube(form, problems)
    if problems:
        raise invalid(source, problems)
    return decision


def _youtube(form: ReviewForm, problems: list[tuple[str, str]]) -> dict[str, Any]:
    given = {"privacy": form.privacy, "publish_at": form.publish_at or None, "tags": form.tags}
    try:
        spec = YouTubeSpec.model_validate({k: v for k, v in given.items() if v is not None})
        return youtube_settings(spec)
    except ValidationError as exc:
        problems.extend((field.removeprefix("youtube."), rule) for field, rule in explain(exc))
    except ValueError as exc:
        problems.append(("publish_at", str(exc)))
    return {}


def proposed(
    title: str, description: str, tags: list[str], youtube: dict[str, Any], default_privacy: str
) -> dict[str, Any]:
    """The form's initial values: the script's metadata and the project's upload settings."""
    return {
        "title": title,
        "description": description,
        "tags": list(youtube.get("tags") or tags),
        "privacy": youtube.get("privacy", default_privacy),
        "publish_at": youtube.get("publish_at") or "",
        "ai_generated": True,
    }


def refused_fields(exc: InputError) -> list[str]:
    """The fields an InputError of checked_decision names."""
    return [p["field"] for p in exc.details.get("problems", [])]
