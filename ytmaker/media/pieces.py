"""Each piece's sound checked on its own, never only the whole: a voice WAV cut to 40 % kept
its header's full length, so the video kept its length too and went silent for 4 s in
segment 2 while every whole-video check passed."""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ytmaker.errors import MediaError

SILENT_DBFS = -55.0  # a piece whose loudest sample is below this says nothing
SHORT_BY = 0.05  # seconds a voice may fall short of its piece (rounding)
EDGE_SECONDS = 0.15  # of each piece's ends left out: the audio codec smears across a cut
CHECK_RATE = 8000  # Hz: enough to tell sound from silence, cheap to decode


def check_voice(path: Path, seconds: float, number: int) -> None:
    """The voice file of piece `number` holds `seconds` of sound that is not silence."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            data = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError):
        return  # not a PCM WAV: the render reads it through FFmpeg and the final check follows
    held = len(data) / (width * channels * rate)
    if held < seconds - SHORT_BY:
        raise MediaError(
            f"The voice of piece {number} ({path}) holds {held:.2f} s of sound but the piece "
            f"is {seconds:.2f} s: the file is cut short; delete it and run again to make it anew",
            code="VOICE_DAMAGED", path=str(path), piece_index=number, seconds=held)  # fmt: skip
    if width == 2 and _dbfs(np.frombuffer(data[: len(data) // 2 * 2], "<i2")) < SILENT_DBFS:
        raise MediaError(
            f"The voice of piece {number} ({path}) is silent; delete it and run again",
            code="VOICE_DAMAGED", path=str(path), piece_index=number)  # fmt: skip


def check_final(video: Path, durations: Sequence[float]) -> None:
    """No piece of the final video is silent: its sound decoded once, each piece's span
    judged on its own (MediaError naming the first silent piece)."""
    import av

    starts = np.cumsum([0.0, *durations])
    peaks = np.zeros(len(durations))
    margins = np.minimum(EDGE_SECONDS, np.asarray(durations, dtype=float) / 4)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=CHECK_RATE)
    at = 0
    with av.open(str(video)) as container:
        if not container.streams.audio:
            raise MediaError(f"The video {video} has no sound", code="VIDEO_SILENT")
        for frame in container.decode(audio=0):
            for chunk in resampler.resample(frame):
                samples = np.abs(chunk.to_ndarray().reshape(-1).astype(np.int32))
                times = (at + np.arange(samples.size)) / CHECK_RATE
                at += samples.size
                piece = np.searchsorted(starts, times, side="right") - 1
                keep = (piece >= 0) & (piece < len(durations))
                inner = np.clip(piece, 0, len(durations) - 1)  # a piece's span less its edges,
                keep &= times >= starts[inner] + margins[inner]  # where the next one bleeds in
                keep &= times < starts[inner + 1] - margins[inner]
                np.maximum.at(peaks, piece[keep], samples[keep])
    for number, peak in enumerate(peaks):
        if _dbfs_of(peak) < SILENT_DBFS:
            raise MediaError(
                f"Piece {number} of the video ({starts[number]:.1f}-{starts[number + 1]:.1f} s) "
                "is silent: its voice did not reach the mix",
                code="VIDEO_SILENT", piece_index=number, path=str(video))  # fmt: skip


def _dbfs(samples: np.ndarray) -> float:
    return _dbfs_of(float(np.abs(samples.astype(np.int32)).max()) if samples.size else 0.0)


def _dbfs_of(peak: float) -> float:
    return 20 * float(np.log10(peak / 32768)) if peak > 0 else float("-inf")
