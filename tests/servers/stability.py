"""A fake Stability AI v2beta image API: POST /v2beta/stable-image/generate/{engine}."""

from __future__ import annotations

import base64
import functools
import io
import re
import uuid

from PIL import Image

from tests.servers import FakeServer, Reply, Request

_PATH = re.compile(r"^/v2beta/stable-image/generate/(core|ultra|sd3)$")
_NAMES = {
    400: "bad_request",
    401: "unauthorized",
    402: "payment_required",
    403: "content_moderation",
    404: "not_found",
    413: "payload_too_large",
    422: "invalid_language",
    429: "rate_limit_exceeded",
    500: "internal_error",
    503: "service_unavailable",
}
_ERRORS = {
    400: "aspect_ratio: must be one of 16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21",
    401: "authorization: invalid or missing API key",
    402: "You lack sufficient credits to make this request. Please purchase more credits.",
    403: "Your request was flagged by our content moderation system, as a result your request "
    "was denied and you were not charged.",
    413: "Your request was larger than 10MiB.",
    422: "English is the only supported language for this service.",
    429: "You have exceeded the rate limit of 150 requests within a 10 second period, and have "
    "been timed out for 60 seconds.",
    500: "An unexpected server error has occurred, please try again later.",
    503: "The service is temporarily unavailable.",
}
ASPECTS = {"16:9": (1344, 768), "1:1": (1024, 1024), "9:16": (768, 1344), "3:2": (1216, 832)}


class FakeStability(FakeServer):
    """Checks `authorization: Bearer <key>`, the multipart form and `Accept`.

    Prompts containing a word of `moderated_words` get 403 content_moderation; prompts
    containing a word of `filtered_words` get a 200 image with `finish-reason: CONTENT_FILTERED`
    (as the real API does with a blurred picture).
    """

    name = "stability"

    def __init__(self, api_key: str = "sk-test-stability-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.moderated_words: set[str] = set()
        self.filtered_words: set[str] = set()
        self.unavailable_words: set[str] = set()  # 503 for these prompts, every time

    def error(self, status: int, reason: str | None = None, message: str | None = None) -> Reply:
        return Reply(
            status,
            {
                "id": uuid.uuid4().hex,
                "name": reason or _NAMES.get(status, "error"),
                "errors": [message or _ERRORS.get(status, "error")],
            },
        )

    def route(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if not match or request.method != "POST":
            return self.error(404, message=f"{request.method} {request.path} not found")
        if request.header("authorization") != f"Bearer {self.api_key}":
            got = request.header("authorization") or "nothing"
            return self.error(401, message=f"authorization: invalid API key ({got})")
        if not (request.header("content-type") or "").startswith("multipart/form-data"):
            return self.error(400, message="content-type: must be multipart/form-data")
        accept = request.header("accept") or ""
        if accept not in ("image/*", "application/json"):
            return self.error(400, message="accept: must be image/* or application/json")
        form = request.form
        prompt = form.get("prompt") or ""
        if not prompt.strip():
            return self.error(400, message="prompt: cannot be empty")
        aspect = form.get("aspect_ratio", "1:1")
        if aspect not in ASPECTS:
            return self.error(400)
        fmt = form.get("output_format", "png")
        if fmt not in ("png", "jpeg", "webp"):
            return self.error(400, message="output_format: must be one of png, jpeg, webp")
        seed = int(form.get("seed") or 0)
        if not 0 <= seed <= 4294967294:
            return self.error(400, message="seed: must be between 0 and 4294967294")
        lowered = prompt.lower()
        if any(w in lowered for w in self.moderated_words):
            return self.error(403)
        if any(w in lowered for w in self.unavailable_words):
            return self.error(503)
        finish = "CONTENT_FILTERED" if any(w in lowered for w in self.filtered_words) else "SUCCESS"
        data = self.picture(*ASPECTS[aspect], fmt, blurred=finish != "SUCCESS")
        if accept == "application/json":
            return Reply(
                200,
                {"image": base64.b64encode(data).decode(), "finish_reason": finish, "seed": seed},
            )
        return Reply(
            200,
            data,
            {"Content-Type": f"image/{fmt}", "finish-reason": finish, "seed": str(seed)},
        )

    @staticmethod
    @functools.lru_cache(maxsize=16)  # the stand-in's own CPU is not what benchmarks measure
    def picture(width: int, height: int, fmt: str = "png", blurred: bool = False) -> bytes:
        image = Image.new("RGB", (width, height), (120, 120, 120) if blurred else (30, 90, 160))
        image.paste((230, 180, 40), (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
        out = io.BytesIO()
        image.save(out, format="JPEG" if fmt == "jpeg" else fmt.upper())
        return out.getvalue()
