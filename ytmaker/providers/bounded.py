"""Every answer from a service read to a limit: a server that streams gigabytes, or claims to
in its Content-Length, is cut off after `limit` bytes instead of filling memory. JSON answers
are also bounded in nesting (a 10,000-deep array crashed the JSON reader with RecursionError).

`BoundedTransport` is an httpx transport, so any client built on httpx (ours, google-genai's,
the OpenAI SDK's) reads through it unchanged.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import httpx

MB = 1024 * 1024
JSON_DEPTH = 64  # our answers nest 5 deep; the service's envelopes a few more


class AnswerTooLarge(Exception):
    """The answer is over the limit; `limit` in bytes."""

    def __init__(self, limit: int, said: int | None = None) -> None:
        claimed = f" (it says {said:,} bytes)" if said else ""
        super().__init__(f"the answer is over {limit / MB:g} MB{claimed}")
        self.limit, self.said = limit, said


def _transport(module: Any) -> Any:
    """BoundedTransport for `module` (httpx, or httpx2, the fork the OpenAI SDK is built on)."""

    class Bounded(module.SyncByteStream):
        def __init__(self, inner: Any, limit: int) -> None:
            self.inner, self.limit = inner, limit

        def __iter__(self) -> Iterator[bytes]:
            total = 0
            for chunk in self.inner:
                total += len(chunk)
                if total > self.limit:
                    raise AnswerTooLarge(self.limit)
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class Transport(module.HTTPTransport):
        """An HTTP transport whose answers stop at `limit` bytes (AnswerTooLarge past it)."""

        def __init__(self, limit: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.limit = limit

        def handle_request(self, request: Any) -> Any:
            response = super().handle_request(request)
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > self.limit:
                response.close()
                raise AnswerTooLarge(self.limit, int(length))
            response.stream = Bounded(response.stream, self.limit)
            return response

    return Transport


BoundedTransport = _transport(httpx)


def client(limit: int, **kwargs: Any) -> httpx.Client:
    """An httpx client reading at most `limit` bytes an answer."""
    return httpx.Client(transport=BoundedTransport(limit), **kwargs)


def client2(limit: int, **kwargs: Any) -> Any:
    """The same for httpx2 (what the OpenAI SDK takes as `http_client`)."""
    import httpx2

    return httpx2.Client(transport=_transport2()(limit), **kwargs)


@functools.cache
def _transport2() -> Any:
    import httpx2

    return _transport(httpx2)


class TooDeep(ValueError):
    pass


def nesting(text: str | bytes) -> int:
    """How deep the brackets of a JSON text nest (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text.decode("utf-8", "replace") if isinstance(text, bytes) else text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def loads(text: str | bytes, depth: int = JSON_DEPTH) -> Any:
    """json.loads that refuses nesting deeper than `depth` first (TooDeep, a ValueError)."""
    if nesting(text) > depth:
        raise TooDeep(f"the JSON nests deeper than {depth} levels")
    return json.loads(text)
