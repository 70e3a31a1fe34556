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
import time
from collections.abc import Iterable
from typing import Any

from ytmaker.errors import ProviderError
from ytmaker.redaction import MIN_SECRET_LENGTH, redact, redact_value

# provider -> (display name, the setting that holds its credential)
PROVIDERS: dict[str, tuple[str, str]] = {
    "gemini": ("Gemini", "GEMINI_API_KEY"),
    "stability": ("Stability AI", "STABILITY_API_KEY"),
    "did": ("D-ID", "DID_API_KEY"),
    "pexels": ("Pexels", "PEXELS_API_KEY"),
    "youtube": ("YouTube", "the YouTube OAuth token (YOUTUBE_TOKEN_FILE)"),
    "openai": ("The OpenAI-compatible server", "OPENAI_API_KEY"),
    "openai_tts": ("The OpenAI-compatible speech server", "OPENAI_TTS_API_KEY (or OPENAI_API_KEY)"),
    "edge": ("Microsoft Edge's speech service", "EDGE_TTS_URL"),
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
MAX_SERVER_TEXT = 300


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
        clean = {k: redact_value(v, secrets) for k, v in details.items()}
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


def chain(
    error: ServiceError, cause: BaseException | None, secrets: Iterable[str | None] = ()
) -> ServiceError:
    """Attach `cause` unless its text would leak a secret into a logged traceback."""
    secrets = [s for s in secrets if s]
    text = f"{cause!s} {cause!r}" if cause is not None else ""
    leaks = any(s in text for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
    error.__cause__ = None if leaks else cause
    error.__suppress_context__ = True
    return error


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
    said = f" The service said: {short(server_message)}" if server_message else ""
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


def short(text: str | None) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= MAX_SERVER_TEXT else text[: MAX_SERVER_TEXT - 1] + "…"


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
    except (TypeError, ValueError):  # since Python 3.10 it raises instead of returning None
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


def as_json(data: Any) -> Any:
    if isinstance(data, bytes | bytearray):
        data = data.decode("utf-8", "replace")
    if isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            return None
    return data
