"""Failures of the `openai` SDK (any OpenAI-compatible server): status errors, timeouts, drops.

`provider` is `openai` for Chat Completions and `openai_tts` for speech, so the message names
the setting to check (OPENAI_API_KEY, OPENAI_MODEL...).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ytmaker.providers.errors import (
    ServiceError,
    as_json,
    chain,
    kind_for_status,
    message_for,
    parse_retry_after,
)
from ytmaker.providers.errors.http import from_transport_error, header, is_transport_error

CONTEXT_WORDS = ("context length", "context_length", "context window", "maximum context")


def error_body(exc: Any) -> dict[str, Any]:
    """The `error` object of an OpenAI-style error body ({"error": {"message", "type",
    "param", "code"}}); other servers' bodies as far as they fit."""
    body = getattr(exc, "body", None)
    if body is None:
        response = getattr(exc, "response", None)
        body = as_json(getattr(response, "content", None))
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    return body if isinstance(body, dict) else {}


def mentions(exc: Any, word: str) -> bool:
    """The server's answer names `word` (a 400 naming `response_format`)."""
    body = error_body(exc)
    text = " ".join(str(body.get(k) or "") for k in ("message", "param", "code", "type"))
    return word in f"{text} {getattr(exc, 'message', '')}".lower()


def _retry_after(headers: Any) -> float | None:
    """Retry-After, or OpenAI's own `retry-after-ms`."""
    seconds = parse_retry_after(header(headers, "retry-after"))
    if seconds is None:
        millis = parse_retry_after(header(headers, "retry-after-ms"))
        seconds = None if millis is None else round(millis / 1000, 3)
    return seconds


def from_status_error(
    exc: Any,
    *,
    provider: str = "openai",
    secrets: Iterable[str | None] = (),
    model: str | None = None,
    chars: int | None = None,
) -> ServiceError:
    """An `openai.APIStatusError` → ServiceError; a context-length 400 names the model and the
    text's size, a 404 the model setting."""
    status = int(getattr(exc, "status_code", 0) or 0)
    body = error_body(exc)
    server_message = str(body.get("message") or getattr(exc, "message", "") or "") or None
    reason = str(body.get("code") or body.get("type") or "") or None
    headers = getattr(getattr(exc, "response", None), "headers", None)
    retry_after = _retry_after(headers)
    kind = kind_for_status(status)
    setting = "OPENAI_TTS_MODEL" if provider == "openai_tts" else "OPENAI_MODEL"
    lowered = f"{reason or ''} {server_message or ''}".lower()
    if status == 400 and any(word in lowered for word in CONTEXT_WORDS):
        kind = "CONTEXT_TOO_LONG"
        message = (
            f"The model {setting}={model} cannot take this request: the prompt with the "
            f"content ({chars or 0:,} characters) is longer than its context. Shorten the "
            f"content or choose a model with a longer context in {setting}."
        )
    else:
        message = message_for(
            provider, kind, status=status, server_message=server_message, retry_after=retry_after
        )
        if kind == "NOT_FOUND":
            message += f" ({setting}={model})"
    if kind == "QUOTA_EXCEEDED" or "insufficient_quota" in lowered:
        kind = "QUOTA_EXCEEDED"  # 429 with no credit left: waiting does not help
    error = ServiceError(
        message,
        provider=provider,
        kind=kind,
        status=status or None,
        reason=reason,
        retry_after=retry_after,
        secrets=secrets,
        model=model,
    )
    return chain(error, exc, secrets)


def from_openai_exception(
    exc: BaseException,
    *,
    provider: str = "openai",
    secrets: Iterable[str | None] = (),
    model: str | None = None,
    chars: int | None = None,
) -> ServiceError | None:
    """Anything the SDK raised while calling the server → ServiceError, or None if unknown."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        return from_status_error(exc, provider=provider, secrets=secrets, model=model, chars=chars)
    if isinstance(exc, openai.APIConnectionError):  # and APITimeoutError: httpx's error inside
        cause = exc.__cause__ or exc
        if cause is exc and isinstance(exc, openai.APITimeoutError):
            cause = TimeoutError("the request timed out")
        return from_transport_error(provider, cause, secrets=secrets)
    if is_transport_error(exc):
        return from_transport_error(provider, exc, secrets=secrets)
    return None
