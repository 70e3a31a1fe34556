"""Text we did not write (names, titles, descriptions, error messages, paths, a service's
answers), made inert for the Markdown and HTML of Prefect's artifacts and form descriptions.

Whoever names a project `![x](http://host/pixel.png) <img src=x onerror=...>` must see exactly
that, never a remote image, a link or a tag in every viewer's browser.
"""

from __future__ import annotations

import re
from typing import Any

# ASCII punctuation Markdown or an autolinker can read (CommonMark lets any ASCII punctuation be
# escaped with a backslash); `&`, `<` and `>` become entities so that no HTML survives either.
_ESCAPED = frozenset("\\`*_{}[]()#+-.!|~:@")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SAFE_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~/?=&%-]*)?")


def one_line(value: Any) -> str:
    """Line breaks (and other runs of blank space) as one space: a table cell, a list item."""
    return " ".join(str(value).split())


def text(value: Any) -> str:
    """`value` shown literally in Markdown: no emphasis, link, image, autolink or HTML tag."""
    out = []
    for char in one_line(value):
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _ESCAPED:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def code(value: Any, *, table: bool = False) -> str:
    """`value` as an inline code span (a path, a setting): fenced with more backticks than it
    holds; in a `table` cell its pipes escaped (GFM splits cells on them even inside code)."""
    shown = one_line(value)
    if table:
        shown = shown.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or longest else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def link(url: Any) -> str:
    """(For a table cell.) A link only for a plain https address; anything else (a service's
    answer we did not check: `javascript:`, spaces, brackets) is shown as code."""
    shown = str(url)
    if _SAFE_URL.fullmatch(shown):
        return f"[{shown}]({shown})"
    return code(shown, table=True)


def fenced(value: str) -> str:
    """Text for inside a ``` block: no line of it can close the block."""
    return value.replace("```", "'''").replace("~~~", "'''")
