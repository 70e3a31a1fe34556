"""Where the CJK-capable font lives: a setting, else the Noto Sans CJK TC wheel we depend on."""

from __future__ import annotations

import os
from pathlib import Path

FONT_FAMILY = "Noto Sans CJK TC"  # Pillow's name for it; libass matches the file's own family
# name ("Noto Sans CJK TC Regular"): ASS files use subtitles.ass_font_family(), never this.


def font_path() -> Path:
    """An OpenType font with Traditional Chinese and Latin glyphs."""
    override = os.environ.get("YTMAKER_FONT_FILE")
    if override:
        return Path(override)
    import cvttf_NotoSansCJK_Regular as bundled

    return Path(bundled.__file__).parent / "NotoSansCJKtc-Regular.otf"


def font_dir() -> Path:
    """The folder libass is pointed at (`fontsdir`) so it finds FONT_FAMILY without fontconfig."""
    return font_path().parent
