"""A fake Gemini API (generativelanguage): generateContent for text/JSON and for speech."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import re
import struct
from collections.abc import Iterator
from typing import Any

from tests.servers import FakeServer, Reply, Request

_PATH = re.compile(r"^/(v1|v1beta)/models/([^/:]+):generateContent$")
SAMPLE_RATE = 24000
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_MESSAGES = {
    403: "Method doesn't allow unregistered callers (callers without established identity).",
    404: "models/unknown is not found for API version v1beta.",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}


def valid_script(
    segments: int = 12, seconds: float = 15.0, title: str = "台灣夜市小吃"
) -> dict[str, Any]:
    """A script JSON as the model returns it (fits the default 5-20 s / 180-600 s rules)."""
    segs = [
        {
            "index": i,
            "text": f"第{i}段：夜市裡有許多美味的小吃，值得慢慢品嚐。",
            "duration": seconds,
            "image_description": f"A busy Taiwanese night market stall, scene {i}",
        }
        for i in range(1, segments + 1)
    ]
    total = 10 + 10 + seconds * segments
    return {
        "intro": {"text": f"大家好，今天來聊聊{title}。", "duration": 10},
        "segments": segs,
        "outro": {"text": "感謝收看，我們下次見！", "duration": 10},
        "metadata": {"title": title, "description": f"{title}的介紹。", "tags": ["夜市", "小吃"]},
        "total_duration": total,
    }


def pcm_tone(seconds: float, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit little-endian mono PCM: a quiet 220 Hz tone."""
    count = int(seconds * rate)
    return b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * n / rate))) for n in range(count)
    )


class FakeGemini(FakeServer):
    """`POST /v1beta/models/{model}:generateContent` (and /v1/), key in `x-goog-api-key`.

    `script_text` is what a JSON request gets back as the model's text (a dict is dumped to
    JSON; a str is sent as is, e.g. broken JSON). Speech requests (responseModalities AUDIO)
    get `audio_seconds_per_char` × len(text) of 24 kHz PCM, base64 in inlineData.
    """

    name = "gemini"

    def __init__(self, api_key: str = "test-gemini-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.script_text: dict[str, Any] | str = valid_script()
        self.finish_reason = "STOP"
        self.block_reason: str | None = None
        self.audio_seconds_per_char = 0.05
        self.audio_mime = f"audio/L16;codec=pcm;rate={SAMPLE_RATE}"

    def error(self, status: int, reason: str | None = None, message: str | None = None) -> Reply:
        api_status = _STATUS_NAMES.get(status, "UNKNOWN")
        details: list[dict[str, Any]] = []
        if reason:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            )
        if status == 429:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        }
                    ],
                }
            )
            details.append(
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}
            )
        body = {
            "error": {
                "code": status,
                "message": message
                or _MESSAGES.get(status, "Request contains an invalid argument."),
                "status": api_status,
                **({"details": details} if details else {}),
            }
        }
        return Reply(status, body)

    def route(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if request.method != "POST" or not match:
            return self.error(404, message=f"Method not found: {request.method} {request.path}")
        if request.header("x-goog-api-key") != self.api_key:
            return self.error(
                400, "API_KEY_INVALID", "API key not valid. Please pass a valid API key."
            )
        try:
            payload = request.json()
        except ValueError:
            return self.error(400, message="Invalid JSON payload received.")
        if not payload.get("contents"):
            return self.error(
                400, message="* GenerateContentRequest.contents: contents is not specified"
            )
        if self.block_reason:
            return Reply(
                200,
                {
                    "promptFeedback": {"blockReason": self.block_reason},
                    "modelVersion": match.group(2),
                },
            )
        config = payload.get("generationConfig") or {}
        if "AUDIO" in (config.get("responseModalities") or []):
            return self._speech(payload, match.group(2))
        return self._text(match.group(2))

    def _text(self, model: str) -> Reply:
        text = self.script_text
        if not isinstance(text, str):
            text = json.dumps(text, ensure_ascii=False)
        return Reply(200, self._response(model, [{"text": text}]))

    def _speech(self, payload: dict[str, Any], model: str) -> Reply:
        said = " ".join(
            part.get("text", "") for c in payload["contents"] for part in c.get("parts", [])
        )
        pcm = pcm_tone(max(0.1, len(said) * self.audio_seconds_per_char))
        part = {"inlineData": {"mimeType": self.audio_mime, "data": base64.b64encode(pcm).decode()}}
        return Reply(200, self._response(model, [part]))

    def _response(self, model: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "candidates": [
                {
                    "content": {"parts": parts, "role": "model"},
                    "finishReason": self.finish_reason,
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 120,
                "candidatesTokenCount": 800,
                "totalTokenCount": 920,
            },
            "modelVersion": model,
            "responseId": "fake-response-1",
        }


@contextlib.contextmanager
def gemini_writes_the_script(monkeypatch: Any, **settings: str) -> Iterator[FakeGemini]:
    """A stand-in the real client writes scripts with (the voice stays local); `settings` are
    more environment variables for the run, e.g. its retry delays."""
    from ytmaker.config import reload_settings

    with FakeGemini() as server:
        env = {
            "GEMINI_API_KEY": server.api_key,
            "GEMINI_BASE_URL": server.url,
            "YTMAKER_VOICE_PROVIDER": "local",
            "YTMAKER_RETRY_JITTER": "0",
            **settings,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reload_settings()
        yield server
