"""Microsoft Edge's neural voices through the `edge-tts` package (free, no key).

Each piece is one WebSocket request: MP3 audio plus a `WordBoundary` event per word, which
becomes the piece's word-timing file (`piece_NNN.words.json`, as the espeak-ng voice writes),
so `words` captions follow the voice. The audio is decoded and checked before it is kept: a
stream cut mid-way raises nothing in edge-tts (the audio is short, the later words missing),
so a piece whose words or sound do not reach the end of its text is an error to retry, never
a silent or cut piece.

The service's address is a module constant of edge-tts (`edge_tts.communicate.WSS_URL`), not a
parameter: `point_at` sets it from EDGE_TTS_URL, here and nowhere else.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import numpy as np

from ytmaker.deadline import cap
from ytmaker.errors import ProviderError
from ytmaker.media.decode import SAMPLE_RATE, decode_speech, peak_dbfs
from ytmaker.media.karaoke import words_path, write_marks
from ytmaker.providers.edge_words import Boundary, align, coverage
from ytmaker.providers.errors import ServiceError, chain, kind_for_status, message_for
from ytmaker.providers.local.voice import write_wav
from ytmaker.script import spoken_seconds
from ytmaker.voices import VoiceSettings, default_voice

log = logging.getLogger(__name__)
TICKS = 10_000_000  # WordBoundary offsets and durations are 100-ns ticks
CONNECT_SECONDS = 10
RECEIVE_SECONDS = 60
SILENT_DBFS = -50.0  # a piece whose loudest sample is below this holds no speech
WORDS_REACH = 0.85  # the timed words must reach this far into the text
SOUND_SHARE = 0.5  # and the sound last at least this share of the time the text takes
# An MP3 decoder's output starts with the codec's priming: the encoder's delay (576 samples for
# LAME-style encoders) and the decoder's own (529). Word offsets count from the first real
# sample, and edge-tts's stream carries no tag to trim by, so it is cut here (46 ms at 24 kHz;
# measured with bench/karaoke.py: without the cut, words lit ~46 ms before they are heard).
MP3_PRIMING = 576 + 529
_url_lock = threading.Lock()


def point_at(url: str | None) -> None:
    """Send edge-tts to `url` (None: the real service). The constant is process-global and
    edge-tts appends `&ConnectionId=…` to it, so it must hold a query already."""
    import edge_tts.communicate
    import edge_tts.constants

    target = url or edge_tts.constants.WSS_URL
    if "?" not in target:
        target += "?TrustedClientToken=" + edge_tts.constants.TRUSTED_CLIENT_TOKEN
    with _url_lock:
        edge_tts.communicate.WSS_URL = target


class EdgeVoice:
    """Implements Voice: 24 kHz 16-bit mono WAV, `pause` seconds of silence appended, and the
    word timings beside it."""

    name = "edge"
    metered_service = None  # free: nothing to count

    def __init__(
        self,
        own: VoiceSettings | None = None,
        *,
        url: str | None = None,
        timeout: float = 120.0,
        pause: float = 0.4,
    ) -> None:
        if pause < 0:
            raise ValueError("pause must be >= 0 seconds")
        self.own, self.url, self.timeout, self.pause = own, url, timeout, pause

    def __repr__(self) -> str:
        return f"EdgeVoice(own={self.own!r}, url={self.url!r})"

    @property
    def variant(self) -> dict[str, str]:
        """The project's voice, rate and pitch (part of each piece's fingerprint)."""
        return self.own.model_dump() if self.own else {}

    def voice_for(self, language: str) -> str:
        return self.own.name if self.own else default_voice(language)

    def synthesize(self, text: str, language: str, out_path: Path) -> float:
        if not text or not text.strip():
            raise ProviderError(
                "There is no text to speak; the narration is empty.",
                code="EDGE_EMPTY_TEXT",
                language=language,
            )
        spoken, voice = text.strip(), self.voice_for(language)
        audio, boundaries = run(self._stream(spoken, voice))
        try:
            speech = decode_speech(audio, SAMPLE_RATE)[MP3_PRIMING:]
        except ValueError as exc:
            raise _broken(f"the audio cannot be decoded ({exc})", voice) from None
        marks = align(spoken, boundaries)
        self._check_whole(spoken, language, voice, speech, boundaries, marks)
        samples = np.concatenate([speech, np.zeros(round(self.pause * SAMPLE_RATE), np.int16)])
        out = Path(out_path)
        if marks:
            write_marks(out, spoken, marks, f"edge:{voice}", len(samples))
        else:
            log.warning("Edge voice %s gave no word timings: words captions use spread mode", voice)
            words_path(out).unlink(missing_ok=True)
        write_wav(out, samples, SAMPLE_RATE)
        return len(samples) / SAMPLE_RATE

    async def _stream(self, text: str, voice: str) -> tuple[bytes, list[Boundary]]:
        import edge_tts

        point_at(self.url)
        rate, pitch = (self.own.rate, self.own.pitch) if self.own else ("+0%", "+0Hz")
        communicate = edge_tts.Communicate(
            text,
            voice,
            rate=rate,
            pitch=pitch,
            boundary="WordBoundary",
            connect_timeout=CONNECT_SECONDS,
            receive_timeout=max(1, int(min(RECEIVE_SECONDS, cap(self.timeout)))),
        )
        audio, boundaries = bytearray(), []
        try:
            async with asyncio.timeout(cap(self.timeout)):
                async for chunk in communicate.stream():
                    if chunk["type"] == "audio":
                        audio += chunk.get("data", b"")
                    elif chunk["type"] == "WordBoundary":
                        start = chunk.get("offset", 0) / TICKS
                        length = chunk.get("duration", 0) / TICKS
                        boundaries.append(Boundary(chunk.get("text", ""), start, length))
        except Exception as exc:  # noqa: BLE001 - every failure is classified below
            raise from_edge_exception(exc, voice) from None
        return bytes(audio), boundaries

    def _check_whole(
        self,
        text: str,
        language: str,
        voice: str,
        speech: np.ndarray,
        boundaries: list[Boundary],
        marks: list[Any],
    ) -> None:
        """Never a silent or cut piece: sound, as long as the text takes to say (within a wide
        margin: voices differ), and with word events, words that reach the end of the text and
        sound that lasts as long as its words."""
        seconds = len(speech) / SAMPLE_RATE
        if peak_dbfs(speech) < SILENT_DBFS:
            raise _broken(f"the {seconds:.1f} s of audio are silent", voice)
        expected = spoken_seconds(text, language) / _speed(self.own)
        if seconds < expected * SOUND_SHARE:
            raise _broken(
                f"{seconds:.1f} s of audio for a text that takes about {expected:.0f} s to say",
                voice,
            )
        if boundaries:
            reach = coverage(text, marks)
            last_word_end = max(b.start + b.length for b in boundaries)
            if reach < WORDS_REACH:
                raise _broken(
                    f"its words stop {reach:.0%} of the way into the text (the stream was cut)",
                    voice,
                )
            if last_word_end > seconds + 0.25:
                raise _broken(
                    f"its audio ends at {seconds:.1f} s but its words run to "
                    f"{last_word_end:.1f} s (the stream was cut)",
                    voice,
                )


def _speed(own: VoiceSettings | None) -> float:
    """How much faster than normal the voice is asked to speak (+50% → 1.5)."""
    return 1.0 + int(own.rate.rstrip("%")) / 100 if own else 1.0


def _broken(what: str, voice: str) -> ServiceError:
    return ServiceError(
        f"Microsoft Edge's speech service sent unusable audio for {voice}: {what}. It is "
        "tried again; if it persists, check the network and EDGE_TTS_URL.",
        provider="edge",
        kind="INVALID_RESPONSE",
        reason="cut_or_silent",
        voice=voice,
    )


def from_edge_exception(exc: BaseException, voice: str) -> ServiceError | ProviderError:
    """edge-tts and aiohttp failures in one line that says what to check."""
    import aiohttp
    import edge_tts.exceptions as edge_errors

    if isinstance(exc, aiohttp.WSServerHandshakeError | aiohttp.ClientResponseError):
        return chain(_refused(int(exc.status or 0), voice), exc)
    if isinstance(exc, edge_errors.NoAudioReceived):
        error = ServiceError(
            f"Microsoft Edge's speech service closed the connection before any audio for "
            f"{voice}: the connection dropped, or the voice name, rate or pitch is refused. "
            "It is tried again; if it persists, check the network and the project's voice.",
            provider="edge",
            kind="NO_AUDIO",
            reason="NoAudioReceived",
            retryable=True,
            voice=voice,
        )
        return chain(error, exc)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return chain(_transport("TIMEOUT", exc, voice), exc)
    if isinstance(exc, aiohttp.ClientError | OSError | edge_errors.WebSocketError):
        return chain(_transport("CONNECTION_FAILED", exc, voice), exc)
    if isinstance(exc, edge_errors.EdgeTTSException):
        return chain(_broken(f"{type(exc).__name__}: {exc}", voice), exc)
    if isinstance(exc, ValueError):  # edge-tts refuses the voice, rate or pitch itself
        return ProviderError(
            f"edge-tts refused the voice settings ({exc}): check the project's voice.",
            code="EDGE_VOICE_INVALID",
            voice=voice,
        )
    return chain(_transport("CONNECTION_FAILED", exc, voice), exc)


def _refused(status: int, voice: str) -> ServiceError:
    kind = kind_for_status(status) if status else "CONNECTION_FAILED"
    if status == 403:
        message = (
            "Microsoft Edge's speech service refused the connection (403). The token it checks "
            "is time-bound: check that this machine's clock is right (timedatectl), that "
            "EDGE_TTS_URL or a proxy points at the service, and update edge-tts (uv sync) if "
            "it persists."
        )
    else:
        message = message_for("edge", kind, status=status)
    return ServiceError(
        message,
        provider="edge",
        kind=kind,
        status=status or None,
        reason="handshake",
        retryable=status in (403, 429) or status >= 500 or kind == "CONNECTION_FAILED",
        voice=voice,
    )


def _transport(kind: str, exc: BaseException, voice: str) -> ServiceError:
    detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return ServiceError(
        message_for("edge", kind) + f" ({detail[:200]})",
        provider="edge",
        kind=kind,
        reason=type(exc).__name__,
        voice=voice,
    )


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run edge-tts's coroutine from synchronous code: here when this thread has no event loop
    (Prefect's task threads), else in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
