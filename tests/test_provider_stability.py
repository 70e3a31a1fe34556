"""StabilityImages with httpx against a fake Stability v2beta server."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.servers import assert_secret_hidden
from tests.servers.stability import FakeStability
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.stability import StabilityImages


@pytest.fixture
def server():
    with FakeStability() as fake:
        yield fake


@pytest.fixture
def images(server: FakeStability) -> StabilityImages:
    return StabilityImages(server.api_key, base_url=server.url)


def _fail(images: StabilityImages, tmp_path: Path, prompt: str = "a quiet harbour at dawn"):
    out = tmp_path / "img.png"
    with pytest.raises(ServiceError) as caught:
        images.make(prompt, 7, out)
    assert not out.exists()
    return caught.value


def test_generates_a_1920x1080_png(server, images, tmp_path: Path):
    out = tmp_path / "images" / "seg1.png"
    assert images.make("a night market in Taipei", 1234, out) == out

    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (1920, 1080)
    (request,) = server.requests
    assert request.path == "/v2beta/stable-image/generate/core"
    assert request.header("authorization") == f"Bearer {server.api_key}"
    assert request.header("accept") == "image/*"
    assert request.header("content-type").startswith("multipart/form-data")
    assert request.form["prompt"] == "a night market in Taipei"
    assert request.form["aspect_ratio"] == "16:9"
    assert request.form["seed"] == "1234"
    assert request.form["output_format"] == "png"


def test_other_engine_and_large_seed(server, tmp_path: Path):
    images = StabilityImages(server.api_key, base_url=server.url, engine="ultra")
    images.make("mountains", 2**40, tmp_path / "a.png")
    request = server.requests[-1]
    assert request.path.endswith("/ultra")
    assert 0 <= int(request.form["seed"]) <= 4294967294


def test_503_is_retryable_then_success(server, images, tmp_path: Path):
    server.fail_next(503)
    err = _fail(images, tmp_path)
    assert err.code == "STABILITY_UNAVAILABLE" and err.retryable is True
    assert len(server.requests) == 1
    images.make("a quiet harbour at dawn", 7, tmp_path / "img.png")
    assert (tmp_path / "img.png").exists()


def test_500_is_retryable(server, images, tmp_path: Path):
    server.fail_next(500)
    err = _fail(images, tmp_path)
    assert err.code == "STABILITY_SERVER_ERROR" and err.retryable is True


def test_429_uses_retry_after(server, images, tmp_path: Path):
    server.fail_next(429, headers={"Retry-After": "7"})
    err = _fail(images, tmp_path)
    assert err.code == "STABILITY_RATE_LIMITED"
    assert err.retryable is True
    assert err.retry_after == 7.0

    server.fail_next(429)  # no header: the documented 60 s timeout
    assert _fail(images, tmp_path).retry_after == 60.0


def test_wrong_key_401(server, tmp_path: Path):
    wrong = "sk-WRONG0123456789abcdef"
    err = _fail(StabilityImages(wrong, base_url=server.url), tmp_path)
    assert err.code == "STABILITY_INVALID_KEY"
    assert err.status == 401 and err.reason == "unauthorized"
    assert err.retryable is False
    assert "STABILITY_API_KEY" in err.message
    assert_secret_hidden(err, wrong)  # the fake echoes the header it got


def test_400_bad_request(server, images, tmp_path: Path):
    server.fail_next(400, message="negative_prompt: too long")
    err = _fail(images, tmp_path)
    assert err.code == "STABILITY_BAD_REQUEST"
    assert err.retryable is False
    assert "negative_prompt" in err.message


def test_403_content_moderation(server, images, tmp_path: Path):
    server.moderated_words = {"gore"}
    err = _fail(images, tmp_path, "gore everywhere")
    assert err.code == "STABILITY_CONTENT_FILTERED"
    assert err.status == 403 and err.reason == "content_moderation"
    assert err.retryable is False
    assert "reword" in err.message


def test_200_content_filtered(server, images, tmp_path: Path):
    server.filtered_words = {"crowd"}
    err = _fail(images, tmp_path, "a huge crowd")
    assert err.code == "STABILITY_CONTENT_FILTERED"
    assert err.status == 200 and err.reason == "CONTENT_FILTERED"
    assert err.retryable is False


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (413, "STABILITY_PAYLOAD_TOO_LARGE"),
        (422, "STABILITY_UNPROCESSABLE"),
        (402, "STABILITY_NO_CREDITS"),
    ],
)
def test_other_client_errors_are_final(server, images, tmp_path: Path, status, code):
    server.fail_next(status)
    err = _fail(images, tmp_path)
    assert err.code == code
    assert err.retryable is False


def test_dropped_connection_is_retryable(server, images, tmp_path: Path):
    server.drop_next()
    err = _fail(images, tmp_path)
    assert err.code == "STABILITY_CONNECTION_FAILED"
    assert err.retryable is True


def test_unreachable_server(tmp_path: Path):
    images = StabilityImages("sk-key-unreachable", base_url="http://127.0.0.1:9", timeout=2)
    err = _fail(images, tmp_path)
    assert err.retryable is True
    assert err.code in ("STABILITY_CONNECTION_FAILED", "STABILITY_TIMEOUT")


def test_a_slow_answer_times_out_as_retryable(server, tmp_path: Path):
    from tests.servers import Reply

    server.script(Reply(200, b"", delay=1.5))
    images = StabilityImages(server.api_key, base_url=server.url, timeout=0.4)
    err = _fail(images, tmp_path)
    assert err.code == "STABILITY_TIMEOUT" and err.retryable is True


# ---------------------------------------------------------------- error helpers


def test_redact_masks_keys_params_and_auth_headers():
    from ytmaker.redaction import redact

    text = (
        "key sk-abc123456 in https://x/y?key=AIzaSECRET&alt=json, Authorization: Bearer ya29.tok-en"
    )
    out = redact(text, ["sk-abc123456"])
    assert "sk-abc123456" not in out and "AIzaSECRET" not in out and "ya29.tok-en" not in out
    assert "alt=json" in out


def test_retry_after_parsing():
    from email.utils import formatdate

    from ytmaker.providers.errors import parse_duration, parse_retry_after

    assert parse_retry_after("120") == 120.0
    assert 25 <= parse_retry_after(formatdate(__import__("time").time() + 30, usegmt=True)) <= 31
    assert parse_retry_after("soon") is None
    assert parse_duration("17s") == 17.0 and parse_duration("1.5s") == 1.5
