"""Music that ducks under the voice: the narration's own sound decides where it speaks.

Deterministic: the spans come from the narration as placed on the timeline (each piece's
audio padded to its length, so the pieces' timings are in it), measured in 10 ms windows; two
spans closer than `gap` are one (the music comes back only in real pauses). The music is
multiplied by a gain envelope: `-duck_db` over each span, with `RAMP`-second ramps (in dB)
just outside it, so the first word is already over lowered music."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RAMP = 0.15  # s, each way; at most half the gap so two ramps never overlap
WINDOW = 0.01  # s of audio per level reading
ENVELOPE_RATE = 1000  # Hz; resampled to the mix rate by FFmpeg (the envelope is smooth)
SILENCE_DB = -40.0  # below the narration's peak: not speech (TTS audio is clean)
SILENCE_FLOOR = 100  # 16-bit units, about -50 dBFS
CHUNK_WINDOWS = 1000  # windows read at a time: memory stays flat for long videos


def speech_spans(wav: Path, gap: float) -> list[tuple[float, float]]:
    """Where a 16-bit WAV has sound, as (start, end) seconds, pauses shorter than `gap` closed."""
    levels, seconds = _window_peaks(wav)
    if levels.size == 0:
        return []
    threshold = max(float(levels.max()) * 10 ** (SILENCE_DB / 20), SILENCE_FLOOR)
    loud = np.flatnonzero(levels > threshold)
    if loud.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(loud) * seconds > gap)
    starts, ends = [loud[0], *loud[cuts + 1]], [*loud[cuts], loud[-1]]
    return [(float(a) * seconds, float(b + 1) * seconds) for a, b in zip(starts, ends, strict=True)]


def _window_peaks(wav: Path) -> tuple[np.ndarray, float]:
    """The peak of each WINDOW of the file (all channels), read in chunks."""
    with wave.open(str(wav), "rb") as source:
        rate, channels = source.getframerate(), source.getnchannels()
        if source.getsampwidth() != 2:
            raise ValueError(f"{wav}: 16-bit PCM expected")
        size = max(int(rate * WINDOW), 1)
        peaks: list[np.ndarray] = []
        while raw := source.readframes(size * CHUNK_WINDOWS):
            samples = np.abs(np.frombuffer(raw, "<i2").astype(np.int32)).reshape(-1, channels)
            loudest = samples.max(axis=1)
            pad = (-loudest.size) % size
            if pad:
                loudest = np.concatenate([loudest, np.zeros(pad, dtype=loudest.dtype)])
            peaks.append(loudest.reshape(-1, size).max(axis=1))
    return (np.concatenate(peaks) if peaks else np.zeros(0)), size / rate


def envelope(
    spans: list[tuple[float, float]], total: float, duck_db: float, gap: float
) -> np.ndarray:
    """Gain (linear, float32) at ENVELOPE_RATE for `total` seconds plus one second of margin."""
    count = int((total + 1.0) * ENVELOPE_RATE) + 1
    t = np.arange(count) / ENVELOPE_RATE
    ramp = max(min(RAMP, gap / 2), 1 / ENVELOPE_RATE)
    depth = np.zeros(count)
    for start, end in spans:
        lo = max(int((start - ramp) * ENVELOPE_RATE), 0)
        hi = min(int((end + ramp) * ENVELOPE_RATE) + 2, count)
        part = t[lo:hi]
        down = np.clip((part - (start - ramp)) / ramp, 0.0, 1.0)
        up = np.clip(((end + ramp) - part) / ramp, 0.0, 1.0)
        depth[lo:hi] = np.maximum(depth[lo:hi], np.minimum(down, up))
    return (10 ** (-duck_db * depth / 20)).astype("<f4")


def write_envelope(narration: Path, out: Path, total: float, duck_db: float, gap: float) -> Path:
    """The gain envelope for `narration` as raw 32-bit float mono at ENVELOPE_RATE."""
    gains = envelope(speech_spans(narration, gap), total, duck_db, gap)
    out.write_bytes(gains.tobytes())
    return out
