"""A voice for any OpenAI-compatible `/v1/audio/speech` server (OpenAI itself; local servers
such as Kokoro-FastAPI speak the same API) through the official `openai` SDK.

The answer is decoded whatever its format (servers differ in what they honour) and kept as a
24 kHz 16-bit mono WAV; such servers give no word timings, so `words` captions use spread
mode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ytmaker.errors import ProviderError
from ytmaker.media.decode import SAMPLE_RATE, decode_speech, peak_dbfs
from ytmaker.media.karaoke import words_path
from ytmaker.providers import openai_api
from ytmaker.providers.errors.http import invalid_response
from ytmaker.providers.local.voice import write_wav

SILENT_DBFS = -50.0


class OpenAIVoice:
    """Implements Voice over `audio.speech.create`."""

    name = "openai-tts"
    metered_service = "openai"

    def __init__(
        self,
        api_key: str | None,
        model: str,
        voice_name: str,
        base_url: str | None = None,
        *,
        timeout: float = 120.0,
        pause: float = 0.4,
    ) -> None:
        if pause < 0:
            raise ValueError("pause must be >= 0 seconds")
        self.api_key, self.model, self.voice_name = api_key, model, voice_name
        self.base_url, self.timeout, self.pause = base_url, timeout, pause

    def __repr__(self) -> str:
        return f"OpenAIVoice(model={self.model!r}, voice_name={self.voice_name!r})"

    @property
    def variant(self) -> dict[str, str]:
        return {"model": self.model, "voice": self.voice_name}

    def synthesize(self, text: str, language: str, out_path: Path) -> float:
        if not text or not text.strip():
            raise ProviderError(
                "There is no text to speak; the narration is empty.",
                code="OPENAI_TTS_EMPTY_TEXT",
                language=language,
            )
        client = openai_api.client(self.api_key, self.base_url, self.timeout)
        try:
            response = openai_api.call(
                client.audio.speech.create,
                provider="openai_tts",
                secrets=[self.api_key],
                model=self.model,
                voice=self.voice_name,
                input=text.strip(),
                response_format="wav",
            )
            audio = response.read()
        finally:
            client.close()
        speech = self._decoded(audio)
        samples = np.concatenate([speech, np.zeros(round(self.pause * SAMPLE_RATE), np.int16)])
        words_path(Path(out_path)).unlink(missing_ok=True)  # spread mode: no stale timings
        write_wav(Path(out_path), samples, SAMPLE_RATE)
        return len(samples) / SAMPLE_RATE

    def _decoded(self, audio: bytes) -> np.ndarray:
        try:
            speech = decode_speech(audio, SAMPLE_RATE)
        except ValueError as exc:
            raise invalid_response("openai_tts", str(exc), secrets=[self.api_key]) from None
        if peak_dbfs(speech) < SILENT_DBFS:
            raise invalid_response("openai_tts", "the speech is silent", secrets=[self.api_key])
        return speech
