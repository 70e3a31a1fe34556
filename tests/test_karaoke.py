"""Word-by-word captions: karaoke timing from the offline voice's word events or spread over
the audio, the ASS burned in, literal text, and highlights that stay inside their piece."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.karaoke import (
    SAMPLES,
    TWENTY_SECONDS,
    engine_starts,
    lit_times,
    onsets_after_pauses,
    wav_seconds,
)
from ytmaker.media.karaoke import (
    WordMark,
    flat_map,
    karaoke_cues,
    piece_captions,
    read_marks,
    sound_runs,
    token_times,
    words_path,
)
from ytmaker.media.probe import frame_at, probe
from ytmaker.media.render import RenderPiece, RenderSettings, render_video
from ytmaker.media.subtitles import AssStyle, _flat
from ytmaker.media.visual import VisualConfig
from ytmaker.providers.local.voice import EspeakVoice

WORDS = VisualConfig.from_dict({"subtitles": {"style": "words", "highlight_color": "#FFD400"}})
FAST = RenderSettings(preset="ultrafast")
# ASS override syntax, FFmpeg filter syntax and a NUL-free mix of both, as words of a narration
HOSTILE = "Prices {\\b1}fell{\\b0} 50% \\N at 'Shilin' [0:v]; overlay=x=1:y=2, %{pts} \\h ok {}"
KARAOKE_TAG = re.compile(r"\{\\k\d+\}")


@pytest.fixture(scope="module")
def voiced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("voice")
    out = {}
    for language, text in SAMPLES.items():
        out[language] = folder / f"{language}.wav"
        EspeakVoice().synthesize(text, language, out[language])
    return out


def _events(audio: Path) -> list[dict]:
    return json.loads(words_path(audio).read_text("utf-8"))["words"]


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_the_offline_voice_writes_its_word_events_beside_the_wav(voiced, language) -> None:
    audio = voiced[language]
    events = _events(audio)
    spoken = SAMPLES[language].strip()
    assert len(events) >= 40
    starts = [start for _, _, start in events]
    assert starts == sorted(starts) and starts[0] < 0.1
    assert starts[-1] < wav_seconds(audio)
    for char, length, _ in events:  # each event points at a real word of the text
        assert 0 <= char < len(spoken) and length >= 1 and not spoken[char].isspace()


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_cue_times_are_the_word_events(voiced, language) -> None:
    """Each word lights up at espeak-ng's start for it: a unit an event points into starts at
    the first such event, and what libass shows (the \\k times read back from the ASS, on
    30 fps frames) is within 80 ms of the events, and of where sound starts again after each
    pause in the audio itself."""
    audio, text = voiced[language], SAMPLES[language]
    flat, spans, times = token_times(text, wav_seconds(audio), read_marks(audio))
    _, where = flat_map(text)
    lead = len(text) - len(text.lstrip())
    first: dict[int, float] = {}
    for char, _, start in _events(audio):
        at = where[lead + char]
        unit = next(i for i, (a, b) in enumerate(spans) if a <= at < b)
        first.setdefault(unit, start)
    assert len(first) >= 0.8 * len(spans)  # most units have their own event
    for unit, start in first.items():
        assert times[unit] == pytest.approx(start, abs=1e-6), flat[slice(*spans[unit])]

    shown = lit_times(text, audio, language, spread=False)
    starts = engine_starts(text, audio, language)
    assert len(shown) == len(starts) == len(spans)
    assert max(abs(a - b) for a, b in zip(shown, starts, strict=True)) <= 0.080
    onsets = onsets_after_pauses(audio)
    assert len(onsets) >= 5
    for onset in onsets:
        nearest = min(range(len(starts)), key=lambda i: abs(starts[i] - onset))
        assert abs(shown[nearest] - onset) <= 0.080, (onset, flat[slice(*spans[nearest])])


def test_chinese_lights_up_each_character(voiced) -> None:
    audio, text = voiced["zh-TW"], SAMPLES["zh-TW"]
    cues = karaoke_cues(text, wav_seconds(audio), "zh-TW", None, read_marks(audio))
    for cue in cues:
        for fragment, _ in cue.syllables:
            han = [c for c in fragment if "\u4e00" <= c <= "\u9fff"]
            assert len(han) <= 1, fragment  # punctuation rides with its character


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_spread_mode_is_monotonic_bounded_and_close_on_a_20_s_segment(
    tmp_path: Path, language: str
) -> None:
    """No timing from the voice (Gemini's): words spread over the sound; on a 20 s segment
    voiced offline the highlights stay within 0.5 s of espeak-ng's own word starts."""
    text = TWENTY_SECONDS[language]
    audio = tmp_path / "piece.wav"
    EspeakVoice().synthesize(text, language, audio)
    end = wav_seconds(audio)
    assert 18 <= end <= 24
    runs = sound_runs(audio)
    _, _, times = token_times(text, end, None, runs)
    assert times == sorted(times)
    assert runs[0][0] <= times[0] and times[-1] <= runs[-1][1] <= end
    shown = lit_times(text, audio, language, spread=True)
    starts = engine_starts(text, audio, language)
    gaps = [abs(a - b) for a, b in zip(shown, starts, strict=True)]
    assert max(gaps) <= 0.5 and float(np.mean(gaps)) <= 0.2


def test_spread_mode_without_pauses_or_sound_still_covers_the_piece(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(22050)
        wav.writeframes(b"\0\0" * 22050 * 3)
    cues, ass = piece_captions(
        "one two three four five six", silent, 3.0, "en", None, AssStyle(), (1080, 1920), "&H0"
    )
    assert cues[0].start == 0 and cues[-1].end == 3.0
    assert ass is not None and len(KARAOKE_TAG.findall(ass)) == 6


def test_highlights_never_leave_their_piece(tmp_path: Path) -> None:
    """Marks that claim times past the piece (a stale or odd engine) are clamped to it."""
    text = "alpha beta gamma delta"
    marks = (text, [WordMark(0, 5, 0.0), WordMark(6, 4, 9.0), WordMark(11, 5, 2.0)])
    flat, _, times = token_times(text, 4.0, marks)
    assert times == sorted(times) and times[-1] <= 4.0
    cues = karaoke_cues(text, 4.0, "en", None, marks)
    assert cues[-1].end == 4.0
    assert all(0 <= at <= 4.0 for cue in cues for _, at in cue.syllables)


def test_stale_marks_are_not_used(voiced, tmp_path: Path) -> None:
    """A WAV made again (another voice, another text) is not timed by the old marks file."""
    audio = tmp_path / "piece.wav"
    audio.write_bytes(voiced["en"].read_bytes())
    words_path(audio).write_text(words_path(voiced["en"]).read_text("utf-8"), "utf-8")
    assert read_marks(audio) is not None
    with wave.open(str(audio), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(22050)
        wav.writeframes(b"\0\0" * 1000)
    assert read_marks(audio) is None


def test_flat_map_matches_the_cue_text() -> None:
    for text in ["  a\tb\x00c \u3000 d  ", "夜市，\n\n好吃", HOSTILE, "\x1c x \x85 y"]:
        flat, where = flat_map(text)
        assert flat == _flat(text)
        for i, j in enumerate(where):
            if j is not None:
                assert flat[j] == text[i]


def test_literal_text_in_words_mode(tmp_path: Path) -> None:
    """ASS override blocks, \\N and \\h, and FFmpeg filter syntax in the words are shown as
    typed: the only override blocks in the ASS are our karaoke tags, and the video renders."""
    audio = tmp_path / "piece.wav"
    EspeakVoice().synthesize(HOSTILE, "en", audio)
    seconds = wav_seconds(audio)
    cues, ass = piece_captions(HOSTILE, audio, seconds, "en", None, AssStyle(), (1080, 1920), "&H0")
    assert ass is not None
    dialogues = [line.split(",", 9)[9] for line in ass.splitlines() if line[:9] == "Dialogue:"]
    assert len(dialogues) == len(cues)
    for text, cue in zip(dialogues, cues, strict=True):
        blocks = re.findall(r"(?<!\\)\{[^}]*\}", text)
        assert all(KARAOKE_TAG.fullmatch(block) for block in blocks), blocks
        plain = KARAOKE_TAG.sub("", text)
        # a typed \\N or \\h is broken by a word joiner: the only \\N are our line breaks
        assert "\\h" not in plain and plain.count("\\N") == cue.text.count("\n")
    joined = " ".join(c.text.replace("\n", " ") for c in cues)
    assert joined == _flat(HOSTILE)
    image = tmp_path / "bg.png"
    Image.new("RGB", (1080, 1920), (20, 60, 120)).save(image)
    out = tmp_path / "video.mp4"
    settings = RenderSettings(width=1080, height=1920, preset="ultrafast")
    info = render_video(
        [RenderPiece(HOSTILE, audio, seconds, image=image)], out, tmp_path / "work", settings,
        language="en", visual=WORDS,
    )  # fmt: skip
    assert (info.width, info.height) == (1080, 1920)
    srt = out.with_suffix(".srt").read_text("utf-8")
    assert "{\\b1}fell{\\b0}" in srt and "%{pts}" in srt and "[0:v];" in srt


def _yellow(frame: np.ndarray) -> int:
    r, g, b = frame[..., 0].astype(int), frame[..., 1].astype(int), frame[..., 2].astype(int)
    return int(((r > 200) & (g > 170) & (b < 90)).sum())


def test_words_light_up_in_the_burned_video_as_they_are_spoken(tmp_path: Path) -> None:
    """The same FFmpeg pass burns the highlight: more of the caption is yellow as the piece
    goes on, and none of it before the first word."""
    text = "Bubble tea began in Taiwan in the nineteen eighties."
    piece = tmp_path / "piece.wav"
    EspeakVoice().synthesize(text, "en", piece)
    seconds = wav_seconds(piece)
    image = tmp_path / "bg.png"
    Image.new("RGB", (1920, 1080), (20, 60, 120)).save(image)
    out = tmp_path / "video.mp4"
    render_video(
        [RenderPiece(text, piece, seconds, image=image)], out, tmp_path / "work", FAST,
        language="en", visual=WORDS.model_copy(update={"motion": "off"}),
    )  # fmt: skip
    assert probe(out).video is not None
    lit = [
        _yellow(np.asarray(frame_at(out, t).convert("RGB")))
        for t in (0.0, seconds * 0.4, seconds * 0.85)
    ]
    assert lit[0] < lit[1] < lit[2], lit
