"""A fake Pexels API: `GET /videos/search`, `GET /v1/search` (the real JSON shapes, with
`video_files` / `src`), `X-Ratelimit-*` headers, and the files it links to, real MP4s and JPEGs
made with FFmpeg and Pillow."""

from __future__ import annotations

import io
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from imageio_ffmpeg import get_ffmpeg_exe
from PIL import Image

from tests.servers import FakeServer, Reply, Request

LANDSCAPE = ((960, 540, "sd"), (1920, 1080, "hd"), (2560, 1440, "uhd"))
PORTRAIT = ((540, 960, "sd"), (1080, 1920, "hd"))


def make_mp4(path: Path, width: int, height: int, seconds: float = 1.0, hue: int = 0) -> Path:
    if not path.exists():
        subprocess.run(
            [get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
             "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}",
             "-vf", f"hue=h={hue}", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", str(path)],
            check=True,
        )  # fmt: skip
    return path


@dataclass
class Video:
    id: int
    author: str
    files: dict[str, Path]  # quality label -> file
    sizes: dict[str, tuple[int, int]]


class FakePexels(FakeServer):
    """`library`: query -> Pexels ids (videos) found for it; `photos`: query -> photo ids."""

    name = "pexels"

    def __init__(self, folder: Path, api_key: str = "test-pexels-key") -> None:
        super().__init__()
        self.folder, self.api_key = folder, api_key
        self.videos: dict[int, Video] = {}
        self.library: dict[str, list[int]] = {}
        self.photos: dict[str, list[int]] = {}
        self.remaining = 200
        self.cut_downloads: set[str] = set()  # file names whose first download breaks off

    def add_video(self, video_id: int, author: str, orientation: str = "landscape") -> None:
        sizes = LANDSCAPE if orientation == "landscape" else PORTRAIT
        files, dims = {}, {}
        for width, height, label in sizes:
            name = f"video-{video_id}-{label}.mp4"
            files[label] = make_mp4(self.folder / name, width, height, hue=video_id * 37 % 360)
            dims[label] = (width, height)
        self.videos[video_id] = Video(video_id, author, files, dims)

    def error(self, status: int, reason: str | None = None, message: str | None = None) -> Reply:
        return Reply(status, {"error": message or reason or "error"}, headers=self._limits())

    def _limits(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": "200",
            "X-Ratelimit-Remaining": str(max(self.remaining, 0)),
            "X-Ratelimit-Reset": str(int(time.time()) + 3600),
        }

    def route(self, request: Request) -> Reply:
        if request.path.startswith("/download/"):
            return self._download(request.path.rsplit("/", 1)[-1])
        if request.header("authorization") != self.api_key:
            return self.error(401, message="Unauthorized")
        self.remaining -= 1
        if request.path == "/videos/search":
            return Reply(200, self._video_page(request), headers=self._limits())
        if request.path == "/v1/search":
            return Reply(200, self._photo_page(request), headers=self._limits())
        return self.error(404, message="Not Found")

    def _video_page(self, request: Request) -> dict:
        query = request.query.get("query", "")
        portrait = request.query.get("orientation") == "portrait"
        found = []
        for video_id in self.library.get(query.lower(), []):
            video = self.videos[video_id]
            if (video.sizes["hd"][1] > video.sizes["hd"][0]) != portrait:
                continue
            found.append(
                {
                    "id": video.id,
                    "width": video.sizes["hd"][0],
                    "height": video.sizes["hd"][1],
                    "duration": 1,
                    "url": f"https://www.pexels.com/video/clip-{video.id}/",
                    "image": f"https://images.pexels.com/videos/{video.id}/preview.jpeg",
                    "user": {
                        "id": 1000 + video.id,
                        "name": video.author,
                        "url": f"https://www.pexels.com/@{video.author.lower().replace(' ', '-')}",
                    },
                    "video_files": [
                        {
                            "id": video.id * 10 + i,
                            "quality": label,
                            "file_type": "video/mp4",
                            "width": video.sizes[label][0],
                            "height": video.sizes[label][1],
                            "fps": 25.0,
                            "link": f"{self.url}/download/{path.name}",
                        }
                        for i, (label, path) in enumerate(video.files.items())
                    ],
                    "video_pictures": [],
                }
            )
        return {
            "page": 1,
            "per_page": int(request.query.get("per_page", 15)),
            "total_results": len(found),
            "url": f"https://www.pexels.com/search/videos/{query}/",
            "videos": found,
        }

    def _photo_page(self, request: Request) -> dict:
        query = request.query.get("query", "")
        found = []
        for photo_id in self.photos.get(query.lower(), []):
            name = f"photo-{photo_id}.jpg"
            path = self.folder / name
            if not path.exists():
                Image.new("RGB", (2400, 1600), (photo_id * 50 % 255, 120, 80)).save(path)
            found.append(
                {
                    "id": photo_id,
                    "width": 2400,
                    "height": 1600,
                    "url": f"https://www.pexels.com/photo/p-{photo_id}/",
                    "photographer": f"Photographer {photo_id}",
                    "photographer_url": f"https://www.pexels.com/@p{photo_id}",
                    "avg_color": "#7A5A3C",
                    "src": {
                        "original": f"{self.url}/download/{name}",
                        "large2x": f"{self.url}/download/{name}?w=1880",
                        "tiny": f"{self.url}/download/{name}?w=280",
                    },
                    "alt": query,
                }
            )
        return {"page": 1, "per_page": 15, "total_results": len(found), "photos": found}

    def _download(self, name: str) -> Reply:
        path = self.folder / name
        if not path.is_file():
            return Reply(404, b"")
        data = path.read_bytes()
        kind = "video/mp4" if name.endswith(".mp4") else "image/jpeg"
        if name in self.cut_downloads:
            self.cut_downloads.discard(name)
            return Reply(200, data, headers={"Content-Type": kind}, cut_at=len(data) // 2)
        return Reply(200, data, headers={"Content-Type": kind})


def jpeg_bytes(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 90, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()
