"""Who made the stock footage a video shows: read from the credit file beside each segment's
picture (`images/segment_NNN.credit.json`, written by the pexels provider), for the summary
and the published description (`YTMAKER_CREDITS=description|none`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CREDIT_SUFFIX = ".credit.json"


def segment_credits(images: dict[int, Path]) -> list[dict[str, Any]]:
    """Per segment that has a credit file: its index and what the file says, in order."""
    found = []
    for index, picture in sorted(images.items()):
        try:
            data = json.loads(Path(picture).with_suffix(CREDIT_SUFFIX).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found.append({"segment_index": index, **data})
    return found


def footage_keys(folders: Iterable[Path]) -> set[str]:
    """The stock clips and photos (`videos-ID`, `photos-ID`) that the credit files in these
    image folders name (fallback drawings excluded)."""
    keys = set()
    for folder in folders:
        for credit in Path(folder).glob(f"*{CREDIT_SUFFIX}"):
            try:
                data = json.loads(credit.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("provider") == "pexels" and "id" in data:
                keys.add(f"{data.get('kind')}s-{data['id']}")
    return keys


def footage_credits(credits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each stock clip or photo once: author, page, and the segments that show it."""
    seen: dict[tuple[str, Any], dict[str, Any]] = {}
    for item in credits:
        if item.get("fallback") or item.get("provider") != "pexels":
            continue
        key = (str(item.get("kind")), item.get("id"))
        entry = seen.setdefault(
            key,
            {
                "provider": "pexels",
                "kind": item.get("kind"),
                "author": item.get("author"),
                "author_url": item.get("author_url"),
                "url": item.get("url"),
                "segments": [],
            },
        )
        entry["segments"].append(item["segment_index"])
    return list(seen.values())


def fallbacks(credits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Segments whose search found nothing: which provider made their picture instead."""
    return [
        dict(segment_index=c["segment_index"], provider=c.get("provider"), terms=c.get("terms"))
        for c in credits
        if c.get("fallback")
    ]


def description_block(footage: list[dict[str, Any]]) -> str:
    """The lines appended to the description: one per clip or photo, author and page."""
    if not footage:
        return ""
    lines = [f"- {item['author'] or 'Unknown'}: {item['url']}" for item in footage]
    return "Stock footage from Pexels (https://www.pexels.com):\n" + "\n".join(lines)
