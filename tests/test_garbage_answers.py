"""Services answering garbage: the real clients (httpx for Stability AI and D-ID, google-genai
for Gemini) against local servers that answer HTML, bombs, endless streams and JSON nested
10,000 deep. Each answer is bounded and an unusable one is `<SERVICE>_INVALID_RESPONSE` naming
the service and what was wrong, retryable (another answer may be fine)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import png_header
from tests.servers import Reply
from tests.servers.gemini import FakeGemini
from tests.servers.stability import FakeStability
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.gemini import GeminiScriptWriter, GeminiVoice
from ytmaker.providers.stability import StabilityImages
from ytmaker.script import ScriptRules

HTML = "<!doctype html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class Endless:
    """An HTTP/1.1 server whose 200 answer never ends (chunked, 1 MB a chunk): what a
    misbehaving proxy or a hostile endpoint can send."""

    def __init__(self, content_type: str) -> None:
        self.content_type = content_type
        self.sent = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
            chunk = b"%x\r\n" % (1 << 20) + b"[" * (1 << 20) + b"\r\n"
            try:
                conn.sendall(head.encode())
                while self.sent < 1 << 31:
                    conn.sendall(chunk)
                    self.sent += 1 << 20
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def stability() -> Iterator[FakeStability]:
    with FakeStability() as fake:
        yield fake


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    with FakeGemini() as fake:
        yield fake


def made_by(server: FakeStability) -> StabilityImages:
    return StabilityImages(server.api_key, base_url=server.url)


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(200, png_header(20000, 20000), {"Content-Type": "image/png"}),
         "the PNG is 20000x20000 pixels; at most 4096 a side"),
        (Reply(200, png_header(13000, 13000), {"Content-Type": "image/png"}),
         "13000x13000 pixels"),
        (Reply(200, HTML, {"Content-Type": "text/html"}),
         "is not a PNG, JPEG or WebP image (it starts '<!doctype html>"),
        (Reply(200, b"", {"Content-Type": "image/png"}), "is not a PNG, JPEG or WebP image"),
        (Reply(200, b"[" * 10_000, {"Content-Type": "application/json"}),
         "the JSON answer is unreadable"),
        (Reply(200, b'"just a string"', {"Content-Type": "application/json"}),
         "the JSON answer is unreadable"),
        (Reply(200, png_header(64, 64)[:40], {"Content-Type": "image/png"}),
         "the image cannot be decoded"),
    ],
)  # fmt: skip
def test_stability_garbage_is_its_own_error(
    stability: FakeStability, tmp_path: Path, reply: Reply, words: str
) -> None:
    stability.script(reply)
    out = tmp_path / "image.png"
    with pytest.raises(ServiceError) as caught:
        made_by(stability).make("a night market", 1, out)
    error = caught.value
    assert error.code == "STABILITY_INVALID_RESPONSE" and error.retryable
    assert error.message.startswith("Stability AI sent an answer that could not be used")
    assert words in error.message, error.message
    assert not out.exists() and list(tmp_path.iterdir()) == []
    made_by(stability).make("a night market", 1, out)  # the next answer is fine: a retry helps
    assert out.stat().st_size > 0


def test_an_endless_answer_is_cut_at_the_limit(tmp_path: Path) -> None:
    server = Endless("image/png")
    try:
        with pytest.raises(ServiceError) as caught:
            StabilityImages("sk-test", base_url=server.url).make("x", 1, tmp_path / "i.png")
    finally:
        server.close()
    assert caught.value.code == "STABILITY_INVALID_RESPONSE"
    assert "the answer is over 50 MB" in caught.value.message
    assert server.sent < 80 << 20  # stopped reading soon after the limit


RULES = ScriptRules()


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(200, HTML, {"Content-Type": "text/html"}), "it is not JSON (Expecting value"),
        (Reply(200, b"[" * 10_000 + b"]" * 10_000, {"Content-Type": "application/json"}),
         "the JSON nests too deeply to read"),
    ],
)  # fmt: skip
def test_gemini_garbage_is_its_own_error(gemini: FakeGemini, reply: Reply, words: str) -> None:
    writer = GeminiScriptWriter(gemini.api_key, base_url=gemini.url)
    gemini.script(reply)
    with pytest.raises(ServiceError) as caught:
        writer.write("夜市小吃", "zh-TW", RULES)
    error = caught.value
    assert error.code == "GEMINI_INVALID_RESPONSE" and error.retryable
    assert error.message.startswith("Gemini sent an answer that could not be used")
    assert words in error.message, error.message


def test_gemini_endless_answer_is_cut_at_the_limit(tmp_path: Path) -> None:
    server = Endless("application/json")
    try:
        voice = GeminiVoice("test-gemini-key", base_url=server.url)
        with pytest.raises(ServiceError) as caught:
            voice.synthesize("你好", "zh-TW", tmp_path / "v.wav")
    finally:
        server.close()
    assert caught.value.code == "GEMINI_INVALID_RESPONSE"
    assert "the answer is over 32 MB" in caught.value.message
    assert server.sent < 60 << 20 and not (tmp_path / "v.wav").exists()


# --- D-ID and an OpenAI-compatible server ------------------------------------------------------


@pytest.fixture
def narration(tmp_path: Path) -> Path:
    import wave

    path = tmp_path / "intro.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(b"\x01\x00" * 24000)
    return path


@pytest.mark.parametrize(
    ("reply", "path", "words"),
    [
        (Reply(201, HTML, {"Content-Type": "text/html"}), "/audios",
         "/audios did not answer JSON (not JSON)"),
        (Reply(200, b"[" * 10_000, {"Content-Type": "application/json"}), "/talks/",
         "the JSON nests deeper than 64 levels"),
        (Reply(200, HTML, {"Content-Type": "video/mp4"}), "/results/",
         "the result is not a video (no video stream)"),
    ],
)  # fmt: skip
def test_did_garbage_is_its_own_error(
    tmp_path: Path, narration: Path, reply: Reply, path: str, words: str
) -> None:
    from tests.servers.did import FakeDID
    from ytmaker.providers.did import DIDAvatar

    with FakeDID() as server:
        avatar = DIDAvatar(server.api_key, server.url, presenter_image_url="https://x/face.png",
                           poll_interval=0.01, timeout=5)  # fmt: skip
        server.script(reply, path_contains=path)
        out = tmp_path / "avatar.mp4"
        with pytest.raises(ServiceError) as caught:
            avatar.make(narration, "intro", out)
        assert caught.value.code == "DID_INVALID_RESPONSE" and caught.value.retryable
        assert words in caught.value.message, caught.value.message
        assert not out.exists()


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(200, HTML, {"Content-Type": "application/json"}), "it is not JSON"),
        (Reply(200, b"[" * 10_000 + b"]" * 10_000, {"Content-Type": "application/json"}),
         "the JSON nests too deeply to read"),
    ],
)  # fmt: skip
def test_openai_garbage_is_its_own_error(reply: Reply, words: str) -> None:
    from tests.servers.openai import FakeOpenAI
    from ytmaker.providers.openai_writer import OpenAIScriptWriter

    with FakeOpenAI() as server:
        writer = OpenAIScriptWriter(server.api_key, model="m", base_url=server.base_url,
                                    timeout=10)  # fmt: skip
        server.script(reply)
        with pytest.raises(ServiceError) as caught:
            writer.write("夜市小吃", "zh-TW", RULES)
    assert caught.value.code == "OPENAI_INVALID_RESPONSE" and caught.value.retryable
    assert words in caught.value.message, caught.value.message


def test_openai_endless_answer_is_cut_at_the_limit() -> None:
    from ytmaker.providers.openai_writer import OpenAIScriptWriter

    server = Endless("application/json")
    try:
        writer = OpenAIScriptWriter("k", model="m", base_url=f"{server.url}/v1", timeout=30)
        with pytest.raises(ServiceError) as caught:
            writer.write("夜市小吃", "zh-TW", RULES)
    finally:
        server.close()
    assert caught.value.code == "OPENAI_INVALID_RESPONSE", caught.value.message
    assert "the answer is over 32 MB" in caught.value.message
