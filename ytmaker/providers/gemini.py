"""Gemini through google-genai: a script writer (structured JSON output) and a speech voice."""

from __future__ import annotations

import io
import json
import re
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ytmaker import prompts
from ytmaker.deadline import cap
from ytmaker.errors import ProviderError, ScriptValidationError
from ytmaker.files import atomic_output
from ytmaker.providers.bounded import MB, BoundedTransport
from ytmaker.providers.errors import ServiceError, chain
from ytmaker.providers.errors.genai import from_genai_exception
from ytmaker.providers.errors.http import invalid_response
from ytmaker.redaction import redact
from ytmaker.script import (
    Script,
    ScriptRules,
    WireScript,
    from_wire,
    schema_error,
    validate_script,
)

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_TTS_MODEL = "gemini-3.8-flash-tts"
DEFAULT_VOICE = "Kore"
PCM_RATE = 24000
# The most an answer may hold: a script is a few kB; speech is base64 PCM, ~64 kB a second, and
# a piece is at most a minute or so.
MAX_ANSWER_BYTES = 32 * MB

# The prompt and the response schema are shared with every LLM writer (ytmaker.prompts,
# ytmaker.script): a field added to the script reaches them all.
LANGUAGE_NAMES = prompts.LANGUAGE_NAMES
DEFAULT_PROMPT = prompts.DEFAULT_PROMPT


def _client(api_key: str, base_url: str | None, timeout: float) -> Any:
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        api_version="v1beta",
        timeout=int(timeout * 1000),
        client_args={"transport": BoundedTransport(MAX_ANSWER_BYTES)},
    )
    if base_url:
        options.base_url = base_url
    return genai.Client(api_key=api_key, http_options=options)


def _call(api_key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a google-genai call; map its failures into ServiceError (never loop on retries)."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        mapped = from_genai_exception(exc, secrets=[api_key])
        if mapped is None:
            raise
        raise mapped from (mapped.__cause__)


def _check_candidate(response: Any, api_key: str) -> Any:
    """The first candidate; a blocked prompt or answer is a non-retryable moderation error."""
    feedback = getattr(response, "prompt_feedback", None)
    block = getattr(feedback, "block_reason", None) if feedback else None
    candidates = getattr(response, "candidates", None) or []
    if block or not candidates:
        reason = str(getattr(block, "value", block) or "NO_CANDIDATES")
        if block:
            raise ServiceError(
                f"Gemini refused the request for safety reasons ({reason}): reword the content "
                "and run again.",
                provider="gemini",
                kind="CONTENT_FILTERED",
                status=200,
                reason=reason,
                secrets=[api_key],
            )
        raise invalid_response("gemini", "the answer has no candidates", secrets=[api_key])
    candidate = candidates[0]
    finish = getattr(candidate, "finish_reason", None)
    finish = str(getattr(finish, "value", finish) or "")
    if finish in {
        "SAFETY",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_SAFETY",
    }:
        raise ServiceError(
            f"Gemini stopped its answer for safety reasons ({finish}): reword the content and "
            "run again.",
            provider="gemini",
            kind="CONTENT_FILTERED",
            status=200,
            reason=finish,
            secrets=[api_key],
        )
    return candidate


class GeminiScriptWriter:
    """Implements ScriptWriter with Gemini's structured JSON output."""

    name = "gemini"

    metered_service = "gemini"  # each write() is one counted generateContent call

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        prompt_template: str | None = None,
        *,
        temperature: float = 0.7,
        timeout: float = 120.0,
    ) -> None:
        if not api_key:
            raise ServiceError(
                "No Gemini API key: set GEMINI_API_KEY (or use the local script writer).",
                provider="gemini",
                kind="INVALID_KEY",
                reason="missing_key",
            )
        self.api_key = api_key
        self.model = model
        self.base_url = base_url
        self.prompt_template = prompt_template or DEFAULT_PROMPT
        self.temperature = temperature
        self.timeout = timeout

    def __repr__(self) -> str:  # never show the key
        return f"GeminiScriptWriter(model={self.model!r}, base_url={self.base_url!r})"

    def prompt(self, content: str, language: str, rules: ScriptRules) -> str:
        return prompts.script_prompt(self.prompt_template, content, language, rules)

    def write(
        self, content: str, language: str, rules: ScriptRules, *, title: str | None = None
    ) -> Script:
        """The LLM writes its own title (`title`, the project's name, is not needed)."""
        from google.genai import types

        config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=WireScript,
            temperature=self.temperature,
        )
        client = _client(self.api_key, self.base_url, cap(self.timeout))
        try:
            response = _call(
                self.api_key,
                client.models.generate_content,
                model=self.model,
                contents=self.prompt(content, language, rules),
                config=config,
            )
        finally:
            client.close()
        candidate = _check_candidate(response, self.api_key)
        text = _text_of(candidate)
        finish = getattr(candidate.finish_reason, "value", candidate.finish_reason)
        script = parse_script(text, language, truncated=str(finish) == "MAX_TOKENS")
        return validate_script(script, rules)


def _text_of(candidate: Any) -> str:
    parts = getattr(getattr(candidate, "content", None), "parts", None) or []
    return "".join(p.text for p in parts if getattr(p, "text", None) and not p.thought)


def parse_script(text: str, language: str, *, truncated: bool = False) -> Script:
    """The model's JSON text → Script; ScriptValidationError says what is wrong with it."""
    cleaned = _strip_fence(text or "")
    if not cleaned:
        raise ScriptValidationError(
            "Gemini 回傳了空白內容 (Gemini returned no script text); run the script step again.",
            field="response",
            provider="gemini",
            reason="empty_response",
        )
    try:
        data = json.loads(cleaned)
    except json.JSONDecodeError as exc:
        why = "it was cut off at the output token limit" if truncated else exc.msg
        raise ScriptValidationError(
            f"Gemini 回傳的腳本不是有效的 JSON (invalid JSON at line {exc.lineno} column "
            f"{exc.colno}: {why}); run the script step again"
            + (" with shorter content." if truncated else "."),
            field="response",
            retryable=not truncated,  # another draw of the model may well be valid
            provider="gemini",
            reason="invalid_json",
            position=exc.pos,
            excerpt=cleaned[max(0, exc.pos - 40) : exc.pos + 40],
        ) from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number; arrays 10,000 deep
        why = "nested too deeply" if isinstance(exc, RecursionError) else "a number is too long"
        raise ScriptValidationError(
            f"Gemini 回傳的腳本不是有效的 JSON (unreadable JSON: {why}); run the script step "
            "again.",
            field="response",
            retryable=True,
            provider="gemini",
            reason="invalid_json",
        ) from None
    try:
        wire = WireScript.model_validate(data)
    except ValidationError as exc:
        raise schema_error(exc, "Gemini", "gemini") from None
    return from_wire(wire, language)


def _strip_fence(text: str) -> str:
    text = text.strip()
    match = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.S)
    return match.group(1) if match else text


class GeminiVoice:
    """Implements Voice with Gemini speech generation: 24 kHz 16-bit mono WAV + a pause."""

    name = "gemini-tts"

    metered_service = "gemini"

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_TTS_MODEL,
        voice_name: str = DEFAULT_VOICE,
        base_url: str | None = None,
        *,
        pause: float = 0.4,
        style: str | None = None,
        timeout: float = 120.0,
    ) -> None:
        if not api_key:
            raise ServiceError(
                "No Gemini API key: set GEMINI_API_KEY (or use the local voice).",
                provider="gemini",
                kind="INVALID_KEY",
                reason="missing_key",
            )
        if pause < 0:
            raise ValueError("pause must be >= 0 seconds")
        self.api_key = api_key
        self.model = model
        self.voice_name = voice_name
        self.base_url = base_url
        self.pause = pause
        self.style = style
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"GeminiVoice(model={self.model!r}, voice_name={self.voice_name!r})"

    def synthesize(self, text: str, language: str, out_path: Path) -> float:
        from google.genai import types

        if not text or not text.strip():
            raise ProviderError(
                "There is no text to speak; the narration is empty.",
                code="GEMINI_EMPTY_TEXT",
                language=language,
            )
        spoken = f"{self.style}: {text.strip()}" if self.style else text.strip()
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=self.voice_name)
                )
            ),
        )
        client = _client(self.api_key, self.base_url, cap(self.timeout))
        try:
            response = _call(
                self.api_key,
                client.models.generate_content,
                model=self.model,
                contents=spoken,
                config=config,
            )
        finally:
            client.close()
        candidate = _check_candidate(response, self.api_key)
        pcm, rate = _audio_of(candidate, self.api_key)
        silence = b"\x00\x00" * round(self.pause * rate)
        frames = pcm + silence
        with atomic_output(Path(out_path)) as tmp, wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(frames)
        return len(frames) / 2 / rate


def _audio_of(candidate: Any, api_key: str) -> tuple[bytes, int]:
    """(16-bit mono PCM, sample rate) from the first inline audio part."""
    parts = getattr(getattr(candidate, "content", None), "parts", None) or []
    for part in parts:
        blob = getattr(part, "inline_data", None)
        if blob is None or not blob.data:
            continue
        data = blob.data
        mime = (blob.mime_type or "").lower()
        if data[:4] == b"RIFF" or "wav" in mime:
            try:
                with wave.open(io.BytesIO(data)) as wav:
                    if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                        raise invalid_response(
                            "gemini",
                            "the WAV is not 16-bit mono",
                            secrets=[api_key],
                            retryable=False,
                        )
                    return wav.readframes(wav.getnframes()), wav.getframerate()
            except (wave.Error, EOFError) as exc:
                raise chain(
                    invalid_response("gemini", f"unreadable WAV ({exc})", secrets=[api_key]), exc
                ) from None
        match = re.search(r"rate=(\d+)", mime)
        rate = int(match.group(1)) if match else PCM_RATE
        if len(data) % 2:
            data = data[:-1]
        return data, rate
    finish = getattr(candidate.finish_reason, "value", candidate.finish_reason)
    raise invalid_response(
        "gemini",
        f"the speech answer holds no audio (finish reason {redact(str(finish))})",
        secrets=[api_key],
    )
