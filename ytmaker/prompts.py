"""A project's own prompt template for the LLM script writer, filled without `str.format`.

Only the named placeholders below are replaced (`{segment_min:g}` takes a format spec); every
other character is kept literally, so a template or a content full of braces cannot reach an
attribute or break the prompt.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ytmaker.language import family

if TYPE_CHECKING:
    from ytmaker.script import ScriptRules

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
TEMPLATE_MAX_BYTES = 4 * MAX_CHARS  # UTF-8: more bytes than this is surely too many characters
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*)(?::([^{}]*))?\}")
# A format spec may pad or cut a value, within reason: `{content:>2000000000}` would otherwise
# build a 2 GB prompt. Each copy of {content} can be 50,000 characters, paid for as tokens.
SPEC_WIDTH_MAX = 200
CONTENT_USES_MAX = 2
_SPEC_NUMBERS = re.compile(r"(\d+)")
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
    if names.count("content") > CONTENT_USES_MAX:
        raise ValueError(
            f"uses {{content}} {names.count('content')} times; at most {CONTENT_USES_MAX}"
        )
    for match in _TOKEN.finditer(template):
        _check_spec(match.group(1), match.group(2) or "")
    try:
        fill(template, _SAMPLE)
    except ValueError as exc:
        raise ValueError(f"has a bad format spec ({exc})") from None
    return template


def _check_spec(name: str | None, spec: str) -> None:
    """Widths and precisions stay small: formatting never builds a huge prompt."""
    for number in _SPEC_NUMBERS.findall(spec):
        if int(number) > SPEC_WIDTH_MAX:
            raise ValueError(
                f"has a format spec {{{name}:{spec}}} with {int(number):,}; widths and "
                f"precisions go up to {SPEC_WIDTH_MAX}"
            )


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


# --- the script prompt every LLM writer sends (Gemini, any OpenAI-compatible server) ---------

LANGUAGE_NAMES = {"zh": "Traditional Chinese as used in Taiwan (繁體中文)", "en": "English"}

DEFAULT_PROMPT = """You write the narration script of a YouTube video from the content below.
Write every spoken text and the metadata in {language_name}; write each image_description in
English, as a prompt for an image generator (a concrete scene, no text in the picture).

Rules:
- intro: a short greeting that introduces the topic.
- segments: numbered from 1, in the order they are spoken; each has the spoken text, its
  duration in seconds (between {segment_min:g} and {segment_max:g}; about {rate} when spoken),
  an image_description, and search_terms: 1 to 3 short English stock-footage search terms
  for what the segment shows (e.g. "night market", "street food").
- outro: thanks the viewer and invites them to like and subscribe.
- total_duration: the sum of all durations, between {total_min:g} and {total_max:g} seconds.
- metadata: a title (at most 100 characters), a description (at most 4500 characters, ending
  with a note that the video was made with AI tools) and up to 10 tags.
- Stay faithful to the content; do not invent facts.

Content:
{content}
"""

RATES = {"zh": "3.7 Chinese characters per second", "en": "2.9 words per second"}


def script_prompt(template: str | None, content: str, language: str, rules: ScriptRules) -> str:
    """The prompt for `content`: the project's own template (a Short's hook prompt included),
    else DEFAULT_PROMPT, with the script rules filled in."""
    lang = family(language)
    return fill(
        template or DEFAULT_PROMPT,
        dict(
            content=content.strip(),
            language=language,
            language_name=LANGUAGE_NAMES[lang],
            segment_min=rules.segment_min,
            segment_max=rules.segment_max,
            total_min=rules.total_min,
            total_max=rules.total_max,
            rate=RATES[lang],
        ),
    )
