"""YouTubePublisher with google-api-python-client against a fake YouTube Data API v3."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials

from tests.servers import assert_secret_hidden
from tests.servers.youtube import FakeYouTube
from ytmaker.providers.base import Published, PublishRequest
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.youtube import (
    CHUNK_UNIT,
    QUOTA_COSTS,
    YouTubePublisher,
    clean_tags,
    video_body,
)

SIZE = CHUNK_UNIT * 3 + 1000  # four chunks of 256 KiB (the last one short)
REQUEST = PublishRequest(
    title="台灣夜市 <全攻略>",
    description="夜市小吃介紹。\n本影片由 AI 工具協助製作。",
    tags=["夜市", "台灣 小吃", "food"],
    language="zh-TW",
    privacy="unlisted",
)


@pytest.fixture
def server():
    with FakeYouTube() as fake:
        yield fake


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    video = tmp_path / "final.mp4"
    video.write_bytes(os.urandom(SIZE))
    thumb = tmp_path / "thumb.jpg"
    thumb.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2000))
    return video, thumb


def publisher(server: FakeYouTube, token: str | None = None, **kwargs) -> YouTubePublisher:
    kwargs.setdefault("resume_delay", 0)
    return YouTubePublisher(
        None,
        None,
        api_endpoint=server.url,
        chunk_size=CHUNK_UNIT,
        credentials=Credentials(token=token or server.access_token),
        **kwargs,
    )


def _puts(server: FakeYouTube) -> list[str]:
    return [r.header("content-range") for r in server.requests_to("/videos", "PUT")]


def test_uploads_in_chunks_then_sets_the_thumbnail(server, files):
    video, thumb = files
    progress: list[tuple[int, int]] = []
    sessions: list[str] = []
    pub = publisher(
        server,
        on_progress=lambda done, total: progress.append((done, total)),
        on_session=sessions.append,
    )

    result = pub.publish(video, thumb, REQUEST)

    assert isinstance(result, Published)
    assert result.video_url == f"https://www.youtube.com/watch?v={result.video_id}"
    assert server.stored(result.video_id) == video.read_bytes()
    start = server.requests_to("/upload/youtube/v3/videos", "POST")[0]
    assert start.query["uploadType"] == "resumable"
    assert set(start.query["part"].split(",")) == {"snippet", "status"}
    assert start.header("authorization") == f"Bearer {server.access_token}"
    assert start.header("x-upload-content-length") == str(SIZE)
    assert start.header("x-upload-content-type") == "video/mp4"
    body = start.json()
    assert body["snippet"] == {
        "title": "台灣夜市 全攻略",
        "description": REQUEST.description,
        "tags": ["夜市", "台灣 小吃", "food"],
        "categoryId": "22",
        "defaultLanguage": "zh-TW",
        "defaultAudioLanguage": "zh-TW",
    }
    assert body["status"]["privacyStatus"] == "unlisted"
    assert body["status"]["selfDeclaredMadeForKids"] is False
    assert body["status"]["containsSyntheticMedia"] is True
    assert _puts(server) == [
        f"bytes 0-{CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {CHUNK_UNIT}-{2 * CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {2 * CHUNK_UNIT}-{3 * CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {3 * CHUNK_UNIT}-{SIZE - 1}/{SIZE}",
    ]
    assert [p[0] for p in progress] == [CHUNK_UNIT, 2 * CHUNK_UNIT, 3 * CHUNK_UNIT, SIZE]
    assert all(total == SIZE for _, total in progress)
    assert len(sessions) == 1 and "upload_id=" in sessions[0]
    assert pub.session_uri == sessions[0]
    (thumb_request,) = server.requests_to("/thumbnails/set", "POST")
    assert thumb_request.query["videoId"] == result.video_id
    assert thumb_request.query["uploadType"] == "media"
    assert thumb_request.header("content-type") == "image/jpeg"
    assert server.thumbnails[result.video_id] == thumb.read_bytes()


def test_publish_at_forces_private(server, files):
    request = PublishRequest(
        title="t", description="d", privacy="public", publish_at="2026-12-24T12:00:00Z"
    )
    publisher(server).publish(*files, request)
    status = server.metadata_json()[0]["status"]
    assert status["privacyStatus"] == "private"
    assert status["publishAt"] == "2026-12-24T12:00:00Z"


def test_a_dropped_connection_resumes_from_the_server_range(server, files):
    video, thumb = files
    server.drop_during_chunk(2, keep=1000)  # the 2nd chunk: 1000 bytes arrive, then RST
    pub = publisher(server)

    result = pub.publish(video, thumb, REQUEST)

    assert server.stored(result.video_id) == video.read_bytes()
    assert server.status_queries == 1  # Content-Range: bytes */TOTAL after the drop
    log = server.chunk_log
    assert [c.dropped for c in log] == [False, True, False, False]
    confirmed = CHUNK_UNIT + 1000
    assert log[2].start == confirmed  # continued from the server's Range, not the chunk start
    # nothing the server had confirmed was sent again: every byte after the drop is new
    assert all(c.received == c.kept for c in log[2:])
    assert sum(c.received for c in log[2:]) == SIZE - confirmed
    assert "bytes */" + str(SIZE) in _puts(server)


def test_too_many_drops_raise_a_retryable_error_that_can_resume(server, files):
    video, thumb = files
    server.drop_during_chunk(2)
    sessions: list[str] = []
    first = publisher(server, max_resumes=0, on_session=sessions.append)
    with pytest.raises(ServiceError) as caught:
        first.publish(video, thumb, REQUEST)
    err = caught.value
    assert err.code == "YOUTUBE_CONNECTION_FAILED" and err.retryable is True
    assert err.details["session_uri"] == sessions[0]
    kept = len(next(iter(server.sessions.values())).data)

    result = publisher(server).publish(video, thumb, REQUEST, resume_uri=sessions[0])

    assert len(server.sessions) == 1  # no second upload session
    assert server.stored(result.video_id) == video.read_bytes()
    assert server.chunk_log[2].start == kept
    assert all(c.received == c.kept for c in server.chunk_log[2:])


def test_503_on_a_chunk_raises_and_a_later_call_resumes(server, files):
    video, thumb = files
    server.fail_next(503, path_contains="/videos", method="PUT")
    pub = publisher(server)
    with pytest.raises(ServiceError) as caught:
        pub.publish(video, thumb, REQUEST)
    assert caught.value.code == "YOUTUBE_UNAVAILABLE" and caught.value.retryable is True
    result = publisher(server).publish(
        video, thumb, REQUEST, resume_uri=caught.value.details["session_uri"]
    )
    assert server.stored(result.video_id) == video.read_bytes()


def test_503_at_session_start_is_retryable_then_success(server, files):
    server.fail_next(503, path_contains="/videos", method="POST")
    pub = publisher(server)
    with pytest.raises(ServiceError) as caught:
        pub.publish(*files, REQUEST)
    assert caught.value.code == "YOUTUBE_UNAVAILABLE"
    assert caught.value.retryable is True
    assert not server.requests_to("/videos", "PUT")
    assert pub.publish(*files, REQUEST).video_id


def test_429_with_retry_after(server, files):
    server.fail_next(
        429, "rateLimitExceeded", headers={"Retry-After": "12"}, path_contains="/videos"
    )
    with pytest.raises(ServiceError) as caught:
        publisher(server).publish(*files, REQUEST)
    assert caught.value.code == "YOUTUBE_RATE_LIMITED"
    assert caught.value.retryable is True and caught.value.retry_after == 12.0


def test_quota_exceeded_is_final(server, files):
    server.fail_next(403, "quotaExceeded", path_contains="/videos")
    with pytest.raises(ServiceError) as caught:
        publisher(server).publish(*files, REQUEST)
    err = caught.value
    assert err.code == "YOUTUBE_QUOTA_EXCEEDED"
    assert err.retryable is False
    assert err.details["domain"] == "youtube.quota"
    assert "midnight Pacific" in err.message
    assert not server.requests_to("/videos", "PUT")


def test_upload_limit_exceeded_is_final(server, files):
    server.fail_next(400, "uploadLimitExceeded", path_contains="/videos")
    with pytest.raises(ServiceError) as caught:
        publisher(server).publish(*files, REQUEST)
    assert caught.value.code == "YOUTUBE_UPLOAD_LIMIT"
    assert caught.value.retryable is False


def test_400_invalid_metadata(server, files):
    server.fail_next(400, "invalidTitle", path_contains="/videos")
    with pytest.raises(ServiceError) as caught:
        publisher(server).publish(*files, REQUEST)
    assert caught.value.code == "YOUTUBE_BAD_REQUEST"
    assert caught.value.reason == "invalidTitle"
    assert caught.value.retryable is False


def test_401_with_an_unrefreshable_token(server, files):
    bad = "ya29.a-revoked-access-token"
    with pytest.raises(ServiceError) as caught:
        publisher(server, token=bad).publish(*files, REQUEST)
    err = caught.value
    assert err.code == "YOUTUBE_INVALID_KEY"
    assert err.retryable is False
    assert "OAuth" in err.message and "YOUTUBE_TOKEN_FILE" in err.message
    assert_secret_hidden(err, bad)


def _token_file(server: FakeYouTube, path: Path, refresh_token: str | None = None) -> Path:
    expired = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None)
    path.write_text(
        json.dumps(
            {
                "token": "ya29.expired-token",
                "refresh_token": refresh_token or server.refresh_token,
                "token_uri": f"{server.url}/token",
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "scopes": ["https://www.googleapis.com/auth/youtube.upload"],
                "expiry": expired.isoformat() + "Z",
            }
        )
    )
    return path


def test_an_expired_stored_token_is_refreshed_and_saved(server, files, tmp_path):
    token = _token_file(server, tmp_path / "token.json")
    pub = YouTubePublisher(
        tmp_path / "client_secret.json",
        token,
        api_endpoint=server.url,
        chunk_size=CHUNK_UNIT,
        token_uri=f"{server.url}/token",
    )
    result = pub.publish(*files, REQUEST)

    assert result.video_id
    assert len(server.requests_to("/token", "POST")) == 1
    uploads = server.requests_to("/upload/")
    assert {r.header("authorization") for r in uploads} == {f"Bearer {server.refreshed_token}"}
    stored = json.loads(token.read_text())
    assert stored["token"] == server.refreshed_token
    assert stored["refresh_token"] == server.refresh_token
    assert oct(token.stat().st_mode & 0o777) == "0o600"


def test_a_revoked_refresh_token_asks_for_the_oauth_flow(server, files, tmp_path):
    token = _token_file(server, tmp_path / "token.json", refresh_token="1//revoked")
    pub = YouTubePublisher(
        None, token, api_endpoint=server.url, chunk_size=CHUNK_UNIT, token_uri=f"{server.url}/token"
    )
    with pytest.raises(ServiceError) as caught:
        pub.publish(*files, REQUEST)
    err = caught.value
    assert err.code == "YOUTUBE_INVALID_KEY" and err.retryable is False
    assert "OAuth" in err.message
    assert_secret_hidden(err, "1//revoked", server.client_secret)
    assert not server.requests_to("/upload/")


def test_missing_token_file(files, tmp_path):
    pub = YouTubePublisher(None, tmp_path / "nope.json", api_endpoint="http://127.0.0.1:9/")
    with pytest.raises(ServiceError) as caught:
        pub.publish(*files, REQUEST)
    assert caught.value.reason == "missing_token"
    assert "OAuth" in caught.value.message


def test_a_thumbnail_failure_reports_the_uploaded_video(server, files):
    server.fail_next(403, "forbidden", path_contains="/thumbnails")
    with pytest.raises(ServiceError) as caught:
        publisher(server).publish(*files, REQUEST)
    err = caught.value
    assert err.code == "YOUTUBE_FORBIDDEN" and err.retryable is False
    assert err.details["uploaded"] is True
    assert err.details["thumbnail_retryable"] is False
    video_id = err.details["video_id"]
    assert video_id in server.videos and video_id in err.message

    publisher(server).set_thumbnail(video_id, files[1])  # only the thumbnail is retried
    assert server.thumbnails[video_id] == files[1].read_bytes()


def test_chunk_size_must_be_a_multiple_of_256k():
    with pytest.raises(ValueError):
        YouTubePublisher(None, None, chunk_size=CHUNK_UNIT + 1)


def test_quota_costs_and_metadata_cleaning():
    assert QUOTA_COSTS == {"videos.insert": 1, "thumbnails.set": 50}
    body = video_body(PublishRequest(title="x" * 150, description="<b>hi</b>", tags=[]))
    assert len(body["snippet"]["title"]) == 100
    assert body["snippet"]["description"] == "bhi/b"
    tags = clean_tags([f"tag{i:03d}" for i in range(200)])
    assert sum(len(t) for t in tags) + len(tags) - 1 <= 500


def test_a_transient_thumbnail_failure_never_retries_the_upload(server, files):
    server.fail_next(503, path_contains="/thumbnails")
    with pytest.raises(ServiceError) as caught:
        publisher(server).publish(*files, REQUEST)
    assert caught.value.retryable is False  # a task retry would upload the video twice
    assert caught.value.details["thumbnail_retryable"] is True
    assert len(server.videos) == 1
