"""Offline presenter clips: a drawn host whose mouth follows the loudness of the narration."""

from __future__ import annotations

import math
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from ytmaker.deadline import check, killed_at_deadline
from ytmaker.errors import ProviderError
from ytmaker.files import atomic_output
from ytmaker.media.runner import time_limit
from ytmaker.providers.base import AvatarRole

WIDTH, HEIGHT, FPS = 1920, 1080, 30
MOUTH_LEVELS = 5  # 0 = closed smile ... 4 = wide open
EYES_OPEN, EYES_HALF, EYES_SHUT = 0, 1, 2
WAVE_ANGLES = (-22.0, -11.0, 0.0, 11.0, 22.0)  # forearm tilt, degrees
WAVE_SECONDS = 1.8
SS = 2  # supersampling factor for smooth edges
CHAR_BOX = (480, 60, 1680, 1080)  # the part of the frame the presenter is drawn in

RGB = tuple[int, int, int]
SKIN, SKIN_SHADE, BLUSH = (244, 200, 170), (226, 174, 146), (240, 160, 150)
HAIR, INK, LIP = (58, 40, 36), (44, 36, 44), (110, 36, 48)


@dataclass(frozen=True)
class Theme:
    sky: RGB
    ground: RGB
    glow: RGB
    shirt: RGB
    jacket: RGB


THEMES: dict[str, Theme] = {
    "intro": Theme((92, 176, 196), (30, 92, 122), (214, 242, 240), (250, 246, 238), (46, 120, 150)),
    "outro": Theme((244, 170, 120), (150, 70, 92), (255, 232, 200), (250, 246, 238), (178, 76, 88)),
}


@dataclass(frozen=True)
class Pose:
    mouth: int = 0
    eyes: int = EYES_OPEN
    arm: float | None = None  # forearm angle while waving; None = arm down


# ---- drawing ------------------------------------------------------------------------------


class Pen:
    """ImageDraw in frame coordinates, scaled by SS into the presenter canvas."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)

    def _xy(self, *points: float) -> list[float]:
        offset = (CHAR_BOX[0], CHAR_BOX[1])
        return [(p - offset[i % 2]) * SS for i, p in enumerate(points)]

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill: RGB) -> None:
        self.draw.ellipse(self._xy(cx - rx, cy - ry, cx + rx, cy + ry), fill=fill)

    def chord(
        self, cx: float, cy: float, rx: float, ry: float, start: float, end: float, fill: RGB
    ) -> None:
        self.draw.chord(self._xy(cx - rx, cy - ry, cx + rx, cy + ry), start, end, fill=fill)

    def arc(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        start: float,
        end: float,
        fill: RGB,
        width: float,
    ) -> None:
        box = self._xy(cx - rx, cy - ry, cx + rx, cy + ry)
        self.draw.arc(box, start, end, fill=fill, width=int(width * SS))

    def rounded(self, box: tuple[float, float, float, float], radius: float, fill: RGB) -> None:
        self.draw.rounded_rectangle(self._xy(*box), radius=radius * SS, fill=fill)

    def ellipse_within(
        self,
        outer: tuple[float, float, float, float],
        inner: tuple[float, float, float, float],
        fill: RGB,
    ) -> None:
        """Fill the intersection of two ellipses given as (cx, cy, rx, ry)."""
        masks = []
        for cx, cy, rx, ry in (outer, inner):
            mask = Image.new("L", self.image.size)
            ImageDraw.Draw(mask).ellipse(self._xy(cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
            masks.append(mask)
        self.image.paste(fill, (0, 0), ImageChops.multiply(*masks))

    def polygon(self, points: list[tuple[float, float]], fill: RGB) -> None:
        self.draw.polygon(self._xy(*[c for p in points for c in p]), fill=fill)

    def limb(self, a: tuple[float, float], b: tuple[float, float], width: float, fill: RGB) -> None:
        """A thick line with round ends."""
        self.draw.line(self._xy(*a, *b), fill=fill, width=int(width * SS))
        for x, y in (a, b):
            self.ellipse(x, y, width / 2, width / 2, fill)


HEAD = (960.0, 430.0, 172.0, 196.0)  # centre x, centre y, radius x, radius y
SHOULDER = (1210.0, 800.0)
ELBOW = (1380.0, 690.0)


def draw_body(pen: Pen, theme: Theme) -> None:
    cx, cy, rx, ry = HEAD
    pen.ellipse(cx, cy - 2, rx + 30, ry + 18, HAIR)  # bob haircut behind the head
    pen.rounded((cx - rx - 34, cy + 20, cx + rx + 34, cy + ry + 40), 60, HAIR)
    pen.rounded((cx - 54, cy + ry - 60, cx + 54, cy + ry + 120), 40, SKIN_SHADE)  # neck
    pen.rounded((cx - 330, 712, cx + 330, 1260), 190, theme.jacket)  # shoulders
    pen.polygon([(cx - 120, 716), (cx + 120, 716), (cx + 60, 1080), (cx - 60, 1080)], theme.shirt)
    pen.polygon([(cx - 66, 712), (cx + 66, 712), (cx, 806)], SKIN_SHADE)  # open collar
    pen.polygon([(cx - 72, 706), (cx - 4, 810), (cx - 40, 836), (cx - 116, 732)], theme.shirt)
    pen.polygon([(cx + 72, 706), (cx + 4, 810), (cx + 40, 836), (cx + 116, 732)], theme.shirt)
    pen.ellipse(cx, cy, rx, ry, HAIR)  # the hair cap; the face is carved out of it
    pen.ellipse_within((cx, cy, rx, ry), (cx + 30, cy + 140, rx + 34, ry + 14), SKIN)
    pen.ellipse(cx, cy + 62, 16, 11, SKIN_SHADE)  # nose
    for side in (-1, 1):
        pen.ellipse(cx + side * 104, cy + 92, 34, 20, BLUSH)
        pen.arc(cx + side * 72, cy - 2, 32, 16, 205, 335, HAIR, 9)  # eyebrows


def draw_eyes(pen: Pen, state: int) -> None:
    cx, cy = HEAD[0], HEAD[1] + 38
    for side in (-1, 1):
        x = cx + side * 72
        if state == EYES_SHUT:
            pen.arc(x, cy - 6, 20, 12, 20, 160, INK, 7)
        elif state == EYES_HALF:
            pen.ellipse(x, cy + 4, 16, 9, INK)
        else:
            pen.ellipse(x, cy, 16, 21, INK)
            pen.ellipse(x + 6, cy - 8, 5.5, 5.5, (255, 255, 255))


def draw_mouth(pen: Pen, level: int) -> None:
    cx, top = HEAD[0], HEAD[1] + 112
    if level == 0:
        pen.arc(cx, top - 14, 42, 22, 25, 155, LIP, 8)
        return
    w, h = 34 + 6 * level, 9 + 11 * level
    pen.chord(cx, top, w, h, 0, 180, LIP)  # the lower half of an ellipse: a "D" on its side
    pen.ellipse(cx, top + 0.74 * h, 0.5 * w, 0.26 * h, (232, 120, 128))  # tongue
    if level >= 2:
        pen.rounded((cx - 0.7 * w, top, cx + 0.7 * w, top + 0.2 * h), 4, (255, 255, 255))


def draw_arm(pen: Pen, theme: Theme, angle: float | None) -> None:
    if angle is None:
        return
    rad = math.radians(angle)
    hand = (ELBOW[0] + 200 * math.sin(rad), ELBOW[1] - 200 * math.cos(rad))
    pen.limb(SHOULDER, ELBOW, 84, theme.jacket)
    pen.limb(ELBOW, hand, 74, theme.jacket)
    pen.ellipse(hand[0], hand[1], 40, 40, theme.shirt)  # cuff
    palm = (hand[0] + 46 * math.sin(rad), hand[1] - 46 * math.cos(rad))
    thumb = (
        palm[0] - 48 * math.cos(rad) + 12 * math.sin(rad),
        palm[1] - 48 * math.sin(rad) - 12 * math.cos(rad),
    )
    pen.ellipse(thumb[0], thumb[1], 17, 26, SKIN)
    pen.ellipse(palm[0], palm[1], 50, 58, SKIN)  # mitten hand


def draw_figure(theme: Theme) -> Image.Image:
    """The body alone at SS x size, on a transparent canvas: what every pose starts from."""
    w, h = CHAR_BOX[2] - CHAR_BOX[0], CHAR_BOX[3] - CHAR_BOX[1]
    canvas = Image.new("RGBA", (w * SS, h * SS), (0, 0, 0, 0))
    draw_body(Pen(canvas), theme)
    return canvas


def render_presenter(pose: Pose, theme: Theme, figure: Image.Image) -> Image.Image:
    """The presenter in CHAR_BOX as RGBA, drawn at SS x size and scaled down for smooth edges,
    on a copy of `figure` (draw_figure's body, drawn once for every pose)."""
    canvas = figure.copy()
    pen = Pen(canvas)
    draw_eyes(pen, pose.eyes)
    draw_mouth(pen, pose.mouth)
    draw_arm(pen, theme, pose.arm)
    return canvas.reduce(SS)


def draw_background(theme: Theme) -> Image.Image:
    t = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None, None]
    img = np.asarray(theme.sky, np.float32) * (1 - t) + np.asarray(theme.ground, np.float32) * t
    img = np.broadcast_to(img, (HEIGHT, WIDTH, 3)).copy()
    yy, xx = np.ogrid[:HEIGHT, :WIDTH]
    halo = np.exp(-(((xx - 960) / 520.0) ** 2 + ((yy - 430) / 420.0) ** 2)).astype(np.float32)
    img += (np.asarray(theme.glow, np.float32) - img) * (0.55 * halo)[..., None]
    img += (255 - img) * _bokeh(theme)[..., None]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def _bokeh(theme: Theme) -> np.ndarray:
    """Soft out-of-focus circles; fixed per theme so every clip of a role matches."""
    rng = np.random.default_rng(sum(theme.sky))
    scale = 4
    mask = Image.new("L", (WIDTH // scale, HEIGHT // scale))
    draw = ImageDraw.Draw(mask)
    for _ in range(18):
        x, y = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT * 0.8)
        if abs(x - 960) < 420:  # keep them off the presenter
            x += 520 * np.sign(x - 960 + 0.1)
        r = rng.uniform(30, 110)
        draw.ellipse(
            [(x - r) / scale, (y - r) / scale, (x + r) / scale, (y + r) / scale],
            fill=int(rng.integers(25, 60)),
        )
    mask = mask.filter(ImageFilter.GaussianBlur(2)).resize(
        (WIDTH, HEIGHT), Image.Resampling.BILINEAR
    )
    return np.asarray(mask, np.float32) / 255


# ---- states and patches ---------------------------------------------------------------------


@dataclass
class Sprites:
    """A full base frame plus small patches: each part's states cropped from full renders, as
    yuv420p planes (what the encoder takes: no colour conversion per frame in FFmpeg: for a 6 s
    clip 38 % less of its CPU than piping RGB)."""

    base: np.ndarray  # one yuv420p frame: Y, then U, then V
    boxes: dict[str, tuple[slice, slice]]  # in luma pixels, even-aligned
    patches: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]


def planes(
    frame: np.ndarray, width: int = WIDTH, height: int = HEIGHT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of a yuv420p frame's (or patch's) Y, U and V planes."""
    y_size, c_size = width * height, width * height // 4
    y = frame[:y_size].reshape(height, width)
    u = frame[y_size : y_size + c_size].reshape(height // 2, width // 2)
    v = frame[y_size + c_size :].reshape(height // 2, width // 2)
    return y, u, v


def to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited range, as FFmpeg converts untagged RGB; chroma averaged over 2x2."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    h, w = y.shape
    u, v = (c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)) for c in (u, v))
    flat = np.concatenate([y.ravel(), u.ravel(), v.ravel()])
    return np.clip(np.rint(flat), 0, 255).astype(np.uint8)


def _chroma(box: tuple[slice, slice]) -> tuple[slice, slice]:
    rows, cols = box
    return slice(rows.start // 2, rows.stop // 2), slice(cols.start // 2, cols.stop // 2)


def _frame(pose: Pose, theme: Theme, background: Image.Image, figure: Image.Image) -> np.ndarray:
    frame = background.copy()
    presenter = render_presenter(pose, theme, figure)
    frame.paste(presenter, CHAR_BOX[:2], presenter)
    return np.asarray(frame)


def _changed_box(base: np.ndarray, frames: list[np.ndarray]) -> tuple[slice, slice]:
    """The even-edged box of the pixels any of `frames` changes (all inside CHAR_BOX)."""
    left, top, right, bottom = CHAR_BOX
    diff = np.zeros((bottom - top, right - left), bool)
    for frame in frames:
        diff |= np.any(frame[top:bottom, left:right] != base[top:bottom, left:right], axis=2)
    ys, xs = np.nonzero(diff)
    return _even(top + ys.min(), top + ys.max()), _even(left + xs.min(), left + xs.max())


def _even(first: int, last: int) -> slice:
    """From `first` to `last` inclusive, widened to even edges: whole 2x2 chroma samples."""
    return slice(first // 2 * 2, last // 2 * 2 + 2)


def _overlap(a: tuple[slice, slice], b: tuple[slice, slice]) -> bool:
    return all(p.start < q.stop and q.start < p.stop for p, q in zip(a, b, strict=True))


@lru_cache(maxsize=2)
def build_sprites(role: str) -> Sprites:
    """The drawing's base frame and each part's states (~1 s a role: the body is drawn once and
    only the patches are converted to yuv420p, not 15 whole frames)."""
    theme = THEMES[role]
    background, figure = draw_background(theme), draw_figure(theme)
    base = _frame(Pose(), theme, background, figure)
    variants = {
        "mouth": [Pose(mouth=m) for m in range(MOUTH_LEVELS)],
        "eyes": [Pose(eyes=e) for e in (EYES_OPEN, EYES_HALF, EYES_SHUT)],
        "arm": [Pose()] + [Pose(arm=a) for a in WAVE_ANGLES],
    }
    boxes, patches = {}, {}
    for part, poses in variants.items():
        frames = [_frame(pose, theme, background, figure) for pose in poses]
        box = boxes[part] = _changed_box(base, frames[1:])
        patches[part] = [_patch(f, box) for f in frames]
    parts = list(boxes)
    if any(_overlap(boxes[a], boxes[b]) for a in parts for b in parts if a < b):
        raise RuntimeError("avatar parts overlap; adjust the drawing geometry")
    return Sprites(to_yuv420p(base), boxes, patches)


def _patch(rgb: np.ndarray, box: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U and V planes of `box` in a whole RGB frame: the same values as converting the
    frame and cropping, since `box` has even edges (whole 2x2 chroma samples)."""
    crop = rgb[box]
    height, width = crop.shape[:2]
    return planes(to_yuv420p(crop), width, height)


# ---- timing ---------------------------------------------------------------------------------


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the sample rate of a 16-bit PCM WAV."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise ProviderError(
                    "The narration WAV must be 16-bit PCM.",
                    code="LOCAL_AVATAR_AUDIO",
                    path=str(path),
                )
            rate, channels = wav.getframerate(), wav.getnchannels()
            data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    except (OSError, EOFError, wave.Error) as exc:
        raise ProviderError(
            f"Cannot read the narration WAV: {exc}.", code="LOCAL_AVATAR_AUDIO", path=str(path)
        ) from exc
    samples = data.reshape(-1, channels).mean(axis=1) / 32768.0
    if samples.size == 0:
        raise ProviderError(
            "The narration WAV is empty.", code="LOCAL_AVATAR_AUDIO", path=str(path)
        )
    return samples.astype(np.float32), rate


def frame_count(samples: np.ndarray, rate: int) -> int:
    return max(1, round(len(samples) * FPS / rate))


def mouth_track(samples: np.ndarray, rate: int, frames: int) -> np.ndarray:
    """Mouth level per video frame from the RMS loudness of that frame's audio."""
    edges = (np.arange(frames + 1) * rate / FPS).astype(int)
    rms = np.array(
        [
            np.sqrt(np.mean(np.square(samples[a:b]))) if b > a else 0.0
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    db = 20 * np.log10(np.maximum(rms, 1e-6))
    voiced = db > -45
    if not voiced.any():
        return np.zeros(frames, int)
    loud = np.percentile(db[voiced], 90)
    opening = np.where(voiced, np.clip((db - (loud - 24)) / 24, 0.08, 1), 0.0)
    for i in range(1, frames):  # open at once, close a little more slowly
        opening[i] = max(opening[i], opening[i - 1] * 0.55)
    return np.rint(opening * (MOUTH_LEVELS - 1)).astype(int)


def blink_track(frames: int, seed: int) -> np.ndarray:
    """Natural-looking blinks every 2-5 s: half, shut, shut, half."""
    rng = np.random.default_rng(seed)
    eyes = np.full(frames, EYES_OPEN)
    i = int(rng.integers(FPS, 2 * FPS))
    while i < frames:
        for k, state in enumerate((EYES_HALF, EYES_SHUT, EYES_SHUT, EYES_HALF)):
            if i + k < frames:
                eyes[i + k] = state
        i += int(rng.integers(2 * FPS, 5 * FPS))
    return eyes


def arm_track(frames: int, role: str) -> np.ndarray:
    """Index into the arm patches per frame: a hello wave at the start of the intro,
    a goodbye wave at the end of the outro; 0 = arm down."""
    arm = np.zeros(frames, int)
    span = min(frames, int(WAVE_SECONDS * FPS))
    start = 0 if role == "intro" else frames - span
    t = np.arange(span) / FPS
    swing = np.sin(2 * np.pi * 1.8 * t)  # a little under two waves a second
    arm[start : start + span] = 1 + np.rint((swing + 1) / 2 * (len(WAVE_ANGLES) - 1)).astype(int)
    return arm


# ---- encoding -------------------------------------------------------------------------------


def ffmpeg_command(audio: Path, out: Path, preset: str) -> list[str]:
    """The clip is a source the render encodes again: it takes the render's x264 preset."""
    import imageio_ffmpeg

    return [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{WIDTH}x{HEIGHT}",
        "-r",
        str(FPS),
        "-i",
        "pipe:0",
        "-i",
        str(audio),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        "20",
        "-pix_fmt",
        "yuv420p",
        "-r",
        str(FPS),
        "-c:a",
        "aac",
        "-b:a",
        "160k",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(out),
    ]


def encode(
    sprites: Sprites,
    tracks: dict[str, np.ndarray],
    audio: Path,
    out: Path,
    preset: str,
) -> None:
    """Pipe raw yuv420p frames into FFmpeg; only the changed patches are written per frame."""
    frame = sprites.base.copy()
    y, u, v = planes(frame)
    chroma = {part: _chroma(box) for part, box in sprites.boxes.items()}
    with tempfile.TemporaryFile() as log:
        command = ffmpeg_command(audio, out, preset)
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=log)
        assert proc.stdin is not None
        limit = time_limit(len(tracks["mouth"]) / FPS)
        timer = threading.Timer(limit, proc.kill)  # its own bound, inside the stage's
        timer.daemon = True
        timer.start()
        with killed_at_deadline(proc):
            try:
                for i in range(len(tracks["mouth"])):
                    for part, states in tracks.items():
                        py, pu, pv = sprites.patches[part][states[i]]
                        y[sprites.boxes[part]], u[chroma[part]], v[chroma[part]] = py, pu, pv
                    proc.stdin.write(frame.data)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            code = proc.wait()
        timed_out = not timer.is_alive() and code != 0
        timer.cancel()
        if timed_out:
            raise ProviderError(
                f"FFmpeg did not finish encoding the presenter clip within {limit:.0f} s.",
                code="LOCAL_AVATAR_TIMEOUT",
                timeout=limit,
            )
        if code != 0:
            check()
            log.seek(0)
            tail = log.read().decode("utf-8", "replace")[-1500:]
            raise ProviderError(
                "FFmpeg failed to encode the presenter clip.",
                code="LOCAL_AVATAR_ENCODE",
                returncode=code,
                stderr=tail,
            )


class DrawnAvatar:
    """Implements AvatarMaker offline: 1920x1080 30 fps H.264 + AAC, lip-synced by loudness."""

    name = "drawn"
    metered_service = None

    def __init__(self, preset: str = "veryfast") -> None:
        self.preset = preset  # YTMAKER_X264_PRESET

    def make(self, audio_path: Path, role: AvatarRole, out_path: Path) -> Path:
        if role not in THEMES:
            raise ProviderError(
                f"Unknown avatar role {role!r}; use intro or outro.",
                code="LOCAL_AVATAR_ROLE",
                role=role,
            )
        audio_path, out_path = Path(audio_path), Path(out_path)
        samples, rate = read_wav(audio_path)
        frames = frame_count(samples, rate)
        tracks = {
            "mouth": mouth_track(samples, rate, frames),
            "eyes": blink_track(frames, seed=len(samples)),
            "arm": arm_track(frames, role),
        }
        with atomic_output(out_path) as tmp:
            encode(build_sprites(role), tracks, audio_path, tmp, self.preset)
        return out_path
