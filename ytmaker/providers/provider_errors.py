"""One typed error for every real service, and the helpers that map each client's failures into it.

`ServiceError.code` is `<PROVIDER>_<KIND>` (e.g. GEMINI_RATE_LIMITED, YOUTUBE_QUOTA_EXCEEDED).
`retryable` says whether trying the same call again later may help (Prefect task retries do
that; providers never loop themselves). Details always hold `provider`, `status`, `reason` and
`retry_after` (seconds or None). No API key ever reaches a message or a detail: every text
coming from a server or a client library goes through `redact`.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import time
from collections.abc import Iterable
from typing import Any

from ytmaker.errors import ProviderError

# provider -> (display name, the setting that holds its credential)
PROVIDERS: dict[str, tuple[str, str]] = {
    "gemini": ("Gemini", "GEMINI_API_KEY"),
    "stability": ("Stability AI", "STABILITY_API_KEY"),
    "did": ("D-ID", "DID_API_KEY"),
    "youtube": ("YouTube", "the YouTube OAuth token (YOUTUBE_TOKEN_FILE)"),
}

# Kinds whose failure a later attempt may cure.
RETRYABLE_KINDS = {
    "RATE_LIMITED",
    "UNAVAILABLE",
    "SERVER_ERROR",
    "TIMEOUT",
    "CONNECTION_FAILED",
    "INVALID_RESPONSE",
}
_MAX_SERVER_TEXT = 300
_SECRET_PARAM = re.compile(
    r"(?i)((?:api[_-]?key|key|access_token|refresh_token|client_secret|token)=)[^&\s\"']+"
)
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=:-]{8,}")


class ServiceError(ProviderError):
    """A real service (or the way to it) failed; `to_info()` is safe to store and show."""

    code = "SERVICE_ERROR"

    def __init__(
        self,
        message: str,
        *,
        provider: str = "unknown",
        kind: str | None = None,
        code: str | None = None,
        status: int | None = None,
        reason: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        secrets: Iterable[str | None] = (),
        **details: Any,
    ) -> None:
        secrets = [s for s in secrets if s]
        if code is None:
            code = f"{provider.upper()}_{kind or 'ERROR'}"
        if retryable is None:
            retryable = (kind or "") in RETRYABLE_KINDS
        clean = {k: _redact_value(v, secrets) for k, v in details.items()}
        super().__init__(
            redact(message, secrets),
            code=code,
            retryable=retryable,
            provider=provider,
            status=status,
            reason=redact(reason, secrets) if reason else reason,
            retry_after=retry_after,
            **clean,
        )

    def __reduce__(self):
        # Prefect pickles failed results: rebuild from the stored state, not from __init__.
        return (_rebuild, (type(self), self.message), self.__dict__)

    @property
    def provider(self) -> str:
        return self.details["provider"]

    @property
    def status(self) -> int | None:
        return self.details.get("status")

    @property
    def reason(self) -> str | None:
        return self.details.get("reason")

    @property
    def retry_after(self) -> float | None:
        return self.details.get("retry_after")


def _rebuild(cls: type[ServiceError], message: str) -> ServiceError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error


def redact(text: str | None, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every secret (and anything shaped like a key parameter or auth header) masked."""
    if text is None:
        return ""
    out = str(text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= 4:
            out = out.replace(secret, "***")
    out = _SECRET_PARAM.sub(r"\1***", out)
    return _AUTH_HEADER.sub(lambda m: f"{m.group(1)} ***", out)


def _redact_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: _redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v, secrets) for v in value]
    return value


def chain(error: ServiceError, cause: BaseException | None, secrets: Iterable[str | None] = ()):
    """Attach `cause` unless its text would leak a secret into a logged traceback."""
    secrets = [s for s in secrets if s]
    text = f"{cause!s} {cause!r}" if cause is not None else ""
    leaks = any(s in text for s in secrets if len(s) >= 4)
    error.__cause__ = None if leaks else cause
    error.__suppress_context__ = True
    return error


# ---------------------------------------------------------------- classification and messages


def kind_for_status(status: int) -> str:
    if status == 400:
        return "BAD_REQUEST"
    if status == 401:
        return "INVALID_KEY"
    if status == 402:
        return "NO_CREDITS"
    if status == 403:
        return "FORBIDDEN"
    if status == 404:
        return "NOT_FOUND"
    if status in (408, 504):
        return "TIMEOUT"
    if status == 413:
        return "PAYLOAD_TOO_LARGE"
    if status == 422:
        return "UNPROCESSABLE"
    if status == 429:
        return "RATE_LIMITED"
    if status == 451:
        return "REJECTED"
    if status in (502, 503):
        return "UNAVAILABLE"
    if status >= 500:
        return "SERVER_ERROR"
    return "BAD_REQUEST" if 400 <= status < 500 else "ERROR"


def message_for(
    provider: str,
    kind: str,
    *,
    status: int | None = None,
    server_message: str | None = None,
    retry_after: float | None = None,
) -> str:
    """A sentence for the user: what went wrong at which service and what to do about it."""
    name, setting = PROVIDERS.get(provider, (provider, f"{provider.upper()}_API_KEY"))
    said = f" The service said: {_short(server_message)}" if server_message else ""
    code = f" ({status})" if status else ""
    wait = f" Retry after about {retry_after:g} s." if retry_after else ""
    texts = {
        "INVALID_KEY": f"{name} rejected the credentials{code}: check {setting}.",
        "FORBIDDEN": f"{name} refused access{code}: check that {setting} is valid and allowed "
        "to use this API and model.",
        "NO_CREDITS": f"{name} has no credits left{code}: top up the account behind {setting}.",
        "RATE_LIMITED": f"{name} is rate limiting requests{code}.{wait}",
        "QUOTA_EXCEEDED": f"{name} quota is exhausted{code}: wait until it resets or ask for "
        "more quota.",
        "CONTENT_FILTERED": f"{name} refused the content for moderation reasons{code}: reword "
        "the text or description and run again.",
        "REJECTED": f"{name} rejected the request{code}: change the input and run again.",
        "UNAVAILABLE": f"{name} is temporarily unavailable{code}.",
        "SERVER_ERROR": f"{name} had a server error{code}.",
        "TIMEOUT": f"{name} did not answer in time{code}: raise YTMAKER_TIMEOUT_REQUEST if "
        "it needs longer.",
        "CONNECTION_FAILED": f"Could not reach {name} (the connection failed or dropped): "
        "check the network.",
        "NOT_FOUND": f"{name} does not know the requested resource or model{code}: check the "
        "configured model or id.",
        "PAYLOAD_TOO_LARGE": f"{name} refused the request as too large{code}: shorten the input.",
        "UNPROCESSABLE": f"{name} could not process the request{code}: change the input.",
        "BAD_REQUEST": f"{name} rejected the request as invalid{code}.",
        "INVALID_RESPONSE": f"{name} sent an answer that could not be used{code}.",
    }
    return texts.get(kind, f"{name} failed{code}.") + said


def _short(text: str | None) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= _MAX_SERVER_TEXT else text[: _MAX_SERVER_TEXT - 1] + "…"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, round(when.timestamp() - time.time(), 1))


def parse_duration(value: Any) -> float | None:
    """Seconds from a protobuf Duration in JSON ("17s", "1.5s") or a number."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s?\s*", str(value))
    return float(match.group(1)) if match else None


def _json(data: Any) -> Any:
    if isinstance(data, bytes | bytearray):
        data = data.decode("utf-8", "replace")
    if isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            return None
    return data


# ---------------------------------------------------------------- plain HTTP (httpx) services


def parse_error_body(body: Any) -> tuple[str | None, str | None]:
    """(reason, message) from the error bodies of Stability, D-ID and Google APIs."""
    data = _json(body)
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
    retry_after = parse_retry_after(_header(headers, "retry-after"))
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


def _header(headers: Any, name: str) -> str | None:
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
        message_for(provider, kind) + f" ({reason}: {_short(str(exc)) or 'no detail'})",
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


# ---------------------------------------------------------------- google-genai


def from_genai_error(exc: Any, *, secrets: Iterable[str | None] = (), **details: Any):
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
        retry_after = parse_retry_after(_header(getattr(response, "headers", None), "retry-after"))
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


def from_genai_exception(exc: BaseException, *, secrets: Iterable[str | None] = (), **details):
    """Anything google-genai raised while calling the API → ServiceError, or None if unknown."""
    from google.genai import errors as genai_errors

    if isinstance(exc, genai_errors.APIError):
        return from_genai_error(exc, secrets=secrets, **details)
    if is_transport_error(exc):
        return from_transport_error("gemini", exc, secrets=secrets, **details)
    return None


# ---------------------------------------------------------------- google-api-python-client


def from_http_error(
    exc: Any, *, provider: str = "youtube", secrets: Iterable[str | None] = (), **details: Any
) -> ServiceError:
    """A googleapiclient `HttpError` (incl. ResumableUploadError) → ServiceError."""
    resp = getattr(exc, "resp", None)
    status = int(getattr(resp, "status", 0) or getattr(exc, "status_code", 0) or 0)
    data = _json(getattr(exc, "content", b""))
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
    retry_after = parse_retry_after(_header(resp, "retry-after"))
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
    return f" The service said: {_short(text)}" if text else ""
