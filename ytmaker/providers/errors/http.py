"""Failures of plain HTTP services (httpx, sockets): Stability AI and D-ID."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from typing import Any

from ytmaker.providers.errors import (
    PROVIDERS,
    ServiceError,
    as_json,
    chain,
    kind_for_status,
    message_for,
    parse_retry_after,
    short,
)


def parse_error_body(body: Any) -> tuple[str | None, str | None]:
    """(reason, message) from the error bodies of Stability, D-ID and Google APIs."""
    data = as_json(body)
    if not isinstance(data, dict):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else body
        return None, (str(text).strip() or None) if text else None
    if isinstance(data.get("error"), dict):  # Google style
        err = data["error"]
        reason = err.get("status")
        for item in err.get("errors") or []:
            reason = item.get("reason") or reason
        for item in err.get("details") or []:
            reason = item.get("reason") or reason
        return reason, err.get("message")
    if "name" in data and "errors" in data:  # Stability: {"id", "name", "errors": [...]}
        errors = data.get("errors") or []
        return data.get("name"), "; ".join(str(e) for e in errors) or None
    if "kind" in data or "description" in data:  # D-ID: {"kind", "description"}
        return data.get("kind"), data.get("description") or data.get("message")
    return data.get("reason") or data.get("code"), data.get("message") or data.get("detail")


def from_status(
    provider: str,
    status: int,
    body: Any = None,
    *,
    headers: Any = None,
    secrets: Iterable[str | None] = (),
    **details: Any,
) -> ServiceError:
    """Map an HTTP error status + body into a ServiceError."""
    reason, server_message = parse_error_body(body)
    retry_after = parse_retry_after(header(headers, "retry-after"))
    kind = kind_for_status(status)
    lowered = f"{reason or ''} {server_message or ''}".lower()
    if "moderation" in lowered or "content_filtered" in lowered:
        kind = "CONTENT_FILTERED"
    elif "quota" in (reason or "").lower():
        kind = "QUOTA_EXCEEDED"
    if provider == "stability" and kind == "RATE_LIMITED" and retry_after is None:
        retry_after = 60.0  # Stability times a client out for 60 s after >150 requests in 10 s
    return ServiceError(
        message_for(
            provider, kind, status=status, server_message=server_message, retry_after=retry_after
        ),
        provider=provider,
        kind=kind,
        status=status,
        reason=reason,
        retry_after=retry_after,
        secrets=secrets,
        **details,
    )


def from_httpx_response(
    provider: str, response: Any, *, secrets: Iterable[str | None] = (), **details: Any
) -> ServiceError:
    """An httpx (or httpx2) Response with an error status → ServiceError."""
    try:
        body = response.content
    except Exception:  # noqa: BLE001 - a streamed body that was not read
        body = b""
    return from_status(
        provider,
        response.status_code,
        body,
        headers=response.headers,
        secrets=secrets,
        **details,
    )


def header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    try:
        value = headers.get(name)
        if value is None:
            value = headers.get(name.title())
        return value
    except AttributeError:
        return None


def _transport_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(timeout classes, other transport classes) across httpx, httpx2 and httplib2."""
    timeouts: list[type] = [socket.timeout, TimeoutError]
    transport: list[type] = [ConnectionError, socket.gaierror]
    for module_name in ("httpx", "httpx2"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.extend([module.TransportError, module.StreamError])
    try:
        import httplib2

        transport.append(httplib2.HttpLib2Error)
    except ImportError:
        pass
    try:
        import http.client

        transport.append(http.client.HTTPException)
    except ImportError:
        pass
    return tuple(timeouts), tuple(transport)


_NETWORK_ERRNOS = {
    "ETIMEDOUT",
    "EPIPE",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "EADDRNOTAVAIL",
    "ENETDOWN",
}


def is_transport_error(exc: BaseException) -> bool:
    """A timeout or a network failure (not a local file error)."""
    timeouts, transport = _transport_classes()
    if isinstance(exc, timeouts + transport):
        return True
    import errno

    return isinstance(exc, OSError) and errno.errorcode.get(exc.errno or 0) in _NETWORK_ERRNOS


def from_transport_error(
    provider: str, exc: BaseException, *, secrets: Iterable[str | None] = (), **details: Any
) -> ServiceError:
    """A timeout or a refused/dropped connection → retryable ServiceError."""
    timeouts, _ = _transport_classes()
    kind = "TIMEOUT" if isinstance(exc, timeouts) else "CONNECTION_FAILED"
    reason = type(exc).__name__
    err = ServiceError(
        message_for(provider, kind) + f" ({reason}: {short(str(exc)) or 'no detail'})",
        provider=provider,
        kind=kind,
        reason=reason,
        secrets=secrets,
        **details,
    )
    return chain(err, exc, secrets)


def invalid_response(
    provider: str,
    what: str,
    *,
    secrets: Iterable[str | None] = (),
    retryable: bool = True,
    **details: Any,
) -> ServiceError:
    name = PROVIDERS.get(provider, (provider, ""))[0]
    return ServiceError(
        f"{name} sent an answer that could not be used: {what}",
        provider=provider,
        kind="INVALID_RESPONSE",
        reason="invalid_response",
        retryable=retryable,
        secrets=secrets,
        **details,
    )


def from_unusable_answer(
    provider: str, exc: BaseException, *, secrets: Iterable[str | None] = (), **details: Any
) -> ServiceError | None:
    """An answer a client library could not read (too large, not JSON, nested too deep, not
    the shape it expects) → `<PROVIDER>_INVALID_RESPONSE` naming what was wrong (retryable: a
    service answering garbage once may answer properly next time); None for other failures."""
    from pydantic import ValidationError

    from ytmaker.providers.bounded import AnswerTooLarge

    if isinstance(exc, AnswerTooLarge):
        what = str(exc)
    elif isinstance(exc, RecursionError):
        what = "the JSON nests too deeply to read"
    elif isinstance(exc, json.JSONDecodeError):
        what = f"it is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    elif isinstance(exc, ValidationError):
        what = f"it is not the JSON the client expects ({exc.error_count()} problems)"
    elif isinstance(exc, UnicodeDecodeError):
        what = "it is not text (undecodable bytes)"
    else:
        return None
    return chain(invalid_response(provider, what, secrets=secrets, **details), exc, secrets)
