"""Run FFmpeg: one place for the binary, the progress pipe, stderr capture and errors."""

from __future__ import annotations

import functools
import logging
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any

import ffmpeg
from imageio_ffmpeg import get_ffmpeg_exe

from ytmaker import deadline
from ytmaker.errors import MediaError, StorageError

log = logging.getLogger(__name__)

STDERR_TAIL = 15
NO_SPACE = "No space left on device"
PROGRESS_ARGS = ["-progress", "pipe:1", "-stats_period", "0.25"]
# Why the system kills FFmpeg, in words a user can act on (it writes nothing itself then).
# Each FFmpeg call's own time limit, from how much media it works on: a 1080p piece encodes at
# ~0.45x realtime on 2 cores (FIELD-NOTES), so 10 s a media second leaves room for a machine
# shared four ways; the floor covers start-up. A damaged input (music with a header and no
# samples, looped for ever) is killed here, not left RENDERING.
LIMIT_FLOOR_SECONDS = 60.0
LIMIT_PER_MEDIA_SECOND = 10.0
SIGNAL_HINTS = {
    "SIGXFSZ": "file size limit exceeded: the disk or quota is full",
    "SIGKILL": "often the system running out of memory",
}


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    return get_ffmpeg_exe()


def compile_cmd(stream: Any) -> list[str]:
    """An ffmpeg-python graph as an argument list (without our global options)."""
    cmd = ffmpeg.compile(stream, cmd=ffmpeg_exe(), overwrite_output=True)
    return list(cmd)


def time_limit(media_seconds: float) -> float:
    """Wall-clock seconds an FFmpeg call on `media_seconds` of media may take."""
    return LIMIT_FLOOR_SECONDS + LIMIT_PER_MEDIA_SECOND * max(float(media_seconds), 0.0)


def run(
    stream: Any,
    step: str,
    on_frame: Callable[[int], None] | None = None,
    loglevel: str = "warning",
    *,
    media_seconds: float,
) -> str:
    """Run one ffmpeg-python graph on `media_seconds` of media (its time limit); report
    `frame=` progress; return stderr."""
    return run_args(compile_cmd(stream)[1:], step, on_frame, loglevel, media_seconds=media_seconds)


def run_args(
    args: Sequence[str],
    step: str,
    on_frame: Callable[[int], None] | None = None,
    loglevel: str = "warning",
    *,
    media_seconds: float,
) -> str:
    """Run `ffmpeg <globals> args`; raise MediaError with the stderr tail if it fails, or
    FFMPEG_TIMEOUT naming the step when it outlives time_limit(media_seconds)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", loglevel]
    cmd += PROGRESS_ARGS + list(args)
    log.debug("ffmpeg %s: %s", step, cmd)
    limit = time_limit(media_seconds)
    with tempfile.TemporaryFile() as err:
        code, timed_out = _watch(cmd, err, on_frame, limit)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if timed_out:
        raise MediaError(
            f"FFmpeg did not finish {step} within {limit:.0f} s (for {media_seconds:.1f} s of "
            "media): an input is likely damaged",
            code="FFMPEG_TIMEOUT",
            step=step,
            timeout=limit,
            ffmpeg_stderr=tail(stderr),
        )
    if code != 0 and NO_SPACE in stderr:
        raise StorageError(
            f"FFmpeg could not write at {step}: no space left on the disk",
            code="DISK_FULL",
            step=step,
            ffmpeg_stderr=tail(stderr),
        )
    if code != 0:
        deadline.check()  # killed because the stage's time was up: say that, not "SIGKILL"
        raise MediaError(
            f"影片合成失敗 (FFmpeg failed at {step}, {exit_reason(code)})",
            step=step,
            ffmpeg_stderr=tail(stderr),
            exit_code=code,
        )
    return stderr


def _watch(
    cmd: list[str], err: Any, on_frame: Callable[[int], None] | None, limit: float
) -> tuple[int, bool]:
    """FFmpeg's exit code, and whether it was killed for outliving `limit` seconds."""
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    except OSError as exc:
        raise MediaError(f"無法啟動 FFmpeg (cannot start ffmpeg: {exc})") from exc
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(limit, kill)
    timer.daemon = True
    timer.start()
    try:
        with deadline.killed_at_deadline(proc):
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode("ascii", "replace").strip()
                if on_frame is not None and line.startswith("frame=") and line[6:].isdigit():
                    on_frame(int(line[6:]))
            return proc.wait(), timed_out.is_set()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def exit_reason(code: int) -> str:
    """'exit code 1', or the signal that ended FFmpeg and what it usually means."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"killed by signal {-code}"
    hint = SIGNAL_HINTS.get(name)
    return f"killed by {name}" + (f": {hint}" if hint else "")


def tail(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_TAIL:])
