"""The official `openai` SDK, set up once for any OpenAI-compatible server (scripts and speech).

`max_retries=0`: the SDK would otherwise retry 429, 5xx and dropped connections twice on its
own, under our retries (each Prefect task retry would then be three calls, with waits nobody
sees). Our task retries do it instead, honouring Retry-After, announced in the progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ytmaker.deadline import cap
from ytmaker.providers.errors.openai_sdk import from_openai_exception, mentions

NO_KEY = "no-key"  # local servers (Ollama, LM Studio, vLLM) take any key; the SDK needs one
SDK_RETRIES = 0


def client(api_key: str | None, base_url: str | None, timeout: float) -> Any:
    import openai

    return openai.OpenAI(
        api_key=api_key or NO_KEY,
        base_url=base_url or None,
        max_retries=SDK_RETRIES,
        timeout=cap(timeout),
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
        mapped = _mapped(exc, provider, secrets, model, chars)
        if mapped is None:
            raise
        raise mapped from mapped.__cause__


def _mapped(
    exc: Exception, provider: str, secrets: list[str | None], model: str, chars: int | None
) -> Any:
    return from_openai_exception(exc, provider=provider, secrets=secrets, model=model, chars=chars)
