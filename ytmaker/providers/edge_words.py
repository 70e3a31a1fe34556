"""Edge's word boundaries placed in the text they were spoken from.

A `WordBoundary` event carries the word as spoken text and where it starts in the audio, never
a position in the text: each is looked for in order, from where the previous one ended (a
Chinese word is one or two characters; punctuation gets no event). A word not found nearby is
left out, and karaoke places it between its timed neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

from ytmaker.media.karaoke import WordMark

LOOKAHEAD = 80  # characters: a boundary further on than this from the last is not trusted


@dataclass(frozen=True)
class Boundary:
    text: str
    start: float  # seconds from the start of the request's audio
    length: float  # seconds


def align(text: str, boundaries: list[Boundary]) -> list[WordMark]:
    """A WordMark (character position in `text`, length, start) per boundary found."""
    folded = text.casefold()
    marks: list[WordMark] = []
    position = 0
    for boundary in boundaries:
        word = boundary.text.strip().casefold()
        if not word:
            continue
        at = folded.find(word, position, position + LOOKAHEAD + len(word))
        if at < 0:
            continue
        marks.append(WordMark(at, len(word), boundary.start))
        position = at + len(word)
    return marks


def coverage(text: str, marks: list[WordMark]) -> float:
    """How far into the text's spoken characters the timed words reach (1.0: to the end)."""
    spoken = [i for i, char in enumerate(text) if char.isalnum()]
    if not spoken:
        return 1.0
    if not marks:
        return 0.0
    reached = max(mark.char + mark.length for mark in marks)
    return min(1.0, reached / (spoken[-1] + 1))
