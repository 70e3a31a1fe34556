"""The official `openai` SDK, set up once for any OpenAI-compatible server (scripts and speech).

`max_retries=0`: the SDK would otherwise retry 429, 5xx and dropped connections twice on its
own, under our retries (each Prefect task retry would then be three calls, with waits nobody
sees). Our task retries do it instead, honouring Retry-After, announced in the progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ytmaker.deadline import cap
from ytmaker.providers import bounded
from ytmaker.providers.bounded import MB
from ytmaker.providers.errors.http import from_unusable_answer
from ytmaker.providers.errors.openai_sdk import from_openai_exception, mentions

MAX_ANSWER_BYTES = 32 * MB  # a script is a few kB; speech ~1 MB a minute of MP3
NO_KEY = "no-key"  # local servers (Ollama, LM Studio, vLLM) take any key; the SDK needs one
SDK_RETRIES = 0


def client(api_key: str | None, base_url: str | None, timeout: float) -> Any:
    import openai

    return openai.OpenAI(
        api_key=api_key or NO_KEY,
        base_url=base_url or None,
        max_retries=SDK_RETRIES,
        timeout=cap(timeout),
        http_client=bounded.client2(MAX_ANSWER_BYTES),
    )


class FormatRefused(Exception):
    """The server answered 400 naming `response_format`: it cannot give that output mode."""


def call(
    fn: Callable[..., Any],
    *,
    provider: str,
    secrets: list[str | None],
    model: str,
    chars: int | None = None,
    **kwargs: Any,
) -> Any:
    """Run one SDK call; its failures become ServiceError (never a retry loop here)."""
    import openai

    try:
        return fn(model=model, **kwargs)
    except openai.BadRequestError as exc:
        if "response_format" in kwargs and mentions(exc, "response_format"):
            raise FormatRefused() from None
        raise _mapped(exc, provider, secrets, model, chars) from None
    except Exception as exc:
        mapped = _unusable(exc, provider, secrets) or _mapped(exc, provider, secrets, model, chars)
        if mapped is None:
            raise
        raise mapped from mapped.__cause__


def _unusable(exc: BaseException, provider: str, secrets: list[str | None]) -> Any:
    """An answer the SDK could not read (it reports a cut-off read as a connection error and
    a 200 that is not JSON as a validation error): the service's INVALID_RESPONSE."""
    seen: BaseException | None = exc
    while seen is not None:
        mapped = from_unusable_answer(provider, seen, secrets=secrets)
        if mapped is not None:
            return mapped
        seen = seen.__cause__ or seen.__context__
    return None


def _mapped(
    exc: Exception, provider: str, secrets: list[str | None], model: str, chars: int | None
) -> Any:
    return from_openai_exception(exc, provider=provider, secrets=secrets, model=model, chars=chars)
