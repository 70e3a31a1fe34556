"""Property-based tests: the script rules and the subtitle builder hold for arbitrary input."""

from __future__ import annotations

import math
import re
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ytmaker.errors import ScriptValidationError
from ytmaker.media.subtitles import (
    CONTROL,
    MAX_LINES,
    WORD_JOINER,
    ass_escape,
    line_width,
    split_cues,
    to_ass,
    to_srt,
    wrap_lines,
)
from ytmaker.script import (
    MAX_CHARS_PER_SECOND,
    SPEECH_SLACK,
    Metadata,
    Narration,
    Script,
    ScriptRules,
    Segment,
    max_segments,
    spoken_seconds,
    validate_script,
)

EXAMPLES = settings(max_examples=200, deadline=None)
LANGUAGES = ["zh-TW", "en", "ja", "ko", "ar", "he"]

# ---------------------------------------------------------------- the script validator

RULES = ScriptRules()


@st.composite
def rules(draw: st.DrawFn) -> ScriptRules:
    """The defaults, or limits as a user may set them (positive, min below max)."""
    if draw(st.booleans()):
        return RULES
    segment_min = draw(st.floats(0.5, 30))
    segment_max = segment_min + draw(st.floats(0, 60))
    total_min = draw(st.floats(0, 600))
    return ScriptRules(
        segment_min=segment_min,
        segment_max=segment_max,
        total_min=total_min,
        total_max=total_min + draw(st.floats(0, 1200)),
    )


ODD_SECONDS = [0.0, -0.0, -1.0, 4.999, 20.001, 1e9, 1e308, math.nan, math.inf, -math.inf]
HOSTILE_TEXT = ["", " ", "\n\t\u3000", "夜" * 400, "word " * 200, "x" * 10_000]
texts = st.text(max_size=60).map(lambda tail: "夜市" + tail)  # something to say, then anything


def seconds(limits: ScriptRules) -> st.SearchStrategy[float]:
    """Durations inside the limits, often exactly on them."""
    edges = st.sampled_from([limits.segment_min, limits.segment_max])
    return st.one_of(st.floats(limits.segment_min, limits.segment_max), edges)


def odd_seconds(limits: ScriptRules) -> st.SearchStrategy[float]:
    """Durations a model may send: just outside the limits, zero, negative, NaN, infinite."""
    edges = [limits.segment_min - 1e-9, limits.segment_max + 1e-9, *ODD_SECONDS]
    return st.one_of(st.sampled_from(edges), st.floats())


def _odd_duration(script: Script, draw: st.DrawFn, limits: ScriptRules) -> None:
    piece = draw(st.sampled_from(script.pieces()))
    piece.duration = draw(odd_seconds(limits))


def _odd_text(script: Script, draw: st.DrawFn, limits: ScriptRules) -> None:
    piece = draw(st.sampled_from(script.pieces()))
    piece.text = draw(st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=80)))


def _no_picture(script: Script, draw: st.DrawFn, limits: ScriptRules) -> None:
    draw(st.sampled_from(script.segments)).image_description = draw(st.sampled_from(["", " "]))


def _segment_count(script: Script, draw: st.DrawFn, limits: ScriptRules) -> None:
    count = draw(st.sampled_from([0, max_segments(limits) + 1, 500]))
    script.segments = (script.segments * count)[:count]


MUTATIONS = [_odd_duration, _odd_text, _no_picture, _segment_count]


@st.composite
def scripts(draw: st.DrawFn, limits: ScriptRules) -> Script:
    """A plausible script with up to two hostile changes."""
    most = max(1, min(max_segments(limits), 40))
    segments = [
        Segment(index=i, text=draw(texts), duration=draw(seconds(limits)), image_description="x")
        for i in range(1, draw(st.integers(1, most)) + 1)
    ]
    intro, outro = (
        Narration(text=draw(texts), duration=draw(st.floats(0.01, limits.segment_max)))
        for _ in range(2)
    )
    script = Script(
        language=draw(st.sampled_from(["zh-TW", "en"])),
        intro=intro,
        segments=segments,
        outro=outro,
        metadata=Metadata(title="t", description="d"),
        total_duration=draw(st.floats(allow_nan=True)),
    )
    for change in draw(st.lists(st.sampled_from(MUTATIONS), max_size=2)):
        if script.segments:
            change(script, draw, limits)
    return script


def _broken(script: Script, limits: ScriptRules, details: dict[str, Any]) -> bool:
    """Whether the rule the error names is really broken where it says."""
    field = details["field"]
    if "segment_index" in details:
        piece: Narration = script.segments[details["segment_index"] - 1]
    elif "piece" in details:
        piece = getattr(script, details["piece"])
    else:
        return _broken_overall(script, limits, field)
    if field == "image_description":
        return not script.segments[details["segment_index"] - 1].image_description.strip()
    if field == "duration" and "segment_index" in details:
        return not limits.segment_min <= piece.duration <= limits.segment_max
    if field == "duration":
        return not 0 < piece.duration < math.inf
    assert field == "text", details
    too_slow = "segment_index" in details and (
        spoken_seconds(piece.text, script.language) > limits.segment_max * SPEECH_SLACK
    )
    too_long = len(piece.text) > limits.segment_max * MAX_CHARS_PER_SECOND
    return not piece.text.strip() or too_long or too_slow


def _broken_overall(script: Script, limits: ScriptRules, field: str) -> bool:
    if field == "segments":
        return not script.segments or len(script.segments) > max_segments(limits)
    total = sum(p.duration for p in script.pieces())
    if field == "total_duration":
        return not limits.total_min <= total <= limits.total_max
    assert field == "text", field
    said = sum(spoken_seconds(p.text, script.language) for p in script.pieces())
    return said > limits.total_max * SPEECH_SLACK


def _keeps_every_rule(script: Script, limits: ScriptRules) -> None:
    assert 1 <= len(script.segments) <= max_segments(limits)
    for segment in script.segments:
        assert limits.segment_min <= segment.duration <= limits.segment_max
        assert segment.text.strip() and segment.image_description.strip()
        said = spoken_seconds(segment.text, script.language)
        assert said <= limits.segment_max * SPEECH_SLACK
    for piece in (script.intro, script.outro):
        assert piece.text.strip() and 0 < piece.duration < math.inf
    for piece in script.pieces():
        assert len(piece.text) <= limits.segment_max * MAX_CHARS_PER_SECOND
    total = sum(piece.duration for piece in script.pieces())
    assert limits.total_min <= total <= limits.total_max
    said = sum(spoken_seconds(piece.text, script.language) for piece in script.pieces())
    assert said <= limits.total_max * SPEECH_SLACK


@st.composite
def rules_and_scripts(draw: st.DrawFn) -> tuple[ScriptRules, Script]:
    limits = draw(rules())
    return limits, draw(scripts(limits))


def _plain(count: int = 12, each: float = 15.0, **intro: Any) -> tuple[ScriptRules, Script]:
    """Default rules and a script that keeps them, but for the intro fields given."""
    script = Script(
        language="zh-TW",
        intro=Narration(**{"text": "大家好", "duration": 10.0, **intro}),
        segments=[
            Segment(index=i, text="夜市小吃", duration=each, image_description="market")
            for i in range(1, count + 1)
        ],
        outro=Narration(text="再見", duration=10.0),
        metadata=Metadata(title="t", description="d"),
        total_duration=200.0,
    )
    return RULES, script


@EXAMPLES
@given(rules_and_scripts())
@example(_plain(each=math.nan))  # NaN durations passed every comparison: accepted
@example(_plain(duration=math.nan))  # a NaN intro made the total NaN: accepted
@example(_plain(duration=-40.0))  # a negative intro was accepted while the total fitted
@example(_plain(text=""))  # an empty intro was accepted (the voice failed later)
@example(_plain(text="夜" * 10_000))  # 10,000 characters, 45 minutes of speech: accepted
@example(_plain(count=500, each=1.0))  # refused as too many segments, first
def test_a_script_keeps_every_rule_or_the_error_names_the_broken_one(case) -> None:
    limits, script = case
    try:
        checked = validate_script(script, limits)
    except ScriptValidationError as err:
        assert err.details["field"] in {
            "segments",
            "text",
            "image_description",
            "duration",
            "total_duration",
        }
        assert _broken(script, limits, err.details), err.to_info()
    else:
        assert checked is script
        _keeps_every_rule(script, limits)


@EXAMPLES
@given(
    st.integers(1, max_segments(RULES)),
    st.sampled_from([RULES.segment_min, RULES.segment_max]),
    st.floats(0.01, 20),
)
def test_durations_on_the_limits_are_accepted_when_the_total_fits(count, each, intro) -> None:
    script = Script(
        language="zh-TW",
        intro=Narration(text="大家好", duration=intro),
        segments=[
            Segment(index=i, text="夜市", duration=each, image_description="market")
            for i in range(1, count + 1)
        ],
        outro=Narration(text="再見", duration=intro),
        metadata=Metadata(title="t", description="d"),
        total_duration=0,
    )
    total = sum(piece.duration for piece in script.pieces())
    if RULES.total_min <= total <= RULES.total_max:
        assert validate_script(script, RULES) is script
    else:
        try:
            validate_script(script, RULES)
        except ScriptValidationError as err:
            assert err.details["field"] == "total_duration"
        else:
            raise AssertionError(f"total {total} was accepted")


# ---------------------------------------------------------------- the subtitle builder

SPECIAL = "{}\\:'%[;\n\r\t\u2028\u00a0,-—"
WORLD = "🍜🧋👍🏽👨‍👩‍👧مرحبا بالعالمשלום עולם台灣夜市小吃。，！？「」、ｱｲウ한국어"
subtitle_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIAL),
        st.sampled_from(WORLD),
        st.characters(codec="utf-8"),
        st.sampled_from("abc xyz 0123"),
    ),
    max_size=300,
)
line_chars = st.one_of(st.none(), st.integers(1, 60))


def _visible(text: str) -> str:
    """The non-whitespace characters in order, control characters aside (split_cues drops them
    as nothing shows them): what must survive on screen."""
    return "".join(CONTROL.sub("", text).split())


def _shown_by_libass(text: str) -> str:
    """What libass shows for a Dialogue text (WrapStyle 0); fails on an override block."""
    shown, i = [], 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in {"\\N", "\\n", "\\h", "\\{", "\\}"}:
            shown.append({"\\N": "\n", "\\n": " ", "\\h": "\u00a0"}.get(pair, pair[1]))
            i += 2
            continue
        assert text[i] != "{", f"override block at {i} in {text!r}"
        shown.append(text[i])
        i += 1
    return "".join(shown)


def _collapsed(cue_text: str) -> str:
    """A cue's lines as the writers put them out: inner whitespace collapsed, blanks dropped."""
    lines = (" ".join(CONTROL.sub("", line).split()) for line in cue_text.split("\n"))
    return "\n".join(line for line in lines if line)


@EXAMPLES
@given(
    subtitle_text,
    st.floats(0, 3600),
    st.floats(0, 60),
    st.sampled_from(LANGUAGES),
    line_chars,
)
@example("00 0000", 0.0, 10.0, "en", 3)  # textwrap kept the space before a broken word: '00 '
def test_cues_cover_the_span_in_order_within_two_short_lines(
    text, start, span, language, max_chars
) -> None:
    end = start + span
    cues = split_cues(text, start, end, language, max_chars)
    if not _visible(text) or end == start:
        assert cues == []
        return
    assert cues[0].start == start and cues[-1].end == end
    for before, after in zip(cues, cues[1:], strict=False):
        assert before.end <= after.start
    width = line_width(language, max_chars)
    for cue in cues:
        assert start <= cue.start <= cue.end <= end
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= MAX_LINES
        assert all(line and line == line.strip() and len(line) <= width for line in lines)
    assert _visible("".join(cue.text for cue in cues)) == _visible(text)


@EXAMPLES
@given(subtitle_text, st.integers(1, 60), st.booleans())
def test_wrapped_lines_fit_the_width_and_lose_nothing(text, width, cjk) -> None:
    flat = " ".join(text.split())
    if not flat:
        return
    lines = wrap_lines(flat, width, cjk)
    assert all(0 < len(line) <= width for line in lines), lines
    assert _visible("".join(lines)) == _visible(text)


@EXAMPLES
@given(subtitle_text)
def test_ass_escape_shows_the_text_literally_and_opens_no_override_block(text) -> None:
    escaped = ass_escape(text)
    assert "\n" not in escaped and "\r" not in escaped
    shown = _shown_by_libass(escaped).replace("\\" + WORD_JOINER, "\\")
    assert shown == _collapsed(text)


@EXAMPLES
@given(subtitle_text, st.floats(0, 3600), st.floats(0.01, 60), st.sampled_from(LANGUAGES))
@example("before\x00after {\\b1}", 0.0, 1.0, "en")  # FFmpeg dropped all after the NUL
def test_the_ass_dialogue_and_the_srt_hold_the_literal_text(text, start, span, language) -> None:
    cues = split_cues(text, start, start + span, language)
    ass = to_ass(cues, style=None)
    srt = to_srt(cues)
    assert not CONTROL.search(ass) and not CONTROL.search(srt)
    ass_lines = ass.split("\n")
    dialogues = [line for line in ass_lines if line.startswith("Dialogue: ")]
    assert len(dialogues) == len(cues)
    for dialogue, cue in zip(dialogues, cues, strict=True):
        shown = _shown_by_libass(dialogue.split(",", 9)[9])
        assert shown.replace("\\" + WORD_JOINER, "\\") == cue.text
    blocks = [block for block in srt.split("\n\n") if block]
    assert len(blocks) == len(cues)
    for number, (block, cue) in enumerate(zip(blocks, cues, strict=True), start=1):
        head, times, *body = block.rstrip("\n").split("\n")
        assert head == str(number)
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", times)
        assert "\n".join(body) == cue.text
    assert _visible("".join(cue.text for cue in cues)) == _visible(text)


times = st.one_of(  # seconds up to ~4 months (the writers' int conversion overflows ~1e306)
    st.floats(-1e7, 1e7), st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324])
)


@EXAMPLES
@given(times, times)
@example(0.0, math.inf)  # to_ass raised OverflowError, far from the cause
@example(math.nan, math.nan)  # to_ass raised "cannot convert float NaN to integer"
@example(-1e308, 1e308)  # finite times whose span overflows
def test_cue_times_are_finite_and_in_order_or_refused(start, end) -> None:
    try:
        cues = split_cues("夜市 night market {\\b1}", start, end, "zh-TW")
    except ValueError:
        assert not (math.isfinite(end - start) and start <= end)
        return
    assert all(start <= cue.start <= cue.end <= end for cue in cues)
    assert to_ass(cues).count("Dialogue: ") == len(cues)
    assert to_srt(cues).count(" --> ") == len(cues)
