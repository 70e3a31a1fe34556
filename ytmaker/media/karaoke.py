"""Word-by-word captions (`subtitles.style: "words"`): each cue is shown as in `line` mode and
each word (each character for Chinese) lights up when it is spoken, with ASS karaoke tags
(`{\\k<centiseconds>}`) burned in by the same FFmpeg pass as the cue itself.

Where the words start:

- **voice timing**: the voice wrote `<audio>.words.json` beside its WAV (the offline espeak-ng
  voice does: its synthesis callback reports where each word starts in the audio and in the
  text); words the engine gives no event for are placed between their timed neighbours;
- **spread**: no such file (Gemini's voice gives no timing): the words are spread over the
  voiced part of the piece's audio in proportion to their syllables (Latin) or characters
  (Chinese), with a little room after punctuation.

Timings are computed per piece and clamped to it, so a highlight never crosses a segment
boundary: whatever the drift, it is bounded by one segment.
"""

from __future__ import annotations

import json
import re
import unicodedata
import wave
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ytmaker.files import atomic_write_text
from ytmaker.media.subtitles import (
    CONTROL,
    WORD_JOINER,
    AssStyle,
    Cue,
    _ass_time,
    ass_script,
    split_cues,
    to_ass,
)

WORDS_SUFFIX = ".words.json"
VOWELS = re.compile(r"[aeiouyAEIOUY\u00c0-\u024f]+")
# Extra room after punctuation in spread mode, in syllables: voices pause there.
PAUSE_AFTER = {**dict.fromkeys(",、，:;：；", 1.0), **dict.fromkeys(".!?。！？…", 2.0)}
SILENCE_DB = -40.0  # below the peak: silence (TTS audio is clean)
SILENCE_FLOOR = 100  # and never above about -50 dBFS
PAUSE_SECONDS = 0.15  # a silence this long is a pause between clauses
PAUSE_REACH = 3.0  # s: a pause is matched to punctuation spread at most this far from it


@dataclass(frozen=True)
class WordMark:
    """Where a word starts: `char` (0-based, in the text the voice spoke) and `start` (s)."""

    char: int
    length: int
    start: float


@dataclass
class KaraokeCue:
    start: float
    end: float
    text: str  # as in line mode: at most two lines joined by "\n"
    syllables: list[tuple[str, float]]  # (text as typed, with "\n" breaks; when it lights up)


# --- the voice's side ---------------------------------------------------------------------


def words_path(audio: Path) -> Path:
    return Path(audio).with_suffix(WORDS_SUFFIX)


def write_marks(
    audio: Path, spoken: str, marks: Sequence[WordMark], engine: str, frames: int
) -> None:
    """Beside the WAV: what was spoken and where each word starts in it; `frames` (the WAV's
    length in samples) ties the file to that WAV, so a WAV made again by another voice is
    never timed by stale marks."""
    data = {
        "engine": engine,
        "frames": frames,
        "text": spoken,
        "words": [[m.char, m.length, round(m.start, 4)] for m in marks],
    }
    atomic_write_text(words_path(audio), json.dumps(data, ensure_ascii=False))


def read_marks(audio: Path) -> tuple[str, list[WordMark]] | None:
    """The spoken text and word marks a voice left beside `audio`, or None (spread mode)."""
    try:
        data = json.loads(words_path(audio).read_text("utf-8"))
        marks = [WordMark(int(c), int(n), float(t)) for c, n, t in data["words"]]
        with wave.open(str(audio), "rb") as wav:
            if wav.getnframes() != int(data["frames"]):
                return None
        return str(data["text"]), marks
    except (OSError, ValueError, KeyError, TypeError, EOFError, wave.Error):
        return None


# --- the text's side ----------------------------------------------------------------------


def flat_map(text: str) -> tuple[str, list[int | None]]:
    """The text as cues show it (control characters dropped, whitespace runs one space, no
    space at either end) and, for each character of `text`, its index there (None: gone)."""
    out: list[str] = []
    where: list[int | None] = [None] * len(text)
    space = False
    for i, char in enumerate(text):
        if CONTROL.match(char):
            continue
        if char.isspace():
            space = space or bool(out)
            continue
        if space:
            out.append(" ")
            space = False
        where[i] = len(out)
        out.append(char)
    return "".join(out), where


def is_cjk_char(char: str) -> bool:
    """A character spoken on its own: Han, kana, Hangul."""
    code = ord(char)
    return (
        0x3400 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
        or 0x20000 <= code <= 0x2FA1F
    )


def _punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def tokens(flat: str) -> list[tuple[int, int]]:
    """The units that light up, as [start, end) spans of `flat`: each CJK character, each
    run of other characters between spaces; punctuation stays with the unit before it."""
    spans: list[list[int]] = []
    i = 0
    while i < len(flat):
        char = flat[i]
        if char == " ":
            i += 1
        elif is_cjk_char(char):
            spans.append([i, i + 1])
            i += 1
        elif _punctuation(char) and spans and spans[-1][1] == i:
            spans[-1][1] += 1
            i += 1
        else:
            j = i
            while j < len(flat) and flat[j] != " " and not is_cjk_char(flat[j]):
                j += 1
            spans.append([i, j])
            i = j
    return [(a, b) for a, b in spans]


def weight(token: str) -> float:
    """Spoken length in syllables: one per CJK character, vowel groups for a Latin word, one
    per digit; nothing for punctuation alone."""
    if any(is_cjk_char(c) for c in token):
        return float(sum(is_cjk_char(c) for c in token))
    digits = sum(c.isdigit() for c in token)
    letters = "".join(c for c in token if c.isalpha()).lower()
    if not letters:
        return float(digits)
    groups = len(VOWELS.findall(letters))
    if groups > 1 and letters.endswith("e") and not letters.endswith(("le", "ee")):
        groups -= 1  # a silent e: "are", "were", "made"
    return float(max(1, groups) + digits)


def _room(token: str) -> float:
    """Weight plus the pause its closing punctuation brings."""
    pause = max((PAUSE_AFTER.get(c, 0.0) for c in token[-2:]), default=0.0)
    return weight(token) + pause


# --- timing -------------------------------------------------------------------------------


def token_times(
    text: str,
    end: float,
    marks: tuple[str, list[WordMark]] | None,
    runs: list[tuple[float, float]] | None = None,
) -> tuple[str, list[tuple[int, int]], list[float]]:
    """The flat text, its tokens, and when each starts, within [0, end], never decreasing.
    With `marks` (voice timing) the voice's word starts are used; else (spread mode) the words
    are spread over the sound `runs` of the audio, each run after a pause starting a clause."""
    flat, where = flat_map(text)
    spans = tokens(flat)
    rooms = [_room(flat[a:b]) for a, b in spans]
    if marks is not None:
        known = _from_marks(text, where, spans, marks)
        return flat, spans, _fill(known, rooms, 0.0, end)
    runs = [(max(0.0, min(a, end)), max(0.0, min(b, end))) for a, b in runs or [(0.0, end)]]
    start, stop = runs[0][0], runs[-1][1]
    known = _from_pauses(flat, spans, rooms, runs)
    return flat, spans, _fill(known, rooms, start, stop)


def _from_pauses(
    flat: str, spans: list[tuple[int, int]], rooms: list[float], runs: list[tuple[float, float]]
) -> list[float | None]:
    """Voices pause at punctuation: each sound run after a pause, in order, starts at the
    token after punctuation whose spread time (given the runs placed so far) is nearest, if
    it is within PAUSE_REACH."""
    known: list[float | None] = [None] * len(spans)
    breaks = [i for i in range(1, len(spans)) if _pause_after(flat[slice(*spans[i - 1])])]
    start, stop = runs[0][0], runs[-1][1]
    for run_start, _ in runs[1:]:
        spread = _fill(known, rooms, start, stop)
        placed = max((i for i, t in enumerate(known) if t is not None), default=0)
        choices = [i for i in breaks if i > placed and abs(spread[i] - run_start) <= PAUSE_REACH]
        if choices:
            known[min(choices, key=lambda i: abs(spread[i] - run_start))] = run_start
    return known


def _pause_after(token: str) -> bool:
    return any(c in PAUSE_AFTER for c in token[-2:])


def _from_marks(
    text: str,
    where: list[int | None],
    spans: list[tuple[int, int]],
    marks: tuple[str, list[WordMark]],
) -> list[float | None]:
    """Each token's start from the first mark that falls in it (the voice spoke `spoken`,
    which is `text` stripped; another text means the audio is stale: no marks)."""
    spoken, found = marks
    lead = len(text) - len(text.lstrip())
    if text.strip() != spoken:
        return [None] * len(spans)
    owner = {}
    for index, (a, b) in enumerate(spans):
        for position in range(a, b):
            owner[position] = index
    known: list[float | None] = [None] * len(spans)
    for mark in found:
        at = lead + mark.char
        flat_at = where[at] if 0 <= at < len(where) else None
        token = owner.get(flat_at) if flat_at is not None else None
        if token is not None and known[token] is None:
            known[token] = mark.start
    return known


def _fill(known: list[float | None], rooms: list[float], start: float, end: float) -> list[float]:
    """Known times kept (made non-decreasing and within [start, end]); each unknown one placed
    between its timed neighbours in proportion to the `rooms` (syllables) before it."""
    count = len(known)
    position = [0.0]
    for room in rooms:
        position.append(position[-1] + room)
    anchors, last = [(0.0, start)], start
    for index, at in enumerate(known):
        if at is not None:
            last = min(max(at, last), end)
            anchors.append((position[index], last))
    anchors.append((position[count], max(end, last)))
    times, k = [], 0
    for index in range(count):
        if known[index] is not None:
            k += 1
            times.append(anchors[k][1])
            continue
        (p0, t0), (p1, t1) = anchors[k], anchors[k + 1]
        share = (position[index] - p0) / (p1 - p0) if p1 > p0 else 0.0
        times.append(min(t0 + (t1 - t0) * share, end))
    return times


def sound_runs(audio: Path) -> list[tuple[float, float]]:
    """The stretches of sound in a 16-bit WAV, split at silences of at least PAUSE_SECONDS
    (silence: below SILENCE_DB under the peak); the whole file if it cannot be read so."""
    with wave.open(str(audio), "rb") as wav:
        rate, width = wav.getframerate(), wav.getsampwidth()
        channels, raw = wav.getnchannels(), wav.readframes(wav.getnframes())
    if width != 2 or not raw:
        return [(0.0, len(raw) / max(width * channels * rate, 1))]
    samples = np.abs(np.frombuffer(raw, "<i2").reshape(-1, channels).astype(np.int32)).max(1)
    level = max(float(samples.max()) * 10 ** (SILENCE_DB / 20), SILENCE_FLOOR)
    loud = np.flatnonzero(samples > level)
    if loud.size == 0:
        return [(0.0, len(samples) / rate)]
    cuts = np.flatnonzero(np.diff(loud) > PAUSE_SECONDS * rate)
    starts = [loud[0], *loud[cuts + 1]]
    ends = [*loud[cuts], loud[-1]]
    return [(float(a) / rate, float(b + 1) / rate) for a, b in zip(starts, ends, strict=True)]


# --- cues and ASS -------------------------------------------------------------------------


def karaoke_cues(
    text: str,
    end: float,
    language: str,
    max_chars: int | None,
    marks: tuple[str, list[WordMark]] | None,
    runs: list[tuple[float, float]] | None = None,
) -> list[KaraokeCue]:
    """Line-mode cues, each timed from its first word to the next cue's first word, with the
    time each unit of it lights up."""
    line_cues = split_cues(text, 0.0, end, language, max_chars)
    if not line_cues:
        return []
    flat, spans, times = token_times(text, end, marks, runs)
    owner = [-1] * len(flat)
    for index, (a, b) in enumerate(spans):
        owner[a:b] = [index] * (b - a)
    position, grouped = 0, []
    for cue in line_cues:
        syllables: list[list] = []
        for char in cue.text:
            if char in " \n":
                if syllables:
                    syllables[-1][0] += char
                continue
            while position < len(flat) and flat[position] != char:
                position += 1
            token = owner[position] if position < len(flat) else -1
            position += 1
            at = times[token] if token >= 0 else (syllables[-1][1] if syllables else 0.0)
            if syllables and syllables[-1][2] == token and token >= 0:
                syllables[-1][0] += char
            else:
                syllables.append([char, at, token])
        grouped.append([(s[0], s[1]) for s in syllables])
    starts = [0.0] + [g[0][1] if g else 0.0 for g in grouped[1:]]
    starts = [max(s, starts[i - 1]) if i else s for i, s in enumerate(starts)]
    return [
        KaraokeCue(
            start=starts[i],
            end=starts[i + 1] if i + 1 < len(starts) else end,
            text=cue.text,
            syllables=grouped[i],
        )
        for i, cue in enumerate(line_cues)
    ]


def _literal(fragment: str) -> str:
    """A piece of a cue shown as typed: no override block, no \\N or \\h escape."""
    fragment = fragment.replace("\\", "\\" + WORD_JOINER)
    return fragment.replace("{", "\\{").replace("}", "\\}").replace("\n", "\\N")


def dialogue(cue: KaraokeCue) -> str:
    """One `Dialogue:` line; `\\k` durations are differences of rounded times, so rounding
    never adds up along a cue."""
    begin = round(cue.start * 100)
    marks = [max(round(at * 100), begin) for _, at in cue.syllables]
    parts = []
    if marks and marks[0] > begin:
        parts.append(f"{{\\k{marks[0] - begin}}}")
    ends = [*marks[1:], max(round(cue.end * 100), marks[-1] if marks else begin)]
    for (fragment, _), mark, stop in zip(cue.syllables, marks, ends, strict=True):
        parts.append(f"{{\\k{max(stop - mark, 0)}}}{_literal(fragment.rstrip(' ') or ' ')}")
        if fragment != fragment.rstrip(" "):
            parts.append(" ")
    body = "".join(parts).rstrip(" ").replace("\\N ", "\\N")
    return f"Dialogue: 0,{_ass_time(cue.start)},{_ass_time(cue.end)},Default,,0,0,0,,{body}"


def karaoke_ass(
    cues: list[KaraokeCue], width: int, height: int, style: AssStyle, highlight: str
) -> str:
    """The ASS script: text in the style's colour, each unit in `highlight` from its time."""
    lit = replace(style, primary=highlight, secondary=style.primary)
    return ass_script([dialogue(cue) for cue in cues], width, height, lit)


def as_cues(cues: list[KaraokeCue], offset: float = 0.0) -> list[Cue]:
    """Plain cues (for the .srt), moved by `offset`."""
    return [Cue(c.start + offset, c.end + offset, c.text) for c in cues]


def piece_captions(
    text: str,
    audio: Path,
    end: float,
    language: str,
    max_chars: int | None,
    style: AssStyle,
    size: tuple[int, int],
    highlight: str | None,
) -> tuple[list[Cue], str | None]:
    """One piece's cues (times from its start) and its ASS script (None: nothing to show).
    `highlight` None: line mode; else words mode, in that ASS colour."""
    if highlight is None:
        cues = split_cues(text, 0.0, end, language, max_chars)
        return cues, (to_ass(cues, size[0], size[1], style) if cues else None)
    marks = read_marks(audio)
    runs = sound_runs(audio) if marks is None else None
    lit = karaoke_cues(text, end, language, max_chars, marks, runs)
    return as_cues(lit), (karaoke_ass(lit, size[0], size[1], style, highlight) if lit else None)
