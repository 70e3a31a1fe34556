"""A fake OpenAI-compatible server: Chat Completions and `/v1/audio/speech`, as the official
SDK calls them (`POST {base_url}/chat/completions`, `Authorization: Bearer KEY`).

It behaves like the servers the writer must cope with: `schema=False` answers a JSON-schema
`response_format` with the 400 several local servers send (naming `response_format`),
`json_mode=False` does the same for JSON mode; `prose=True` wraps the JSON in text and a code
fence, as a model without JSON mode does; `finish_reasons` cuts replies (`length`).
"""

from __future__ import annotations

import io
import json
import wave
from collections import deque
from typing import Any

from tests.servers import FakeServer, Reply, Request
from tests.servers.gemini import pcm_tone, valid_script

SPEECH_RATE = 24000


def wav_bytes(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SPEECH_RATE)
        wav.writeframes(pcm_tone(seconds, SPEECH_RATE))
    return out.getvalue()


class FakeOpenAI(FakeServer):
    name = "openai"

    def __init__(self, api_key: str | None = "sk-test-openai-key-123") -> None:
        super().__init__()
        self.api_key = api_key  # None: any key (a local server)
        self.script_text: dict[str, Any] | str = valid_script()
        self.schema = True
        self.json_mode = True
        self.prose = False
        self.finish_reasons: deque[str] = deque()
        self.speech_seconds_per_char = 0.06

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def error(self, status: int, reason: str | None = None, message: str | None = None) -> Reply:
        kinds = {401: "invalid_request_error", 429: "requests", 404: "invalid_request_error"}
        texts = {
            401: "Incorrect API key provided.",
            429: "Rate limit reached for requests.",
            500: "The server had an error while processing your request.",
            503: "The engine is currently overloaded, please try again later.",
        }
        body = {
            "error": {
                "message": message or texts.get(status, "Bad request."),
                "type": kinds.get(status, "server_error" if status >= 500 else "invalid_request"),
                "param": None,
                "code": reason,
            }
        }
        return Reply(status, body)

    def route(self, request: Request) -> Reply:
        if self.api_key is not None and request.header("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "invalid_api_key")
        if request.method == "POST" and request.path == "/v1/chat/completions":
            return self._chat(request.json())
        if request.method == "POST" and request.path == "/v1/audio/speech":
            return self._speech(request.json())
        return self.error(404, message=f"Unknown path {request.path}")

    def _chat(self, payload: dict[str, Any]) -> Reply:
        kind = (payload.get("response_format") or {}).get("type")
        if (kind == "json_schema" and not self.schema) or (
            kind == "json_object" and not self.json_mode
        ):
            return Reply(
                400,
                {
                    "error": {
                        "message": f"response_format type {kind} is not supported by this server",
                        "type": "invalid_request_error",
                        "param": "response_format",
                        "code": None,
                    }
                },
            )
        text = self.script_text
        if not isinstance(text, str):
            text = json.dumps(text, ensure_ascii=False)
        if self.prose and kind is None:
            text = f"Sure! Here is the script you asked for:\n```json\n{text}\n```\nEnjoy."
        finish = self.finish_reasons.popleft() if self.finish_reasons else "stop"
        if finish == "length":
            text = text[: len(text) // 2]
        return Reply(
            200,
            {
                "id": "chatcmpl-fake-1",
                "object": "chat.completion",
                "created": 1_760_000_000,
                "model": payload.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish,
                    }
                ],
                "usage": {"prompt_tokens": 400, "completion_tokens": 800, "total_tokens": 1200},
            },
        )

    def _speech(self, payload: dict[str, Any]) -> Reply:
        seconds = max(0.2, len(payload.get("input", "")) * self.speech_seconds_per_char)
        return Reply(200, wav_bytes(seconds), headers={"Content-Type": "audio/wav"})

    def chats(self) -> list[Request]:
        return self.requests_to("/v1/chat/completions", "POST")
