"""Failures of google-api-python-client (YouTube): HttpError with its reasons."""

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
    short,
)
from ytmaker.providers.errors.http import header


def from_http_error(
    exc: Any, *, provider: str = "youtube", secrets: Iterable[str | None] = (), **details: Any
) -> ServiceError:
    """A googleapiclient `HttpError` (incl. ResumableUploadError) → ServiceError."""
    resp = getattr(exc, "resp", None)
    status = int(getattr(resp, "status", 0) or getattr(exc, "status_code", 0) or 0)
    data = as_json(getattr(exc, "content", b""))
    err = data.get("error") if isinstance(data, dict) else None
    reason = domain = None
    server_message = None
    if isinstance(err, dict):
        server_message = err.get("message")
        for item in err.get("errors") or []:
            reason = reason or item.get("reason")
            domain = domain or item.get("domain")
        reason = reason or err.get("status")
    elif isinstance(err, str):  # OAuth-style {"error": "invalid_grant", ...}
        reason, server_message = err, data.get("error_description")
    if server_message is None:
        server_message = getattr(exc, "reason", None)
    retry_after = parse_retry_after(header(resp, "retry-after"))
    kind = kind_for_status(status) if status else "ERROR"
    if reason in ("rateLimitExceeded", "userRateLimitExceeded"):
        kind = "RATE_LIMITED"
    elif reason in ("quotaExceeded", "dailyLimitExceeded") or domain == "youtube.quota":
        kind = "QUOTA_EXCEEDED"
    elif reason == "uploadLimitExceeded":
        kind = "UPLOAD_LIMIT"
    elif reason in ("authError", "invalidCredentials") or status == 401:
        kind = "INVALID_KEY"
    if kind == "UPLOAD_LIMIT":
        message = (
            "YouTube refused the upload: the channel reached its daily upload limit "
            f"(400 uploadLimitExceeded). Try again tomorrow.{_said(server_message)}"
        )
    elif kind == "INVALID_KEY" and provider == "youtube":
        message = (
            f"YouTube rejected the credentials ({status}): the stored token is invalid or was "
            "revoked; run the YouTube OAuth flow again to refresh YOUTUBE_TOKEN_FILE."
            f"{_said(server_message)}"
        )
    elif kind == "QUOTA_EXCEEDED" and provider == "youtube":
        message = (
            f"YouTube API quota is exhausted ({status} {reason}): uploads resume after the daily "
            "reset at midnight Pacific Time, or ask Google for more quota."
        )
    else:
        message = message_for(
            provider, kind, status=status, server_message=server_message, retry_after=retry_after
        )
    error = ServiceError(
        message,
        provider=provider,
        kind=kind,
        status=status or None,
        reason=reason,
        retry_after=retry_after,
        secrets=secrets,
        domain=domain,
        **details,
    )
    return chain(error, exc, secrets)


def _said(text: str | None) -> str:
    return f" The service said: {short(text)}" if text else ""
