"""A project's own prompt template for the LLM script writer, filled without `str.format`.

Only the named placeholders below are replaced (`{segment_min:g}` takes a format spec); every
other character is kept literally, so a template or a content full of braces cannot reach an
attribute or break the prompt.
"""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDERS = {
    "content": "the project's text",
    "language": "its language code (zh-TW or en)",
    "language_name": "the language's name",
    "segment_min": "shortest segment, seconds",
    "segment_max": "longest segment, seconds",
    "total_min": "shortest video, seconds",
    "total_max": "longest video, seconds",
    "rate": "the speaking rate",
}
MAX_CHARS = 20_000
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*)(?::([^{}]*))?\}")
_SAMPLE = {name: 1.0 if name.endswith(("_min", "_max")) else "x" for name in PLACEHOLDERS}


def check_template(template: str) -> str:
    """The template if it is usable; else a ValueError saying the rule it breaks (the caller
    names the field, as with the other checks in ytmaker.project_input)."""
    if len(template) > MAX_CHARS:
        raise ValueError(f"is {len(template):,} characters; at most {MAX_CHARS:,}")
    names = [m.group(1) for m in _TOKEN.finditer(template) if m.group(1)]
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + n + "}" for n in PLACEHOLDERS)
        raise ValueError(f"has unknown placeholder(s) {', '.join(unknown)}; use only {known}")
    if "content" not in names:
        raise ValueError("must contain {content}, where the project's text goes")
    try:
        fill(template, _SAMPLE)
    except ValueError as exc:
        raise ValueError(f"has a bad format spec ({exc})") from None
    return template


def fill(template: str, values: dict[str, Any]) -> str:
    """Replace the placeholders; `{{` and `}}` stand for literal braces."""

    def one(match: re.Match[str]) -> str:
        token, name, spec = match.group(0), match.group(1), match.group(2)
        if token in ("{{", "}}"):
            return token[0]
        if name not in values:
            return token
        return format(values[name], spec or "")

    return _TOKEN.sub(one, template)
