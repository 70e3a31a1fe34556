"""A fake D-ID API: /audios upload, /talks create + poll, /credits, and the result video."""

from __future__ import annotations

import functools
import itertools
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers import FakeServer, Reply, Request


@functools.cache
def tiny_mp4() -> bytes:
    """A real 1 s 64x64 H.264 MP4 (the client checks that what it downloads is a video)."""
    from imageio_ffmpeg import get_ffmpeg_exe

    with tempfile.TemporaryDirectory(prefix="h-did-") as folder:
        out = Path(folder) / "clip.mp4"
        subprocess.run(
            [get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=c=blue:s=64x64:d=1",
             "-c:v", "libx264", "-pix_fmt", "yuv420p", "-y", str(out)],
            check=True, timeout=60,
        )  # fmt: skip
        return out.read_bytes()


_KINDS = {
    400: "BadRequestError",
    401: "AuthorizationError",
    402: "InsufficientCreditsError",
    403: "PermissionError",
    404: "NotFoundError",
    429: "TooManyRequestsError",
    451: "UnavailableForLegalReasonsError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}
_DESCRIPTIONS = {
    400: "invalid source_url",
    401: "Unauthorized",
    402: "not enough credits",
    403: "Forbidden",
    404: "Talk not found",
    429: "Too Many Requests",
    451: "Unavailable For Legal Reasons: content was flagged by moderation",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class Talk:
    id: str
    body: dict[str, Any]
    polls: int = 0
    outcome: str = "done"
    info: dict[str, Any] = field(default_factory=dict)


class FakeDID(FakeServer):
    """`Authorization: Basic <key as given>`. Talks finish after `polls_until_done` GETs with
    `outcome`: "done", "error", "rejected" or "never" (stays "started")."""

    name = "did"

    def __init__(self, api_key: str = "dGVzdEBleGFtcGxlLmNvbQ:did-test-secret") -> None:
        super().__init__()
        self.api_key = api_key
        self.polls_until_done = 2
        self.outcome = "done"
        self.talks: dict[str, Talk] = {}
        self.audios: dict[str, bytes] = {}
        self.credits = {"remaining": 17, "total": 20}
        self.result_video = tiny_mp4()  # a test that renders puts a longer MP4 here
        self._ids = itertools.count(1)

    def error(self, status: int, reason: str | None = None, message: str | None = None) -> Reply:
        return Reply(
            status,
            {
                "kind": reason or _KINDS.get(status, "UnknownError"),
                "description": message or _DESCRIPTIONS.get(status, "error"),
            },
        )

    def route(self, request: Request) -> Reply:
        if request.path.startswith("/results/"):
            return self._result(request)
        if request.header("authorization") != f"Basic {self.api_key}":
            return self.error(401)
        if request.path == "/audios" and request.method == "POST":
            return self._upload(request)
        if request.path == "/talks" and request.method == "POST":
            return self._create(request)
        match = re.fullmatch(r"/talks/(tlk_[\w-]+)", request.path)
        if match and request.method == "GET":
            return self._get(match.group(1))
        if request.path == "/credits" and request.method == "GET":
            return Reply(
                200,
                {
                    "credits": [
                        {
                            "owner_id": "auth0|fake",
                            "remaining": self.credits["remaining"],
                            "total": self.credits["total"],
                        }
                    ],
                    **self.credits,
                },
            )
        return self.error(404, message=f"{request.method} {request.path} not found")

    def _upload(self, request: Request) -> Reply:
        audio = request.form.get("audio")
        if not isinstance(audio, tuple) or not audio[1]:
            return self.error(400, "ValidationError", "audio file is required")
        name = f"s3://d-id-audios-prod/auth0|fake/{next(self._ids)}/{audio[0]}"
        self.audios[name] = audio[1]
        return Reply(201, {"url": name, "id": name.rsplit("/", 2)[-2]})

    def _create(self, request: Request) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "ValidationError", "body must be JSON")
        if not str(body.get("source_url", "")).startswith(("http://", "https://", "s3://")):
            return self.error(400, "ValidationError", "source_url is required")
        script = body.get("script") or {}
        if script.get("type") != "audio" or script.get("audio_url") not in self.audios:
            return self.error(400, "ValidationError", "script.audio_url must be an uploaded audio")
        talk = Talk(id=f"tlk_fake{next(self._ids)}", body=body, outcome=self.outcome)
        self.talks[talk.id] = talk
        return Reply(
            201,
            {
                "id": talk.id,
                "object": "talk",
                "created_by": "auth0|fake",
                "created_at": "2026-11-28T10:00:00.000Z",
                "status": "created",
            },
        )

    def _get(self, talk_id: str) -> Reply:
        talk = self.talks.get(talk_id)
        if talk is None:
            return self.error(404)
        talk.polls += 1
        body: dict[str, Any] = {
            "id": talk.id,
            "object": "talk",
            "source_url": talk.body["source_url"],
        }
        if talk.polls < self.polls_until_done or talk.outcome == "never":
            body["status"] = "created" if talk.polls == 1 else "started"
        elif talk.outcome == "done":
            body.update(
                status="done",
                duration=2.5,
                result_url=f"{self.url}/results/{talk.id}.mp4?X-Amz-Signature=fake",
            )
        elif talk.outcome == "error":
            body.update(
                status="error",
                error={
                    "kind": "FaceError",
                    "description": "Failed to detect a face in the source image",
                },
            )
        else:
            body.update(
                status="rejected",
                error={
                    "kind": "ModerationError",
                    "description": "The source image was rejected by moderation",
                },
            )
        return Reply(200, body)

    def _result(self, request: Request) -> Reply:
        # A presigned S3 URL: any other Authorization is refused, as S3 does.
        if request.header("authorization"):
            return Reply(
                400,
                "<Error><Code>InvalidArgument</Code><Message>Only one auth "
                "mechanism allowed</Message></Error>",
                {"Content-Type": "application/xml"},
            )
        return Reply(200, self.result_video, {"Content-Type": "video/mp4"})
