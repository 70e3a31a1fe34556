"""DIDAvatar with httpx against a fake D-ID server."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import pytest

from tests.servers import assert_secret_hidden
from tests.servers.did import FakeDID, tiny_mp4
from ytmaker.providers.did import DIDAvatar
from ytmaker.providers.errors import ServiceError

FACE = "https://example.com/presenter.png"


@pytest.fixture
def server():
    with FakeDID() as fake:
        yield fake


@pytest.fixture
def avatar(server: FakeDID) -> DIDAvatar:
    return DIDAvatar(
        server.api_key, server.url, presenter_image_url=FACE, poll_interval=0.01, timeout=5
    )


@pytest.fixture
def narration(tmp_path: Path) -> Path:
    path = tmp_path / "intro.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(b"\x01\x00" * 24000)
    return path


def _fail(avatar: DIDAvatar, narration: Path, tmp_path: Path) -> ServiceError:
    out = tmp_path / "avatar.mp4"
    with pytest.raises(ServiceError) as caught:
        avatar.make(narration, "intro", out)
    assert not out.exists()
    return caught.value


def test_uploads_audio_creates_talk_polls_and_downloads(server, avatar, narration, tmp_path):
    out = tmp_path / "clips" / "intro.mp4"
    assert avatar.make(narration, "intro", out) == out
    assert out.read_bytes() == tiny_mp4()

    upload, create, *polls, download = server.requests
    assert (upload.method, upload.path) == ("POST", "/audios")
    assert upload.header("authorization") == f"Basic {server.api_key}"
    filename, data, mime = upload.form["audio"]
    assert filename == "intro.wav" and data == narration.read_bytes() and mime == "audio/wav"
    assert (create.method, create.path) == ("POST", "/talks")
    body = create.json()
    assert body["source_url"] == FACE
    assert body["script"] == {"type": "audio", "audio_url": next(iter(server.audios))}
    assert [p.path for p in polls] == [f"/talks/{next(iter(server.talks))}"] * 2
    assert download.path.startswith("/results/")
    assert download.header("authorization") is None  # presigned URL: no API key sent there


def test_get_quota(server, avatar):
    assert avatar.get_quota() == {"remaining": 17, "total": 20}
    assert server.requests[-1].path == "/credits"


def test_503_is_retryable_then_success(server, avatar, narration, tmp_path):
    server.fail_next(503, path_contains="/talks", method="POST")
    err = _fail(avatar, narration, tmp_path)
    assert err.code == "DID_UNAVAILABLE" and err.retryable is True
    assert avatar.make(narration, "intro", tmp_path / "avatar.mp4").exists()


def test_429_with_retry_after(server, avatar, narration, tmp_path):
    server.fail_next(429, headers={"Retry-After": "30"})
    err = _fail(avatar, narration, tmp_path)
    assert err.code == "DID_RATE_LIMITED"
    assert err.retryable is True and err.retry_after == 30.0


def test_wrong_key_401(server, narration, tmp_path):
    wrong = "Zm9vQGJhci5jb20:wrong-did-secret"
    avatar = DIDAvatar(wrong, server.url, presenter_image_url=FACE, poll_interval=0.01)
    err = _fail(avatar, narration, tmp_path)
    assert err.code == "DID_INVALID_KEY"
    assert err.reason == "AuthorizationError"
    assert err.retryable is False
    assert "DID_API_KEY" in err.message
    assert_secret_hidden(err, wrong)


def test_400_bad_request(server, avatar, narration, tmp_path):
    server.fail_next(400, "ValidationError", "source_url must be a public image")
    err = _fail(avatar, narration, tmp_path)
    assert err.code == "DID_BAD_REQUEST" and err.retryable is False
    assert "source_url" in err.message


def test_402_no_credits(server, avatar, narration, tmp_path):
    server.fail_next(402)
    err = _fail(avatar, narration, tmp_path)
    assert err.code == "DID_NO_CREDITS" and err.retryable is False


def test_rejected_talk(server, avatar, narration, tmp_path):
    server.outcome = "rejected"
    err = _fail(avatar, narration, tmp_path)
    assert err.code == "DID_REJECTED"
    assert err.retryable is False
    assert "rejected by moderation" in err.message
    assert err.details["talk_id"].startswith("tlk_")


def test_failed_talk(server, avatar, narration, tmp_path):
    server.outcome = "error"
    err = _fail(avatar, narration, tmp_path)
    assert err.code == "DID_FAILED"
    assert err.retryable is False
    assert "Failed to detect a face" in err.message


def test_a_talk_that_never_finishes_times_out(server, narration, tmp_path):
    server.outcome = "never"
    avatar = DIDAvatar(
        server.api_key, server.url, presenter_image_url=FACE, poll_interval=0.05, timeout=0.4
    )
    started = time.monotonic()
    err = _fail(avatar, narration, tmp_path)
    assert time.monotonic() - started < 2
    assert err.code == "DID_TIMEOUT"
    assert err.retryable is True
    assert err.details["talk_status"] == "started"
    assert 3 <= len(server.requests_to("/talks/", "GET")) <= 12


def test_dropped_connection_while_polling(server, avatar, narration, tmp_path):
    server.drop_next(path_contains="/talks/", method="GET")
    err = _fail(avatar, narration, tmp_path)
    assert err.code == "DID_CONNECTION_FAILED" and err.retryable is True


def test_errors_survive_pickling(server, avatar, narration, tmp_path):
    """Prefect pickles a failed task's exception; code, retryable and details must survive."""
    import pickle

    server.outcome = "rejected"
    err = _fail(avatar, narration, tmp_path)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is ServiceError
    assert copy.to_info() == err.to_info()
    assert str(copy) == str(err)
