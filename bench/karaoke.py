"""How close word-by-word highlights come to the words in the audio.

    uv run python -m bench.karaoke

Two figures, each the largest gap over every word of the sample texts:

- **voice timing** (the offline espeak-ng voice): when libass first shows a word lit (the
  first 30 fps frame at or after its `\\k` time in the ASS we burn) against where the word
  starts in the audio. "Where it starts" is measured twice: as espeak-ng reports it (its WORD
  event), and, for words after a pause, from the audio itself (the first sample above
  -50 dBFS after the silence), which needs no trust in the engine.
- **spread mode** (voices without timing, e.g. Gemini's): the same gap for a 20 s segment
  voiced offline but timed by spreading its words over the voiced audio, against espeak-ng's
  own word starts.
- **the Edge voice** (`edge`, edge-tts): the same two figures for its WordBoundary events, the
  real edge-tts package against the local Edge-protocol server of the tests (its speech is
  espeak-ng's, sent as 24 kHz 48 kbit/s MP3 with espeak-ng's word starts as the boundaries):
  what our side adds — aligning the boundaries to the text, decoding the MP3, ASS and frames.
  Microsoft's own boundaries cannot be measured offline.
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.servers.edge import FakeEdge
from ytmaker.media.karaoke import karaoke_cues, piece_captions, read_marks
from ytmaker.media.subtitles import AssStyle
from ytmaker.providers.base import Voice
from ytmaker.providers.edge import EdgeVoice
from ytmaker.providers.local.voice import EspeakVoice

FPS = 30
SAMPLES = {
    "en": (
        "Bubble tea began in Taiwan in the nineteen eighties. Today you can find it in almost "
        "every large city on earth. It is sweet, it is playful, and it is easy to customise. "
        "Take a cup of tea, add milk and sugar, shake it with ice, and drop in chewy pearls."
    ),
    "zh-TW": (
        "夜市的起源，可以追溯到早期廟口的市集。攤販跟著人潮而來，慢慢形成今天的夜市。"
        "走進夜市，最先迎接你的是香氣。烤香腸滋滋作響，鹽酥雞的油香飄散在空氣中。"
    ),
}
# About 20 s of narration each (the spread-mode figure is for a 20 s segment).
TWENTY_SECONDS = {
    "en": (
        "Two tea houses in Taiwan are usually named as the birthplace of the drink. One is in "
        "Taichung and the other is in Tainan, and both tell the story a little differently. "
        "What everyone agrees on is that tea stands were already selling cold shaken tea, and "
        "someone had the idea of adding the sweet pearls that were popular as a dessert. "
        "Customers loved it."
    ),
    "zh-TW": (
        "走進夜市，最先迎接你的通常是香氣。烤香腸在炭火上滋滋作響，鹽酥雞的油香飄散在空氣中，"
        "臭豆腐的味道雖然強烈，卻讓許多人一聞就忍不住排隊。珍珠奶茶、蚵仔煎，"
        "都是台灣美食地圖。"
    ),
}
_K = re.compile(r"\{\\k(\d+)\}([^{]*)")


@dataclass
class Figure:
    label: str
    words: int
    max_gap_ms: float
    mean_gap_ms: float
    seconds: float


def lit_times(text: str, audio: Path, language: str, spread: bool) -> list[float]:
    """For every lit unit, when libass first shows it lit, read back from the ASS we burn:
    the Dialogue's start plus the `\\k` centiseconds before the unit, rounded up to a frame."""
    end = wav_seconds(audio)
    if spread:  # as for a voice that left no timing beside its audio
        hidden = audio.with_name(audio.stem + ".untimed.wav")
        hidden.write_bytes(audio.read_bytes())
        audio = hidden
    _, ass = piece_captions(text, audio, end, language, None, AssStyle(), (1080, 1920), "&H00FF")
    out: list[float] = []
    for line in (ass or "").splitlines():
        if not line.startswith("Dialogue:"):
            continue
        fields = line.split(",", 9)
        at = _seconds(fields[1]) * 100
        for k, shown in _K.findall(fields[9]):
            if shown:
                out.append(math.ceil(at * 10 / 1000 * FPS - 1e-9) / FPS)
            at += int(k)
    return out


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def engine_starts(text: str, audio: Path, language: str) -> list[float]:
    """espeak-ng's start of each lit unit (the times karaoke uses, before ASS and frames)."""
    end = wav_seconds(audio)
    cues = karaoke_cues(text, end, language, None, read_marks(audio), None)
    return [at for cue in cues for _, at in cue.syllables]


def onsets_after_pauses(audio: Path, min_pause: float = 0.12) -> list[float]:
    """Where sound starts again after each silence of at least `min_pause` s: the first sample
    above -50 dBFS (an energy threshold would come late on quiet consonants such as `s`)."""
    with wave.open(str(audio), "rb") as wav:
        rate = wav.getframerate()
        samples = np.abs(np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(int))
    loud = np.flatnonzero(samples > 32768 * 10 ** (-50 / 20))
    if loud.size == 0:
        return []
    after = loud[1:][np.diff(loud) > min_pause * rate]
    return [float(loud[0]) / rate, *(float(i) / rate for i in after)]


def measure_voice(
    language: str, folder: Path, voice: Voice | None = None, events: str = "espeak-ng events"
) -> tuple[Figure, Figure]:
    text = SAMPLES[language]
    audio = folder / f"voice-{language}-{events.split()[0]}.wav"
    (voice or EspeakVoice()).synthesize(text, language, audio)
    starts = engine_starts(text, audio, language)
    lit = lit_times(text, audio, language, spread=False)
    gaps = [abs(a - b) for a, b in zip(lit, starts, strict=True)]
    engine = Figure(f"voice timing vs {events} ({language})", len(gaps),
                    max(gaps) * 1000, float(np.mean(gaps)) * 1000, wav_seconds(audio))  # fmt: skip
    onsets = onsets_after_pauses(audio)
    # each onset after a pause belongs to the lit unit whose engine start is nearest
    pairs = [(o, min(range(len(starts)), key=lambda i, o=o: abs(starts[i] - o))) for o in onsets]
    audio_gaps = [abs(lit[i] - o) for o, i in pairs if abs(starts[i] - o) < 0.5]
    measured = Figure(
        f"voice timing vs onsets in the audio ({language}, {events.split()[0]})",
        len(audio_gaps),
        max(audio_gaps, default=0.0) * 1000,
        float(np.mean(audio_gaps)) * 1000 if audio_gaps else 0.0,
        wav_seconds(audio),
    )
    return engine, measured


def measure_spread(language: str, folder: Path) -> Figure:
    text = TWENTY_SECONDS[language]
    audio = folder / f"spread-{language}.wav"
    EspeakVoice().synthesize(text, language, audio)
    starts = engine_starts(text, audio, language)
    lit = lit_times(text, audio, language, spread=True)
    gaps = [abs(a - b) for a, b in zip(lit, starts, strict=True)]
    return Figure(
        f"spread mode vs espeak-ng events ({language}, one segment)",
        len(gaps),
        max(gaps) * 1000,
        float(np.mean(gaps)) * 1000,
        wav_seconds(audio),
    )


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    with tempfile.TemporaryDirectory(prefix="ytmaker-karaoke-") as tmp:
        folder = Path(tmp)
        figures = []
        for language in SAMPLES:
            figures += measure_voice(language, folder)
            figures.append(measure_spread(language, folder))
        with FakeEdge() as edge:
            for language in SAMPLES:
                voice = EdgeVoice(url=edge.url, timeout=60)
                figures += measure_voice(language, folder, voice, "edge WordBoundary events")
    print("| what | words | audio s | max gap ms | mean gap ms |")
    print("|---|---:|---:|---:|---:|")
    for f in figures:
        print(f"| {f.label} | {f.words} | {f.seconds:.1f} | {f.max_gap_ms:.0f} | "
              f"{f.mean_gap_ms:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
