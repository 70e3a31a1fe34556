"""An image's format and dimensions read from its first bytes, before any decoder sees it:
a 20000x20000 PNG is 29 bytes of header and 1.6 GB once decoded (Pillow raises its own
DecompressionBombError at open, past 179 M pixels; below that it decodes whatever it is given).
"""

from __future__ import annotations

import struct
from pathlib import Path

HEAD_BYTES = 64 * 1024  # a JPEG's frame header can follow large EXIF/ICC segments


def image_size(head: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of a PNG, JPEG or WebP from its first bytes; None if it is
    none of them or the header is cut short."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return "PNG", width, height
    if head.startswith(b"\xff\xd8"):
        return _jpeg(head)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _webp(head)
    return None


def file_image_size(path: Path) -> tuple[str, int, int] | None:
    with open(path, "rb") as handle:
        return image_size(handle.read(HEAD_BYTES))


# Start-of-frame markers (baseline, progressive, ...), not DHT (C4), JPG (C8) or DAC (CC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(head: bytes) -> tuple[str, int, int] | None:
    at = 2
    while at + 4 <= len(head):
        if head[at] != 0xFF:
            return None
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        (length,) = struct.unpack(">H", head[at + 2 : at + 4])
        if marker in _SOF:
            if at + 9 > len(head):
                return None
            height, width = struct.unpack(">HH", head[at + 5 : at + 9])
            return "JPEG", width, height
        if length < 2:
            return None
        at += 2 + length
    return None


def _webp(head: bytes) -> tuple[str, int, int] | None:
    kind = head[12:16]
    if kind == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return "WEBP", width, height
    if kind == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return "WEBP", width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return "WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
