"""A project's look and sound (`visual_config`): subtitles, avatar, logo, music, motion, loudness.

Every field is optional; an unknown key is an error naming it. Build it with
`VisualConfig.from_dict(project.visual_config, base_dirs=[...])`, which also resolves relative
file paths (logo, music, subtitle font) against `base_dirs` and checks the files exist.

    {
      "subtitles": {"font_file": "fonts/Brand.otf", "size": 60, "color": "#FFFFFF",
                    "outline_color": "#000000", "outline": 3, "shadow": 1.5,
                    "position": "bottom", "margin": 60, "max_chars_per_line": null,
                    "style": "line" | "words", "highlight_color": "#FFD400"},
      "avatar": {"mode": "full" | "pip", "corner": "bottom-right", "size": 0.3},
      "logo": {"path": "logo.png", "corner": "top-right", "scale": 0.1, "opacity": 0.9},
      "music": {"path": "music.mp3", "level_db": -20},
      "motion": "pan" (default) | "zoom" | "off" (or true / false),
      "crossfade": 0.5,
      "loudness": -14,
      "true_peak": -1
    }
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ytmaker.errors import ConfigError
from ytmaker.media import checks
from ytmaker.media.subtitles import ASS_FIELD_UNSAFE

Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
Motion = Literal["off", "pan", "zoom"]
HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# A font family goes into an ASS style line, between commas (see ASS_FIELD_UNSAFE).
FAMILY_MAX = 100
PATH_FIELDS = (("subtitles", "font_file"), ("logo", "path"), ("music", "path"))
# Motion is on by default: measured (bench/render.py, 10 x 10 s, 2 cores) the slow pan costs
# ~+24% render time (every frame differs, so x264 works on each); zoompan costs far more (~+60%
# in a single-clip test) and is opt-in. Cross-fades cost ~0.5 s CPU per boundary.
DEFAULT_MOTION: Motion = "pan"
DEFAULT_CROSSFADE = 0.5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _color(value: str) -> str:
    match = HEX_COLOR.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a colour like '#FFFFFF'")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.upper()


class SubtitleStyle(_Strict):
    font_family: str | None = None  # a family libass can find; default: the font file's own
    font_file: Path | None = None  # OpenType/TrueType file; default: bundled Noto Sans CJK TC
    size: int = Field(54, ge=16, le=160)  # pixels at 1080p
    color: str = "#FFFFFF"
    outline_color: str = "#000000"
    outline: float = Field(3.0, ge=0, le=20)
    shadow: float = Field(1.5, ge=0, le=20)
    position: Literal["bottom", "top"] = "bottom"
    margin: int = Field(60, ge=0, le=500)  # pixels from the bottom (or top) edge
    max_chars_per_line: int | None = Field(None, ge=4, le=120)  # default: 18 CJK / 42 Latin
    # line: each cue as a whole; words: each word (Chinese: character) lights up when spoken
    style: Literal["line", "words"] = "line"
    highlight_color: str = "#FFD400"  # words: the colour a word takes once it is spoken

    _colors = field_validator("color", "outline_color", "highlight_color")(_color)

    @field_validator("font_family", mode="after")
    @classmethod
    def _family(cls, value: str | None) -> str | None:
        if value is None:
            return None
        family = value.strip()
        if not family or len(family) > FAMILY_MAX:
            raise ValueError(f"a font family is 1-{FAMILY_MAX} characters")
        if bad := ASS_FIELD_UNSAFE.search(family):
            raise ValueError(
                f"a font family cannot contain U+{ord(bad.group(0)):04X} "
                "(commas, braces, backslashes and control characters would break the subtitles)"
            )
        return family


class AvatarStyle(_Strict):
    mode: Literal["full", "pip"] = "full"
    corner: Corner = "bottom-right"
    size: float = Field(0.3, ge=0.1, le=0.6)  # picture-in-picture width / frame width
    margin: int = Field(40, ge=0, le=400)


class LogoStyle(_Strict):
    path: Path | None = None  # PNG, transparency kept
    corner: Corner = "top-right"
    scale: float = Field(0.1, gt=0, le=0.5)  # logo width / frame width
    opacity: float = Field(0.9, ge=0, le=1)
    margin: int = Field(40, ge=0, le=400)
    on_thumbnail: bool = True


class MusicStyle(_Strict):
    path: Path | None = None  # any audio FFmpeg reads; looped under the narration
    level_db: float = Field(-20.0, ge=-40, le=0)  # music loudness relative to the voice, LU
    fade: float = Field(2.0, ge=0, le=10)  # fade in/out seconds
    duck: bool = True  # lowered while the narration speaks
    duck_db: float = Field(12.0, ge=0, le=40)  # by this much
    duck_gap: float = Field(0.6, ge=0.1, le=5)  # s: pauses at least this long bring it back


class MediaSource(_Strict):
    """A creator's own pictures and clips (ytmaker.own_media makes and checks it)."""

    folder: str | None = None
    order: list[str] = []
    segments: dict[str, str] = {}


class VisualConfig(_Strict):
    subtitles: SubtitleStyle = SubtitleStyle()
    avatar: AvatarStyle = AvatarStyle()
    logo: LogoStyle = LogoStyle()
    music: MusicStyle = MusicStyle()
    media: MediaSource = MediaSource()
    motion: Motion = DEFAULT_MOTION
    crossfade: float = Field(DEFAULT_CROSSFADE, ge=0, le=2)  # seconds; 0 = hard cuts
    loudness: float = Field(-14.0, ge=-30, le=-6)  # integrated LUFS of the final mix
    true_peak: float = Field(-1.0, ge=-6, le=0)  # dBTP ceiling

    @field_validator("motion", mode="before")
    @classmethod
    def _motion_bool(cls, value: Any) -> Any:
        if value is True:
            return "pan"
        return "off" if value is False or value is None else value

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | None, base_dirs: Iterable[Path] = ()
    ) -> VisualConfig:
        """Validate `data`; resolve relative paths against `base_dirs` (first existing wins)."""
        try:
            config = cls.model_validate(dict(data or {}))
        except ValidationError as exc:
            raise ConfigError(
                f"visual_config 設定錯誤 (invalid visual_config): {_explain(exc)}",
                field=_first_field(exc),
            ) from None
        return config.resolved(list(base_dirs))

    def resolved(self, base_dirs: list[Path]) -> VisualConfig:
        """A copy whose file paths are absolute and exist, each file what its field says (a real
        image, audio with samples, a font: ytmaker.media.checks); ConfigError naming the field
        if not."""
        updates: dict[str, Any] = {}
        for section, name in PATH_FIELDS:
            part = getattr(self, section)
            value = getattr(part, name)
            if value is not None:
                found = _find(Path(value).expanduser(), base_dirs, f"{section}.{name}")
                updates[section] = part.model_copy(update={name: found})
        config = self.model_copy(update=updates)
        if config.subtitles.font_file is not None:
            checks.require_font(config.subtitles.font_file)
        if config.logo.path is not None:
            checks.require_image(config.logo.path)
        if config.music.path is not None:
            checks.require_audio(config.music.path)
        return config

    def stored(self) -> dict[str, Any]:
        """What a project keeps: the settings that differ from the defaults, paths absolute."""
        return self.model_dump(mode="json", exclude_defaults=True)


def _find(path: Path, base_dirs: list[Path], field: str) -> Path:
    candidates = [path] if path.is_absolute() else [Path(b) / path for b in base_dirs] or [path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise ConfigError(
        f"visual_config.{field}: 找不到檔案 (file not found: {tried})",
        field=f"visual_config.{field}",
        path=str(path),
    )


def _fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Names allowed at `loc` (the parent of an unknown key)."""
    for part in loc:
        info = model.model_fields.get(str(part))
        annotation = info.annotation if info else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        name = ".".join(str(p) for p in loc) or "(root)"
        if error["type"] == "extra_forbidden":
            allowed = _fields(VisualConfig, loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            tip = f"; did you mean '{hint[0]}'?" if hint else ""
            parts.append(f"unknown field '{name}' (allowed: {', '.join(allowed)}){tip}")
        elif error["type"] == "model_type":
            parts.append(f"'{name}' must be an object")
        else:
            parts.append(f"'{name}': {error['msg']}")
    return "; ".join(parts)


def _first_field(exc: ValidationError) -> str:
    errors = exc.errors()
    loc = errors[0]["loc"] if errors else ()
    return "visual_config" + "".join(f".{p}" for p in loc)


def ass_color(hex_color: str, alpha: int = 0) -> str:
    """'#RRGGBB' -> ASS '&HAABBGGRR' (alpha 0 = opaque)."""
    rgb = _color(hex_color)[1:]
    return f"&H{alpha:02X}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def rgb(hex_color: str) -> tuple[int, int, int]:
    digits = _color(hex_color)[1:]
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def corner_xy(
    corner: str, box: tuple[int, int], frame: tuple[int, int], margin: int
) -> tuple[int, int]:
    """Top-left position of a `box` placed in `corner` of `frame` with `margin`."""
    x = margin if corner.endswith("left") else frame[0] - box[0] - margin
    y = margin if corner.startswith("top") else frame[1] - box[1] - margin
    return max(x, 0), max(y, 0)
