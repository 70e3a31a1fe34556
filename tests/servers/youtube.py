"""A fake YouTube Data API v3: resumable videos.insert, thumbnails.set and the OAuth token URL.

Resumable protocol as Google serves it: `POST /upload/youtube/v3/videos?uploadType=resumable`
with the metadata → exactly 200 + `Location` (the session URI); chunks `PUT` there with
`Content-Range: bytes S-E/TOTAL` → 308 + `Range: bytes=0-N` until the last one → 200 with the
video resource; `Content-Range: bytes */TOTAL` asks for the status. `drop_during_chunk(n,
keep=k)` makes the n-th chunk PUT keep only its first k bytes and reset the connection.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.servers import FakeServer, Reply, Request

_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_STATUS_QUERY = re.compile(r"bytes \*/(\d+|\*)")
_ERRORS: dict[str, tuple[int, str, str, str]] = {
    # reason: (status, domain, message, status name)
    "quotaExceeded": (
        403,
        "youtube.quota",
        "The request cannot be completed because you have "
        'exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
        "PERMISSION_DENIED",
    ),
    "uploadLimitExceeded": (
        400,
        "youtube.video",
        "The user has exceeded the number of videos they may upload.",
        "INVALID_ARGUMENT",
    ),
    "authError": (
        401,
        "global",
        "Request had invalid authentication credentials. Expected OAuth "
        "2 access token, login cookie or other valid authentication credential.",
        "UNAUTHENTICATED",
    ),
    "forbidden": (
        403,
        "youtube.thumbnail",
        "The authenticated user doesn't have permissions to "
        "upload and set custom video thumbnails.",
        "PERMISSION_DENIED",
    ),
    "videoNotFound": (
        404,
        "youtube.thumbnail",
        "The video that you are trying to update cannot be found.",
        "NOT_FOUND",
    ),
    "rateLimitExceeded": (
        403,
        "usageLimits",
        "The request was sent too fast.",
        "PERMISSION_DENIED",
    ),
    "backendError": (503, "global", "Backend Error", "UNAVAILABLE"),
    "internalError": (500, "global", "Internal Error", "INTERNAL"),
    "invalidTitle": (
        400,
        "youtube.video",
        "The request metadata specifies an invalid or empty video title.",
        "INVALID_ARGUMENT",
    ),
}
_DEFAULT_REASON = {
    400: "invalidTitle",
    401: "authError",
    403: "quotaExceeded",
    404: "videoNotFound",
    500: "internalError",
    503: "backendError",
}


@dataclass
class Session:
    id: str
    total: int
    metadata: dict[str, Any]
    content_type: str
    data: bytearray = field(default_factory=bytearray)
    chunks: int = 0
    video_id: str | None = None


@dataclass
class ChunkLog:
    """One PUT of media bytes: the range the client said, and what the server kept."""

    session: str
    start: int
    end: int  # inclusive, as in Content-Range
    received: int
    kept: int
    dropped: bool = False


class FakeYouTube(FakeServer):
    name = "youtube"

    def __init__(self, access_token: str = "ya29.test-access-token") -> None:
        super().__init__()
        self.access_token = access_token
        self.refresh_token = "1//test-refresh-token"
        self.client_id = "fake-client.apps.googleusercontent.com"
        self.client_secret = "fake-client-secret"
        self.refreshed_token = "ya29.refreshed-access-token"
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.thumbnails: dict[str, bytes] = {}
        self.chunk_log: list[ChunkLog] = []
        self.status_queries = 0
        self._drops: dict[int, int] = {}  # chunk number -> bytes to keep
        self._ids = itertools.count(1)

    # ------------------------------------------------------------ scripting

    def drop_during_chunk(self, number: int, keep: int | None = None) -> None:
        """The `number`-th chunk PUT (1-based, counted per server) keeps `keep` bytes (default:
        half) and then the connection is reset with no answer."""
        self._drops[number] = -1 if keep is None else keep

    def error(self, status: int, reason: str | None = None, message: str | None = None) -> Reply:
        reason = reason or _DEFAULT_REASON.get(status, "badRequest")
        code, domain, text, status_name = _ERRORS.get(
            reason, (status, "global", message or "Error", "UNKNOWN")
        )
        text = message or text
        return Reply(
            status,
            {
                "error": {
                    "code": status,
                    "message": text,
                    "errors": [{"message": text, "domain": domain, "reason": reason}],
                    "status": status_name,
                }
            },
        )

    # ------------------------------------------------------------ routes

    def route(self, request: Request) -> Reply:
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        if request.header("authorization") not in (
            f"Bearer {self.access_token}",
            f"Bearer {self.refreshed_token}",
        ):
            return self.error(401, "authError")
        if request.path == "/upload/youtube/v3/videos":
            if request.method == "POST" and request.query.get("uploadType") == "resumable":
                return self._start(request)
            if request.method == "PUT" and request.query.get("upload_id"):
                return self._put(request)
        if request.path == "/upload/youtube/v3/thumbnails/set" and request.method == "POST":
            return self._thumbnail(request)
        return self.error(404, "notFound", f"{request.method} {request.path} not found")

    def _token(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") != self.refresh_token
            or form.get("client_id") != self.client_id
        ):
            return Reply(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        return Reply(
            200, {"access_token": self.refreshed_token, "expires_in": 3599, "token_type": "Bearer"}
        )

    def _start(self, request: Request) -> Reply:
        parts = set((request.query.get("part") or "").split(","))
        if not {"snippet", "status"} <= parts:
            return self.error(400, "invalidPart", "part must name snippet and status")
        total = request.header("x-upload-content-length")
        content_type = request.header("x-upload-content-type") or ""
        try:
            metadata = request.json()
        except ValueError:
            return self.error(400, "parseError", "Parse Error")
        if not (metadata or {}).get("snippet", {}).get("title"):
            return self.error(400, "invalidTitle")
        if not content_type.startswith("video/") and content_type != "application/octet-stream":
            return self.error(400, "invalidContentType", "media must be a video")
        session = Session(
            id=f"ABCdef{next(self._ids)}",
            total=int(total) if total else -1,
            metadata=metadata,
            content_type=content_type,
        )
        self.sessions[session.id] = session
        location = (
            f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&part="
            f"{request.query['part']}&upload_id={session.id}"
        )
        return Reply(200, b"", {"Location": location, "X-GUploader-UploadID": session.id})

    def _range_headers(self, session: Session) -> dict[str, str]:
        return {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}

    def _put(self, request: Request) -> Reply:
        session = self.sessions.get(request.query["upload_id"])
        if session is None:
            return self.error(404, "notFound", "No such upload session.")
        content_range = request.header("content-range") or ""
        if session.video_id:
            return Reply(200, self.videos[session.video_id])
        query = _STATUS_QUERY.fullmatch(content_range)
        if query:
            self.status_queries += 1
            return Reply(308, b"", self._range_headers(session))
        match = _RANGE.fullmatch(content_range)
        if not match:
            return self.error(400, "badContent", f"bad Content-Range {content_range!r}")
        start, end = int(match.group(1)), int(match.group(2))
        if match.group(3) != "*":
            session.total = int(match.group(3))
        body = request.body
        if len(body) != end - start + 1:
            return self.error(400, "badContent", "Content-Range does not match the body size")
        if start > len(session.data):
            return self.error(
                400, "badContent", f"chunk starts at {start}, server has {len(session.data)}"
            )
        session.chunks += 1
        number = sum(1 for _ in self.chunk_log) + 1
        fresh = body[len(session.data) - start :]
        keep = self._drops.pop(number, None)
        if keep is not None:
            fresh = fresh[: (len(fresh) // 2 if keep < 0 else keep)]
            session.data += fresh
            self.chunk_log.append(ChunkLog(session.id, start, end, len(body), len(fresh), True))
            return Reply(drop=True)
        session.data += fresh
        self.chunk_log.append(ChunkLog(session.id, start, end, len(body), len(fresh)))
        if session.total >= 0 and len(session.data) >= session.total:
            return Reply(200, self._finish(session))
        return Reply(308, b"", self._range_headers(session))

    def _finish(self, session: Session) -> dict[str, Any]:
        video_id = f"vid{next(self._ids):08d}"
        session.video_id = video_id
        meta = session.metadata
        status = dict(meta.get("status") or {})
        status.update(uploadStatus="uploaded")
        status.setdefault("privacyStatus", "public")
        video = {
            "kind": "youtube#video",
            "etag": "fake-etag",
            "id": video_id,
            "snippet": {
                **meta.get("snippet", {}),
                "channelId": "UCfake",
                "publishedAt": "2026-11-28T10:00:00Z",
            },
            "status": status,
        }
        self.videos[video_id] = video
        return video

    def _thumbnail(self, request: Request) -> Reply:
        video_id = request.query.get("videoId")
        if request.query.get("uploadType") not in ("media", "multipart", "resumable"):
            return self.error(400, "badRequest", "uploadType is required")
        if video_id not in self.videos:
            return self.error(404, "videoNotFound")
        if not (request.header("content-type") or "").startswith(("image/jpeg", "image/png")):
            return self.error(400, "invalidImage", "The thumbnail must be a JPEG or PNG image.")
        if request.body_size > 2 * 1024 * 1024:
            return self.error(413, "mediaBodyTooBig", "The thumbnail is larger than 2 MB.")
        self.thumbnails[video_id] = request.body
        base = f"https://i.ytimg.com/vi/{video_id}"
        return Reply(
            200,
            {
                "kind": "youtube#thumbnailSetResponse",
                "etag": "fake-etag",
                "items": [
                    {
                        "default": {"url": f"{base}/default.jpg", "width": 120, "height": 90},
                        "high": {"url": f"{base}/hqdefault.jpg", "width": 480, "height": 360},
                    }
                ],
            },
        )

    # ------------------------------------------------------------ assertions helpers

    def stored(self, video_id: str) -> bytes:
        for session in self.sessions.values():
            if session.video_id == video_id:
                return bytes(session.data)
        raise KeyError(video_id)

    def metadata_json(self) -> list[dict[str, Any]]:
        return [
            json.loads(r.body)
            for r in self.requests_to("/upload/youtube/v3/videos", "POST")
            if r.body
        ]
