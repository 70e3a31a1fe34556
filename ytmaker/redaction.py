"""Secrets never reach a log line: every record is scrubbed of the known secret values when it
is created, whatever logger or handler (ours, Prefect's, a library's) it goes to."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Iterable
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register(values: Iterable[str | None]) -> None:
    """Remember secret values to scrub from every log record from now on."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)
    _install()


def scrub(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            if _secrets:
                _scrub_record(record)
            return record

        logging.setLogRecordFactory(scrubbed_record)
        _installed = True


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is logging's to report, not ours
        return
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = scrub(text)


_SECRET_PARAM = re.compile(
    r"(?i)((?:api[_-]?key|key|access_token|refresh_token|client_secret|token)=)[^&\s\"']+"
)
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=:-]{8,}")


def redact(text: str | None, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every secret (and anything shaped like a key parameter or auth header) masked."""
    if text is None:
        return ""
    out = str(text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH:
            out = out.replace(secret, MASK)
    out = _SECRET_PARAM.sub(r"\1***", out)
    return _AUTH_HEADER.sub(lambda m: f"{m.group(1)} ***", out)


def redact_value(value: Any, secrets: Collection[str | None]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, secrets) for v in value]
    return value
