"""Supported languages and how text is measured in each."""

from __future__ import annotations

import re

from ytmaker.errors import InputError

SUPPORTED = {"zh-TW": "zh", "zh": "zh", "zh-Hant": "zh", "en": "en", "en-US": "en", "en-GB": "en"}
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")


def normalise_language(language: str) -> str:
    """Map a user's language code to the canonical one we store (zh-TW or en)."""
    family = SUPPORTED.get(language) or SUPPORTED.get(language.strip().replace("_", "-"))
    if family is None:
        raise InputError(
            f"Unsupported language {language!r}: use zh-TW (Traditional Chinese) or en.",
            field="language",
        )
    return "zh-TW" if family == "zh" else "en"


def family(language: str) -> str:
    """'zh' or 'en'."""
    return SUPPORTED.get(language, "zh" if language.lower().startswith("zh") else "en")


def count_units(text: str, language: str) -> float:
    """Spoken units: Han characters (plus Latin words) for zh, words for en."""
    words = len(_WORD.findall(text))
    if family(language) == "zh":
        return len(_HAN.findall(text)) + 1.5 * words
    return words
