"""Pexels stock footage through httpx (`YTMAKER_IMAGE_PROVIDER=pexels`): a video clip (or a
photo, `YTMAKER_VISUALS=photos`) per segment, found with the segment's search terms.

- `GET /videos/search` / `GET /v1/search` with the `Authorization` key, `orientation` from the
  frame; of a video's renditions (`video_files`) the smallest at least the frame's size.
- No clip twice in one video: each one taken is claimed in the project's images folder
  (`.claims/`, created exclusively: two segments racing cannot both take it).
- A term without a usable result: the next term; none left: the fallback maker (Stability or
  the offline drawing) makes the still, and the segment's credit file names it.
- Downloads are cached by Pexels id under the data folder, under a file lock, written whole or
  not at all (a connection dropped half-way is fetched again): a crash or a racing run never
  downloads a saved file twice.
- Rate limits: `X-Ratelimit-Remaining: 0` makes the next call wait for `X-Ratelimit-Reset`
  (or fail retryably when the stage has not that long); a 429 is a retryable error with the
  wait in it.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from ytmaker.credits import CREDIT_SUFFIX
from ytmaker.deadline import cap
from ytmaker.files import atomic_output, atomic_write_text, clip_path
from ytmaker.media.runner import run_args
from ytmaker.providers.base import Gate, ImageMaker, paid_call
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.errors.http import from_httpx_response, from_transport_error
from ytmaker.providers.stability import write_cover_png

log = logging.getLogger(__name__)

PER_PAGE = 15
DOWNLOAD_ATTEMPTS = 3
MAX_WAIT = 60.0  # s a call may wait for the rate limit to reset before failing retryably


def credit_path(image: Path) -> Path:
    """Who made a segment's footage (or which fallback did): beside its picture."""
    return Path(image).with_suffix(CREDIT_SUFFIX)


class _Budget:
    """The last rate-limit headers Pexels sent (per process, shared by every segment)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.remaining: int | None = None
        self.reset: float = 0.0

    def note(self, headers: httpx.Headers) -> None:
        with self.lock:
            try:
                self.remaining = int(headers["x-ratelimit-remaining"])
                self.reset = float(headers["x-ratelimit-reset"])
            except (KeyError, ValueError):
                pass

    def wait(self) -> None:
        with self.lock:
            spent = self.remaining is not None and self.remaining <= 0
            wait = self.reset - time.time() if spent else 0.0
        if wait <= 0:
            return
        if wait > min(MAX_WAIT, cap(MAX_WAIT)):
            raise ServiceError(
                f"Pexels' request quota is used up until it resets in {wait:.0f} s.",
                provider="pexels",
                kind="RATE_LIMITED",
                retry_after=wait,
            )
        time.sleep(wait)


BUDGET = _Budget()


class PexelsFootage:
    """Implements ImageMaker (the still at `out_path`) plus a clip beside it, with credits."""

    name = "pexels"
    metered_service = None  # free; limited per hour (the headers say how much is left)
    takes_terms = True  # make() takes the segment's search terms

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.pexels.com",
        *,
        visuals: str = "clips",
        size: tuple[int, int] = (1920, 1080),
        cache_dir: Path,
        fallback: ImageMaker,
        timeout: float = 120.0,
        gate: Gate = paid_call,
    ) -> None:
        if not api_key:
            raise ServiceError(
                "No Pexels API key: set PEXELS_API_KEY (or use the local images).",
                provider="pexels",
                kind="INVALID_KEY",
                reason="missing_key",
            )
        self.api_key, self.base_url = api_key, base_url.rstrip("/")
        self.visuals, self.size = visuals, size
        self.cache_dir, self.fallback = Path(cache_dir), fallback
        self.timeout, self.gate = timeout, gate
        self.variant = {"visuals": visuals} if visuals != "clips" else {}

    def __repr__(self) -> str:
        return f"PexelsFootage(base_url={self.base_url!r}, visuals={self.visuals!r})"

    @property
    def orientation(self) -> str:
        return "portrait" if self.size[1] > self.size[0] else "landscape"

    def make(
        self,
        description: str,
        seed: int,
        out_path: Path,
        terms: Sequence[str] = (),
        avoid: Collection[str] = (),
    ) -> Path:
        """`avoid`: results (`videos-ID`) other videos of the batch show, taken only when a
        search finds nothing else."""
        out_path = Path(out_path)
        claims = out_path.parent / ".claims"
        _release(claims, out_path.name)
        queries = [t for t in terms if t.strip()] or [description.strip()[:80]]
        kinds = ("videos", "photos") if self.visuals == "clips" else ("photos",)
        for kind in kinds:
            for query in queries:
                found = self._first_free(kind, query, claims, out_path.name, set(avoid))
                if found is not None:
                    self._save(kind, found, query, out_path)
                    return out_path
        self.fallback.make(description, seed, out_path)
        atomic_write_text(
            credit_path(out_path),
            json.dumps({"provider": self.fallback.name, "fallback": True, "terms": queries}),
        )
        log.info("No Pexels result for %s: %s made the picture", queries, self.fallback.name)
        return out_path

    # --- search -----------------------------------------------------------------------------

    def _first_free(
        self, kind: str, query: str, claims: Path, owner: str, avoid: set[str]
    ) -> dict[str, Any] | None:
        """The first result with a rendition big enough that no other segment has taken,
        preferring those no other video of the batch shows."""
        path = "/videos/search" if kind == "videos" else "/v1/search"
        params = {"query": query, "orientation": self.orientation, "per_page": PER_PAGE}
        data = self._get_json(path, params)
        usable = [
            (f"{kind}-{item['id']}", item, link)
            for item in data.get("videos" if kind == "videos" else "photos") or []
            if (link := self._rendition(kind, item))
        ]
        usable.sort(key=lambda found: found[0] in avoid)  # stable: Pexels' order otherwise
        for key, item, link in usable:
            if _claim(claims, key, owner):
                return {**item, "_link": link}
        return None

    def _rendition(self, kind: str, item: dict[str, Any]) -> str | None:
        width, height = self.size
        if kind == "photos":
            src = item.get("src") or {}
            big = int(item.get("width") or 0) >= width and int(item.get("height") or 0) >= height
            return src.get("original") if big else None
        files = [
            f
            for f in item.get("video_files") or []
            if f.get("link") and (f.get("file_type") or "video/mp4") == "video/mp4"
        ]
        fits = [
            f
            for f in files
            if int(f.get("width") or 0) >= width and int(f.get("height") or 0) >= height
        ]
        best = min(fits, key=lambda f: _size(f)[0] * _size(f)[1], default=None)
        return best["link"] if best else None

    def _get_json(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        response = self._request(f"{self.base_url}{path}", params=params)
        try:
            data = response.json()
        except ValueError as exc:
            raise ServiceError(
                "Pexels sent an unreadable search answer.", provider="pexels", kind="BAD_RESPONSE"
            ) from exc
        return data if isinstance(data, dict) else {}

    def _request(self, url: str, **options: Any) -> httpx.Response:
        BUDGET.wait()
        headers = {"Authorization": self.api_key}
        try:
            with self.gate():
                response = _client().get(
                    url, headers=headers, timeout=_timeout(cap(self.timeout)), **options
                )
        except httpx.TransportError as exc:
            err = from_transport_error("pexels", exc, secrets=[self.api_key])
            raise err from err.__cause__
        BUDGET.note(response.headers)
        if response.status_code == 429:
            raise _rate_limited(response.headers)
        if response.status_code != 200:
            raise from_httpx_response("pexels", response, secrets=[self.api_key])
        return response

    # --- download and files -----------------------------------------------------------------

    def _save(self, kind: str, item: dict[str, Any], query: str, out_path: Path) -> None:
        suffix = ".mp4" if kind == "videos" else ".jpg"
        cached = self.download(item["_link"], f"{kind}-{item['id']}{suffix}")
        if kind == "videos":
            with atomic_output(out_path) as still, atomic_output(clip_path(out_path)) as clip:
                shutil.copyfile(cached, clip)
                first_frame(cached, still, self.size)
        else:
            clip_path(out_path).unlink(missing_ok=True)
            write_cover_png(cached.read_bytes(), out_path, self.size)
        user = item.get("user") or {}
        credit = {
            "provider": "pexels",
            "kind": kind[:-1],
            "id": item["id"],
            "url": item.get("url"),
            "author": user.get("name") or item.get("photographer"),
            "author_url": user.get("url") or item.get("photographer_url"),
            "term": query,
        }
        atomic_write_text(credit_path(out_path), json.dumps(credit, ensure_ascii=False))

    def download(self, link: str, name: str) -> Path:
        """The file at `link`, cached as `name`: fetched once whoever asks, whenever."""
        target = self.cache_dir / name
        with _locked(target.with_name(f".{name}.lock")):
            if target.is_file():
                return target
            for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
                try:
                    self._fetch(link, target)
                    return target
                except (httpx.TransportError, _Short) as exc:
                    log.warning("Pexels download %s failed (%s), attempt %d", name, exc, attempt)
                    if attempt == DOWNLOAD_ATTEMPTS:
                        raise ServiceError(
                            f"The Pexels download of {name} kept breaking off ({exc}).",
                            provider="pexels",
                            kind="UNAVAILABLE",
                        ) from exc
        return target

    def _fetch(self, link: str, target: Path) -> None:
        """Downloads come from Pexels' file servers: not counted against the API's limit (no
        token of its rate limit, no paid-call slot)."""
        with atomic_output(target) as tmp:
            with _client().stream(
                "GET", link, timeout=_timeout(cap(self.timeout)), follow_redirects=True
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise from_httpx_response("pexels", response, secrets=[self.api_key])
                expected = int(response.headers.get("content-length") or -1)
                got = 0
                with open(tmp, "wb") as out:
                    for block in response.iter_bytes(1 << 16):
                        out.write(block)
                        got += len(block)
            if expected >= 0 and got != expected:
                raise _Short(f"{got} of {expected} bytes")


def _size(rendition: dict[str, Any]) -> tuple[int, int]:
    return int(rendition.get("width") or 0), int(rendition.get("height") or 0)


def _rate_limited(headers: httpx.Headers) -> ServiceError:
    """A 429: retryable, after Retry-After, else until X-Ratelimit-Reset (epoch seconds)."""
    wait = 60.0
    try:
        if headers.get("retry-after"):
            wait = float(headers["retry-after"])
        elif headers.get("x-ratelimit-reset"):
            wait = float(headers["x-ratelimit-reset"]) - time.time()
    except ValueError:
        pass
    wait = max(wait, 1.0)
    return ServiceError(
        f"Pexels is rate limiting requests (429). Retry after about {wait:.0f} s.",
        provider="pexels",
        kind="RATE_LIMITED",
        status=429,
        retry_after=wait,
    )


class _Short(Exception):
    """A body shorter than its Content-Length."""


def _claim(claims: Path, key: str, owner: str) -> bool:
    """Take `key` for segment file `owner`, unless another segment holds it."""
    claims.mkdir(parents=True, exist_ok=True)
    path = claims / key
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        try:
            return path.read_text("utf-8") == owner
        except OSError:
            return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(owner)
    return True


def _release(claims: Path, owner: str) -> None:
    """A segment made again gives back what it took before."""
    if not claims.is_dir():
        return
    for path in claims.iterdir():
        try:
            if path.read_text("utf-8") == owner:
                path.unlink(missing_ok=True)
        except OSError:
            continue


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock across threads and processes on this machine (the data folder's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def first_frame(clip: Path, out: Path, size: tuple[int, int]) -> None:
    """The clip's first frame, cover-cropped to the frame, as the segment's picture (PNG)."""
    width, height = size
    run_args(
        ["-y", "-i", str(clip), "-frames:v", "1", "-an",
         "-vf", f"scale={width}:{height}:force_original_aspect_ratio=increase,"
                f"crop={width}:{height},setsar=1",
         "-f", "image2", "-c:v", "png", str(out)],
        "pexels still",
        media_seconds=1.0,
    )  # fmt: skip


@functools.cache
def _client() -> httpx.Client:
    return httpx.Client()


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(15.0, seconds))
