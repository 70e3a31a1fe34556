"""Text we did not write (names, titles, error messages, paths, Redis values), made safe to show.

Rich reads `[...]` in a string as markup: a name like `x [/b]` crashes a table, and
`[link=file:///...]` becomes a live link. Terminals act on control characters: `ESC ] 0 ; ...`
retitles the window, `ESC [ 2 J` clears the screen, bidi overrides hide or reorder text. So
every user- or LLM-supplied string the CLI prints goes through `literal` (a Rich Text, never
parsed as markup) or `markup_safe` (for f-strings that also carry our own styles), both of
which drop control characters first.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from rich.markup import escape
from rich.text import Text

# Bidi embeddings, overrides and isolates ("Trojan Source"), and the Unicode line/paragraph
# separators some terminals treat as newlines.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_SEPARATORS = frozenset("\u2028\u2029")
# What JSON keeps raw with ensure_ascii=False yet a terminal may act on: C1 controls, the
# separators and bidi controls. Written as \\uXXXX, the JSON stays the same data.
_JSON_UNSAFE = re.compile("[\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def unsafe_for_terminal(char: str, *, multiline: bool = False) -> bool:
    """A control character (C0, DEL, C1), a bidi control or a line separator."""
    if char == "\n":
        return not multiline
    return unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS or char in LINE_SEPARATORS


def clean(value: Any, *, multiline: bool = False) -> str:
    """`str(value)` without what a terminal would act on; tabs become spaces."""
    text = str(value).replace("\t", " ")
    if multiline:
        text = text.replace("\r\n", "\n")
    return "".join(
        " " if char in LINE_SEPARATORS else char
        for char in text
        if char in LINE_SEPARATORS or not unsafe_for_terminal(char, multiline=multiline)
    )


def literal(value: Any, *, multiline: bool = False, style: str = "") -> Text:
    """A Rich Text showing `value` as it is: never markup, never a control sequence."""
    return Text(clean(value, multiline=multiline), style=style)


def markup_safe(value: Any, *, multiline: bool = False) -> str:
    """`value` escaped for a Rich markup string (our own `[red]...[/]` around it)."""
    return escape(clean(value, multiline=multiline))


def json_line(data: Any) -> str:
    """One JSON line (UTF-8 kept readable) with nothing a terminal would act on left raw."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
