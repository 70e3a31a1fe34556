"""Compressed speech (a service's MP3, WAV or Opus) decoded into 16-bit mono samples, in
process (PyAV's FFmpeg). The decoded length is what the audio really holds: an MP3 cut
mid-stream still declares its full length in its header."""

from __future__ import annotations

import io

import numpy as np

SAMPLE_RATE = 24000  # what the speech services send; the render resamples anyway


def decode_speech(data: bytes, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Int16 mono samples at `rate`; a ValueError when the bytes are not audio."""
    import av  # on first use, as in ytmaker.media.probe

    if not data:
        raise ValueError("no audio bytes")
    chunks: list[np.ndarray] = []
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            for frame in container.decode(audio=0):
                chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except (OSError, av.FFmpegError) as exc:
        raise ValueError(f"undecodable audio ({exc})") from None
    if not chunks:
        raise ValueError("the audio holds no samples")
    return np.concatenate(chunks).astype(np.int16)


def peak_dbfs(samples: np.ndarray) -> float:
    """The loudest sample in dB below full scale (-inf for silence)."""
    peak = float(np.abs(samples.astype(np.int32)).max()) if samples.size else 0.0
    return 20 * np.log10(peak / 32768) if peak else float("-inf")
