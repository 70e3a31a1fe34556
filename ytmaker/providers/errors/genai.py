"""Failures of google-genai (Gemini): ClientError/ServerError and what else the client raises."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ytmaker.providers.errors import (
    ServiceError,
    chain,
    kind_for_status,
    message_for,
    parse_duration,
    parse_retry_after,
)
from ytmaker.providers.errors.http import (
    from_transport_error,
    from_unusable_answer,
    header,
    is_transport_error,
)


def from_genai_error(
    exc: Any, *, secrets: Iterable[str | None] = (), **details: Any
) -> ServiceError:
    """A `google.genai.errors.APIError` → ServiceError (provider gemini)."""
    status = int(getattr(exc, "code", 0) or 0)
    body = getattr(exc, "details", None)
    err = body.get("error", body) if isinstance(body, dict) else {}
    if not isinstance(err, dict):
        err = {}
    api_status = getattr(exc, "status", None) or err.get("status")
    server_message = getattr(exc, "message", None) or err.get("message")
    reasons: list[str] = []
    retry_after: float | None = None
    for item in err.get("details") or []:
        if not isinstance(item, dict):
            continue
        if item.get("reason"):
            reasons.append(str(item["reason"]))
        if str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            retry_after = parse_duration(item.get("retryDelay"))
    response = getattr(exc, "response", None)
    if retry_after is None and response is not None:
        retry_after = parse_retry_after(header(getattr(response, "headers", None), "retry-after"))
    reason = reasons[0] if reasons else api_status
    kind = kind_for_status(status) if status else "ERROR"
    if "API_KEY_INVALID" in reasons or (
        status == 400 and "api key" in (server_message or "").lower()
    ):
        kind = "INVALID_KEY"
    elif status == 403 and "API_KEY_SERVICE_BLOCKED" in reasons:
        kind = "FORBIDDEN"
    elif status == 429 and api_status == "RESOURCE_EXHAUSTED":
        kind = "RATE_LIMITED"
    error = ServiceError(
        message_for(
            "gemini", kind, status=status, server_message=server_message, retry_after=retry_after
        ),
        provider="gemini",
        kind=kind,
        status=status or None,
        reason=reason,
        retry_after=retry_after,
        secrets=secrets,
        api_status=api_status,
        **details,
    )
    return chain(error, exc, secrets)


def from_genai_exception(
    exc: BaseException, *, secrets: Iterable[str | None] = (), **details: Any
) -> ServiceError | None:
    """Anything google-genai raised while calling the API → ServiceError, or None if unknown."""
    from google.genai import errors as genai_errors

    if isinstance(exc, genai_errors.APIError):
        return from_genai_error(exc, secrets=secrets, **details)
    if is_transport_error(exc):
        return from_transport_error("gemini", exc, secrets=secrets, **details)
    return from_unusable_answer("gemini", exc, secrets=secrets, **details)
