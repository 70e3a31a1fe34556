"""Whether a text can make a video of the length its project asks for, checked when the project
is created (command line, batch file, the Prefect UI's forms), before any row exists.

The offline script writer narrates the text as it is, so its length decides the video's: a text
that cannot reach the minimum is refused, saying how much more text is needed. An LLM writer
(Gemini) writes the narration itself, from a topic as well as from an article: nothing to check.
"""

from __future__ import annotations

from ytmaker import formats
from ytmaker.config import Settings
from ytmaker.errors import ConfigError, InputError
from ytmaker.providers.local.script_writer import LocalScriptWriter, text_needed


def narrates_text(settings: Settings) -> bool:
    """True when the script writer is the offline one (no LLM writes the narration)."""
    from ytmaker.providers import script_writer

    try:
        return script_writer(settings).name == "local"
    except ConfigError:  # a forced provider without its key: the script stage says so
        return False


def length_problem(
    settings: Settings, name: str, content: str, language: str, fmt: str, length: str | None
) -> str | None:
    """Why `content` cannot make the project's video (one line), or None."""
    rules = formats.rules_for(settings, fmt, length)
    try:
        LocalScriptWriter().write(content, language, rules, title=name)
    except InputError as exc:
        if exc.details.get("field") != "content":
            return None
        message = exc.message.removeprefix("The content ").rstrip(".")
        low, high = formats.SHORT_LENGTH[formats.format_of(fmt)]
        too_short = exc.details.get("duration", rules.total_min) < rules.total_min
        if too_short and formats.check_length(length) != "short" and low < rules.total_min:
            message += f"; or ask for a shorter video: length short ({low:g}-{high:g} s)"
        return message
    return None


def minimum_text(fmt: str) -> str:
    """The text a video needs with the offline writer at the default rules, for the forms."""
    hook = fmt == "shorts"
    standard = 15.0 if hook else 180.0
    low = formats.SHORT_LENGTH[fmt][0]

    def both(seconds: float) -> str:
        en, zh = text_needed(seconds, "en", hook=hook), text_needed(seconds, "zh-TW", hook=hook)
        return f"{en} or {zh.replace(' Chinese characters', '')} Chinese characters"

    if low >= standard:
        return f"about {both(standard)} ({standard:g} s)"
    return f"about {both(standard)} ({standard:g} s), or with length short {both(low)}"
