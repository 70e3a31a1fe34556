"""Stability AI v2beta Stable Image through httpx: one PNG per description, 1920x1080 (16:9)
or, for a Short, 1080x1920 (asked for as 9:16, so nothing is cropped away but the rounding)."""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from ytmaker.deadline import cap
from ytmaker.files import atomic_output
from ytmaker.media.headers import HEAD_BYTES, image_size
from ytmaker.providers import bounded
from ytmaker.providers.base import Gate, paid_call
from ytmaker.providers.bounded import MB, AnswerTooLarge
from ytmaker.providers.errors import ServiceError, chain
from ytmaker.providers.errors.http import (
    from_httpx_response,
    from_transport_error,
    invalid_response,
)

SIZE = (1920, 1080)
# What an answer may be: the service's pictures are at most ~1.5k a side and a few MB; a
# 20000x20000 PNG is refused from its header (decoded it would take 1.6 GB).
MAX_ANSWER_BYTES = 50 * MB
MAX_SIDE = 4096
MAX_PIXELS = 4096 * 4096
MAX_PROMPT = 10000
MAX_SEED = 4294967294


class StabilityImages:
    """Implements ImageMaker: `POST /v2beta/stable-image/generate/{engine}` (multipart)."""

    name = "stability"

    metered_service = "stability"  # each make() is one counted (paid) image

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.stability.ai",
        engine: str = "core",
        *,
        negative_prompt: str | None = "text, letters, watermark, logo",
        style_preset: str | None = None,
        timeout: float = 120.0,
        gate: Gate = paid_call,
        size: tuple[int, int] = SIZE,
        aspect_ratio: str = "16:9",
    ) -> None:
        if not api_key:
            raise ServiceError(
                "No Stability AI API key: set STABILITY_API_KEY (or use the local images).",
                provider="stability",
                kind="INVALID_KEY",
                reason="missing_key",
            )
        if engine not in ("core", "ultra", "sd3"):
            raise ValueError("engine must be core, ultra or sd3")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.engine = engine
        self.negative_prompt = negative_prompt
        self.style_preset = style_preset
        self.timeout = timeout
        self.gate = gate
        self.size, self.aspect_ratio = size, aspect_ratio

    def __repr__(self) -> str:
        return f"StabilityImages(engine={self.engine!r}, base_url={self.base_url!r})"

    def make(self, description: str, seed: int, out_path: Path) -> Path:
        if not description or not description.strip():
            raise ServiceError(
                "The segment has no image description to draw.",
                provider="stability",
                kind="BAD_REQUEST",
                reason="empty_prompt",
            )
        fields = {
            "prompt": description.strip()[:MAX_PROMPT],
            "aspect_ratio": self.aspect_ratio,
            "seed": str(int(seed) % (MAX_SEED + 1)),
            "output_format": "png",
        }
        if self.negative_prompt and self.engine != "sd3":
            fields["negative_prompt"] = self.negative_prompt
        if self.style_preset:
            fields["style_preset"] = self.style_preset
        # Every field as a nameless file part forces multipart/form-data, as the API requires.
        files = {name: (None, value) for name, value in fields.items()}
        url = f"{self.base_url}/v2beta/stable-image/generate/{self.engine}"
        headers = {"authorization": f"Bearer {self.api_key}", "accept": "image/*"}
        secrets = [self.api_key]
        try:
            with self.gate():
                response = _client().post(
                    url, files=files, headers=headers, timeout=_timeout(cap(self.timeout))
                )
        except httpx.TransportError as exc:
            err = from_transport_error("stability", exc, secrets=secrets)
            raise err from err.__cause__
        except AnswerTooLarge as exc:
            raise chain(invalid_response("stability", str(exc), secrets=secrets), exc) from None
        if response.status_code != 200:
            raise from_httpx_response("stability", response, secrets=secrets)
        finish = (response.headers.get("finish-reason") or "SUCCESS").upper()
        data = response.content
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                payload = bounded.loads(response.content)
                if not isinstance(payload, dict):
                    raise ValueError(f"a JSON {type(payload).__name__}, not an object")
                finish = str(payload.get("finish_reason") or finish).upper()
                data = base64.b64decode(str(payload.get("image") or ""))
            except (ValueError, TypeError) as exc:
                raise invalid_response(
                    "stability", "the JSON answer is unreadable", secrets=secrets
                ) from exc
        if finish == "CONTENT_FILTERED":
            raise ServiceError(
                "Stability AI filtered the generated image for moderation reasons "
                "(finish-reason CONTENT_FILTERED): reword the segment's image description and "
                "run again.",
                provider="stability",
                kind="CONTENT_FILTERED",
                status=200,
                reason="CONTENT_FILTERED",
                secrets=secrets,
                seed=response.headers.get("seed"),
            )
        if finish != "SUCCESS":
            raise invalid_response("stability", f"finish-reason {finish}", secrets=secrets)
        write_cover_png(data, Path(out_path), self.size)
        return Path(out_path)


@functools.cache
def _client() -> httpx.Client:
    """One connection pool per process: a new client costs 20 ms of TLS set-up, and a new
    connection a handshake with the service, inside the image's slot."""
    return bounded.client(MAX_ANSWER_BYTES)


def _timeout(seconds: float) -> httpx.Timeout:
    """Per request: the service's time limit, cut to what the stage has left."""
    return httpx.Timeout(seconds, connect=min(15.0, seconds))


def check_header(data: bytes) -> None:
    """A PNG, JPEG or WebP of a size worth decoding, read from its header before decoding."""
    header = image_size(data[:HEAD_BYTES])
    if header is None:
        said = " ".join(data[:40].decode("ascii", "replace").split())
        raise invalid_response(
            "stability", f"the answer is not a PNG, JPEG or WebP image (it starts {said!r})"
        )
    kind, width, height = header
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS or min(width, height) < 1:
        raise invalid_response(
            "stability",
            f"the {kind} is {width}x{height} pixels; at most {MAX_SIDE} a side are read",
            width=width,
            height=height,
        )


def write_cover_png(data: bytes, out_path: Path, size: tuple[int, int] = SIZE) -> None:
    """Scale the picture to cover `size`, crop the centre, and save it as PNG atomically."""
    check_header(data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            fitted = ImageOps.fit(image.convert("RGB"), size, Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise chain(
            invalid_response("stability", f"the image cannot be decoded ({exc})"), exc
        ) from None
    with atomic_output(out_path) as tmp:
        fitted.save(tmp, format="PNG", compress_level=1)  # read once by FFmpeg: speed over size
