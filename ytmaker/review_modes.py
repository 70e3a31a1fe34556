"""When a person looks at a video: after the script (before anything else is paid for), before
the upload, both, or never.

A project's mode is its own (`review:` in a batch file, `project create --review`, the new-video
form's Review drop-down), else YTMAKER_REVIEW. `true` and `before_upload` keep their first
meaning (before the upload); `upload` is the short word for it.
"""

from __future__ import annotations

from typing import Any, Literal, cast, get_args

ReviewMode = Literal["none", "script", "before_upload", "both"]
MODES: tuple[str, ...] = get_args(ReviewMode)
# The words people write for a mode; `true`/`false` as YAML or a form may give them.
_SAID = {"upload": "before_upload", "true": "before_upload", "false": "none", "off": "none"}
ALLOWED = "none, script, upload (= before_upload, true) or both"


def parse_mode(value: object) -> ReviewMode | None:
    """The mode `value` names (None: not given); ValueError saying what is allowed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "before_upload" if value else "none"
    if isinstance(value, str):
        word = value.strip().lower()
        word = _SAID.get(word, word)
        if word in MODES:
            return cast(ReviewMode, word)
    raise ValueError(f"must be one of {ALLOWED}, not {value!r}")


def project_mode(own: str | None, legacy: bool | None, default: str) -> ReviewMode:
    """A project's mode: its own, else its older yes/no flag (before upload), else the default."""
    return parse_mode(own) or parse_mode(legacy) or cast(ReviewMode, default)


def reviews_script(mode: str) -> bool:
    return mode in ("script", "both")


def reviews_upload(mode: str) -> bool:
    return mode in ("before_upload", "both")


def stored(mode: ReviewMode | None) -> dict[str, Any]:
    """The Project columns for a mode given at creation: `review_mode`, and the older
    `review_required` (True/False/None) kept in step for readers that know only it."""
    if mode is None:
        return {"review_mode": None, "review_required": None}
    return {"review_mode": mode, "review_required": reviews_upload(mode)}
