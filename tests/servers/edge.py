"""A local stand-in for Microsoft Edge's speech service, speaking its WebSocket protocol.

The real `edge-tts` package is pointed at it (EDGE_TTS_URL). For each request it receives the
`speech.config` and `ssml` text frames, then answers as the service does: a `Path:turn.start`
text frame, `Path:audio.metadata` frames with one WordBoundary each (offsets in 100-ns ticks),
binary `Path:audio` frames (a 2-byte big-endian header length, the header, the MP3 bytes), an
empty audio frame and `Path:turn.end`. The speech is real: espeak-ng says the text and the
bundled FFmpeg encodes it as 24 kHz 48 kbit/s mono MP3 (no Xing header, as a stream), and the
word boundaries are espeak-ng's own word starts (`words` holds what the last request got).

Scripted trouble: `refuse_next(status)` refuses the WebSocket handshake (403 with a Date
header, as the service does when its time-bound token is stale; 503...), `cut_next()` sends
half the audio and words and then closes the socket, `drop_next()` closes it after the SSML,
before any audio.
"""

from __future__ import annotations

import asyncio
import email.utils
import html
import re
import subprocess
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import imageio_ffmpeg

from ytmaker.providers.local.voice import _ENGINE, voice_for

PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
TICKS = 10_000_000
CHUNK = 2048  # MP3 bytes per audio frame (~0.34 s at 48 kbit/s)
_SSML = re.compile(
    r"<voice name='(?P<voice>[^']+)'><prosody pitch='(?P<pitch>[^']+)' rate='(?P<rate>[^']+)'"
    r" volume='[^']+'>(?P<text>.*)</prosody></voice>",
    flags=re.S,
)
_PUNCTUATION = "，。、！？；：「」『』（）,.!?;:\"'()…—-"


@dataclass
class Said:
    """One synthesis request as the server saw it."""

    voice: str
    rate: str
    pitch: str
    text: str
    query: dict[str, str]
    headers: dict[str, str]
    config: str = ""

    @property
    def short_voice(self) -> str:
        """`zh-TW-HsiaoChenNeural` from edge-tts's long form `Microsoft Server Speech Text to
        Speech Voice (zh-TW, HsiaoChenNeural)`."""
        match = re.search(r"\((\w+-\w+), (\w+)\)", self.voice)
        return f"{match[1]}-{match[2]}" if match else self.voice


@dataclass
class Word:
    text: str
    start: float  # seconds, as sent (Offset / 1e7)
    length: float


@dataclass
class FakeEdge:
    requests: list[Said] = field(default_factory=list)
    handshakes: int = 0
    words: list[Word] = field(default_factory=list)  # the boundaries of the last answer
    with_words: bool = True  # False: a voice that sends no word boundaries
    _script: deque[tuple[str, int]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self.port = 0

    # ------------------------------------------------------------ scripting

    def refuse_next(self, status: int = 403, times: int = 1) -> None:
        self._script.extend([("refuse", status)] * times)

    def cut_next(self, times: int = 1, percent: int = 50) -> None:
        """Close the socket after `percent` of the audio (and of the words before it)."""
        self._script.extend([("cut", percent)] * times)

    def drop_next(self, times: int = 1) -> None:
        self._script.extend([("drop", 0)] * times)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{PATH}?TrustedClientToken=local-test"

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeEdge:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Edge stand-in did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        from aiohttp import web

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_get(PATH, self._handle)
        self._runner = web.AppRunner(app)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._loop = loop
        ready.set()
        loop.run_forever()
        loop.close()

    # ------------------------------------------------------------ the protocol

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        self.handshakes += 1
        scripted = self._script.popleft() if self._script else ("", 0)
        if scripted[0] == "refuse":
            date = email.utils.formatdate(usegmt=True)
            return web.Response(status=scripted[1], headers={"Date": date}, text="refused")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        config = await ws.receive_str()
        ssml = await ws.receive_str()
        said = _parse(ssml, dict(request.query), dict(request.headers), config)
        self.requests.append(said)
        if scripted[0] == "drop":
            await ws.close()
            return ws
        audio, words = await asyncio.to_thread(speak, said.text, said.short_voice)
        self.words = words if self.with_words else []
        cut = scripted[1] if scripted[0] == "cut" else None
        await self._answer(ws, audio, self.words, cut=cut)
        return ws

    async def _answer(self, ws: Any, audio: bytes, words: list[Word], *, cut: int | None) -> None:
        request_id = uuid.uuid4().hex
        await ws.send_str(_text_frame(request_id, "turn.start", '{"context":{}}'))
        chunks = [audio[i : i + CHUNK] for i in range(0, len(audio), CHUNK)]
        seconds_per_chunk = CHUNK * 8 / 48_000
        pending = deque(words)
        for number, chunk in enumerate(chunks):
            if cut is not None and number >= len(chunks) * cut // 100:
                await ws.close()  # mid-audio: no turn.end, the rest never comes
                return
            while pending and pending[0].start < (number + 1) * seconds_per_chunk:
                await ws.send_str(_metadata(request_id, pending.popleft()))
            await ws.send_bytes(_audio_frame(request_id, chunk))
        for word in pending:
            await ws.send_str(_metadata(request_id, word))
        await ws.send_bytes(_audio_frame(request_id, b""))
        await ws.send_str(_text_frame(request_id, "turn.end", "{}"))
        await ws.close()


def _parse(ssml: str, query: dict[str, str], headers: dict[str, str], config: str) -> Said:
    body = ssml.split("\r\n\r\n", 1)[1]
    match = _SSML.search(body)
    if match is None:
        raise ValueError(f"not an SSML request: {body[:200]!r}")
    return Said(
        voice=match["voice"],
        rate=match["rate"],
        pitch=match["pitch"],
        text=html.unescape(match["text"]),
        query=query,
        headers={k.lower(): v for k, v in headers.items()},
        config=config,
    )


def _text_frame(request_id: str, path: str, body: str) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return (
        f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
        f"X-Timestamp:{stamp}\r\nPath:{path}\r\n\r\n{body}"
    )


def _metadata(request_id: str, word: Word) -> str:
    import json

    data = {
        "Metadata": [
            {
                "Type": "WordBoundary",
                "Data": {
                    "Offset": round(word.start * TICKS),
                    "Duration": round(word.length * TICKS),
                    "text": {
                        "Text": html.escape(word.text, quote=False),
                        "Length": len(word.text),
                        "BoundaryType": "WordBoundary",
                    },
                },
            }
        ]
    }
    return _text_frame(request_id, "audio.metadata", json.dumps(data, ensure_ascii=False))


def _audio_frame(request_id: str, data: bytes) -> bytes:
    kind = "Content-Type:audio/mpeg\r\n" if data else ""
    header = f"X-RequestId:{request_id}\r\n{kind}X-StreamId:{request_id}\r\nPath:audio\r\n"
    encoded = header.encode()
    return len(encoded).to_bytes(2, "big") + encoded + data


def speak(text: str, voice: str) -> tuple[bytes, list[Word]]:
    """Real speech for `text` (espeak-ng in the voice's language) as MP3, and its words."""
    language = "zh-TW" if voice.startswith("zh-") else "en"
    samples, rate, marks = _ENGINE.speak_words(voice_for(language), text)
    mp3 = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "s16le",
            "-ar",
            str(rate),
            "-ac",
            "1",
            "-i",
            "-",
            "-ar",
            "24000",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "48k",
            "-write_xing",
            "0",
            "-id3v2_version",
            "0",
            "-f",
            "mp3",
            "-",
        ],
        input=samples.astype("<i2").tobytes(),
        capture_output=True,
        check=True,
    ).stdout
    seconds = len(samples) / rate
    words = []
    for index, mark in enumerate(marks):
        spoken = text[mark.char : mark.char + mark.length].strip(_PUNCTUATION + " ")
        if not spoken:
            continue
        end = marks[index + 1].start if index + 1 < len(marks) else seconds
        words.append(Word(spoken, mark.start, max(0.05, end - mark.start)))
    return mp3, words
