"""Run FFmpeg: one place for the binary, the progress pipe, stderr capture and errors."""

from __future__ import annotations

import functools
import logging
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import ffmpeg
from imageio_ffmpeg import get_ffmpeg_exe

from ytmaker import deadline
from ytmaker.errors import MediaError

log = logging.getLogger(__name__)

STDERR_TAIL = 15
PROGRESS_ARGS = ["-progress", "pipe:1", "-stats_period", "0.25"]
# Why the system kills FFmpeg, in words a user can act on (it writes nothing itself then).
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


def run(
    stream: Any,
    step: str,
    on_frame: Callable[[int], None] | None = None,
    loglevel: str = "warning",
) -> str:
    """Run one ffmpeg-python graph; report `frame=` progress; return stderr."""
    return run_args(compile_cmd(stream)[1:], step, on_frame, loglevel)


def run_args(
    args: Sequence[str],
    step: str,
    on_frame: Callable[[int], None] | None = None,
    loglevel: str = "warning",
) -> str:
    """Run `ffmpeg <globals> args`; raise MediaError with the stderr tail if it fails."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", loglevel]
    cmd += PROGRESS_ARGS + list(args)
    log.debug("ffmpeg %s: %s", step, cmd)
    with tempfile.TemporaryFile() as err:
        code = _watch(cmd, err, on_frame)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if code != 0:
        deadline.check()  # killed because the stage's time was up: say that, not "SIGKILL"
        raise MediaError(
            f"影片合成失敗 (FFmpeg failed at {step}, {exit_reason(code)})",
            step=step,
            ffmpeg_stderr=tail(stderr),
            exit_code=code,
        )
    return stderr


def _watch(cmd: list[str], err: Any, on_frame: Callable[[int], None] | None) -> int:
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    except OSError as exc:
        raise MediaError(f"無法啟動 FFmpeg (cannot start ffmpeg: {exc})") from exc
    try:
        with deadline.killed_at_deadline(proc):
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode("ascii", "replace").strip()
                if on_frame is not None and line.startswith("frame=") and line[6:].isdigit():
                    on_frame(int(line[6:]))
            return proc.wait()
    finally:
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
