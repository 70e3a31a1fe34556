"""Subtitle cues: split narration into timed cues and write them as ASS (burned in) or SRT."""

from __future__ import annotations

import functools
import math
import re
import struct
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ytmaker.media.fonts import FONT_FAMILY, font_path

CJK_LINE = 18
LATIN_LINE = 42
MAX_LINES = 2
SENTENCE_END = set("。！？!?；;…")
CLAUSE_END = set("，、：,:）)」』】》")
NO_LINE_START = set("，。、！？；：,.!?;:）)」』】》…")
WORD_JOINER = "\u2060"
# control characters that are not whitespace: nothing to show, and FFmpeg's ASS reader ends
# a Dialogue line at a NUL, dropping the rest of the cue
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


@dataclass
class Cue:
    """`text` holds at most two lines separated by "\\n" (breaks we inserted)."""

    start: float
    end: float
    text: str


def is_cjk(language: str) -> bool:
    return language.lower().startswith(("zh", "ja", "ko"))


def line_width(language: str, max_chars: int | None = None) -> int:
    """Characters per subtitle line: `max_chars` if given, else the language's default."""
    return max_chars or (CJK_LINE if is_cjk(language) else LATIN_LINE)


def split_cues(
    text: str, start: float, end: float, language: str, max_chars: int | None = None
) -> list[Cue]:
    """Cues of at most two lines covering [start, end], timed in proportion to their length."""
    if not math.isfinite(end - start):  # NaN, infinity, or a span too wide for a float
        raise ValueError(f"cue times must be finite seconds (start {start}, end {end})")
    if end < start:
        raise ValueError(f"cue end {end} is before start {start}")
    flat = _flat(text)
    if not flat or end == start:
        return []
    lines = wrap_lines(flat, line_width(language, max_chars), is_cjk(language))
    chunks = ["\n".join(lines[i : i + MAX_LINES]) for i in range(0, len(lines), MAX_LINES)]
    return _timed(chunks, start, end)


def _flat(text: str) -> str:
    """One line of what can be shown: control characters dropped, whitespace runs one space."""
    return " ".join(CONTROL.sub("", text).split())


def wrap_lines(text: str, width: int, cjk: bool) -> list[str]:
    """Latin: greedy word wrap. CJK: whole clauses packed per line, long clauses split evenly."""
    if not cjk:
        # textwrap keeps the space before a long word it breaks ('00 0000' at 3: '00 ').
        wrapped = textwrap.wrap(text, width=width, break_on_hyphens=False)
        return [line.strip() for line in wrapped if line.strip()] or [text]
    lines: list[str] = []
    for clause in _clauses(text):
        for part in _even_parts(clause, width):
            if lines and len((lines[-1] + part).strip()) <= width:
                lines[-1] += part
            elif part.strip():
                lines.append(part.lstrip())
    return [line.strip() for line in lines]


def _clauses(text: str) -> list[str]:
    """Pieces that end just after punctuation (closing brackets stay with their clause)."""
    pieces, current = [], ""
    for i, char in enumerate(text):
        current += char
        after = text[i + 1] if i + 1 < len(text) else ""
        if (char in SENTENCE_END or char in CLAUSE_END) and after not in NO_LINE_START:
            pieces.append(current)
            current = ""
    return [*pieces, current] if current else pieces


def _even_parts(clause: str, width: int) -> list[str]:
    """Split a clause into the fewest lines of near-equal length, not inside a Latin word."""
    rest = clause.lstrip()
    parts, lead = [], clause[: len(clause) - len(rest)]  # keep the space before the clause
    while len(rest.rstrip()) > width:
        count = -(-len(rest.rstrip()) // width)
        cut = _hard_cut(rest, -(-len(rest.rstrip()) // count))
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip()
    parts = [*parts, rest]
    return [lead + parts[0], *parts[1:]]


def _hard_cut(text: str, width: int) -> int:
    """Cut at `width`, but not inside a Latin word or number, nor before closing punctuation."""
    cut = width
    while cut > width // 2 and (
        (_latin(text[cut - 1]) and _latin(text[cut])) or text[cut] in NO_LINE_START
    ):
        cut -= 1
    return cut if cut > width // 2 else width


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _timed(chunks: list[str], start: float, end: float) -> list[Cue]:
    weights = [max(len(chunk.replace(" ", "").replace("\n", "")), 1) for chunk in chunks]
    total, span = sum(weights), end - start
    bounds, acc = [start], 0
    for weight in weights:
        acc += weight
        bounds.append(start + span * acc / total)
    bounds[-1] = end
    return [Cue(bounds[i], bounds[i + 1], chunk) for i, chunk in enumerate(chunks)]


def ass_escape(text: str) -> str:
    """Make libass show the text literally: no override blocks, no \\N / \\h escapes."""
    text = text.replace("\\", "\\" + WORD_JOINER)
    text = text.replace("{", "\\{").replace("}", "\\}")
    lines = (_flat(line) for line in text.split("\n"))
    return "\\N".join(line for line in lines if line)


def _ass_time(seconds: float) -> str:
    cs = round(max(seconds, 0.0) * 100)
    hours, rest = divmod(cs, 360000)
    minutes, rest = divmod(rest, 6000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


# What would end a field of an ASS style line early or start a line of its own.
ASS_FIELD_UNSAFE = re.compile(r"[,{}\\\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class AssStyle:
    """The one ASS style we use; colours are ASS '&HAABBGGRR'."""

    font_family: str | None = None  # default: the bundled font's own family name
    font_size: int = 54
    primary: str = "&H00FFFFFF"
    secondary: str = "&H000000FF"  # karaoke: the colour before a syllable's time
    outline_colour: str = "&H00000000"
    back_colour: str = "&H80000000"
    outline: float = 3.0
    shadow: float = 1.5
    alignment: int = 2  # numpad layout: 2 bottom centre, 8 top centre
    margin_l: int = 60
    margin_r: int = 60
    margin_v: int = 60


def to_ass(
    cues: list[Cue], width: int = 1920, height: int = 1080, style: AssStyle | None = None
) -> str:
    """An ASS script with one centred style (bottom or top by `style.alignment`)."""
    events = [
        f"Dialogue: 0,{_ass_time(c.start)},{_ass_time(c.end)},Default,,0,0,0,,{ass_escape(c.text)}"
        for c in cues
    ]
    return ass_script(events, width, height, style)


def ass_script(
    events: list[str], width: int = 1920, height: int = 1080, style: AssStyle | None = None
) -> str:
    """The header with our one style, then the `Dialogue:` lines given."""
    style = style or AssStyle()
    family = ass_field(style.font_family or ass_font_family())
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Default,{family},{style.font_size},{style.primary},{style.secondary},"
        f"{style.outline_colour},{style.back_colour},0,0,0,0,100,100,0,0,1,"
        f"{style.outline:g},{style.shadow:g},{style.alignment},"
        f"{style.margin_l},{style.margin_r},{style.margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    return "\n".join(header + events) + "\n"


def ass_field(value: str) -> str:
    """A value for a comma-separated ASS style line: a font's own name table can hold commas
    or line breaks too, which would end the field or add lines."""
    return ASS_FIELD_UNSAFE.sub(" ", value).strip() or "sans-serif"


def _srt_time(seconds: float) -> str:
    ms = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(ms, 3600000)
    minutes, rest = divmod(rest, 60000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d},{rest % 1000:03d}"


def to_srt(cues: list[Cue]) -> str:
    """SubRip text with the cue text as typed (plus our line breaks)."""
    blocks = []
    for number, cue in enumerate(cues, start=1):
        lines = [_flat(line) for line in cue.text.split("\n")]
        body = "\n".join(line for line in lines if line)
        blocks.append(f"{number}\n{_srt_time(cue.start)} --> {_srt_time(cue.end)}\n{body}\n")
    return "\n".join(blocks)


def ass_font_family(path: Path | None = None) -> str:
    """The family name libass matches: the font's name ID 1, which for Noto CJK is
    "Noto Sans CJK TC Regular" (libass ignores the typographic family FONT_FAMILY)."""
    return _sfnt_family(str(path or font_path()))


@functools.lru_cache(maxsize=8)
def _sfnt_family(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return _name_id1(handle) or FONT_FAMILY
    except (OSError, struct.error, UnicodeDecodeError):
        return FONT_FAMILY


def _read(handle: BinaryIO, offset: int, size: int) -> bytes:
    handle.seek(offset)
    return handle.read(size)


def _name_id1(handle: BinaryIO) -> str | None:
    head = _read(handle, 0, 16)
    base = struct.unpack(">I", head[12:16])[0] if head[:4] == b"ttcf" else 0
    num_tables = struct.unpack(">H", _read(handle, base + 4, 2))[0]
    directory = _read(handle, base + 12, 16 * num_tables)
    for i in range(num_tables):
        entry = directory[16 * i : 16 * i + 16]
        if entry[:4] == b"name":
            offset, length = struct.unpack(">II", entry[8:16])
            return _family_from_name_table(_read(handle, offset, length))
    return None


def _family_from_name_table(table: bytes) -> str | None:
    count, strings = struct.unpack(">HH", table[2:6])
    found = None
    for i in range(count):
        platform, _enc, lang, name_id, length, start = struct.unpack(
            ">6H", table[6 + 12 * i : 18 + 12 * i]
        )
        if platform == 3 and name_id == 1:
            found = table[strings + start : strings + start + length].decode("utf-16-be")
            if lang == 0x409:
                return found
    return found
