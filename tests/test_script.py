from pathlib import Path

import pytest

from ytmaker.errors import InputError, ScriptValidationError
from ytmaker.providers.local.script_writer import LocalScriptWriter
from ytmaker.script import Metadata, Narration, Script, ScriptRules, Segment, validate_script

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def _script(*durations: float) -> Script:
    segments = [
        Segment(index=i, text=f"段落 {i}", duration=d, image_description="夜市")
        for i, d in enumerate(durations, start=1)
    ]
    return Script(
        language="zh-TW",
        intro=Narration(text="嗨", duration=5),
        segments=segments,
        outro=Narration(text="再見", duration=5),
        metadata=Metadata(title="t", description="d", tags=[]),
        total_duration=10 + sum(durations),
    )


def test_a_25_second_segment_is_rejected_with_its_index_and_duration() -> None:
    with pytest.raises(ScriptValidationError) as caught:
        validate_script(_script(25, *[15] * 12), ScriptRules())
    assert "段落時長超過限制" in caught.value.message
    assert caught.value.details["segment_index"] == 1
    assert caught.value.details["duration"] == 25


def test_too_short_segment_and_total_are_rejected() -> None:
    with pytest.raises(ScriptValidationError, match="段落時長低於限制"):
        validate_script(_script(15, 3, *[15] * 11), ScriptRules())
    with pytest.raises(ScriptValidationError) as caught:
        validate_script(_script(15, 15), ScriptRules())
    assert caught.value.details["field"] == "total_duration"


def test_rules_are_configurable() -> None:
    validate_script(_script(15, 15), ScriptRules(total_min=30))


@pytest.mark.parametrize(
    ("sample", "language"),
    [
        ("night-markets.zh-TW.md", "zh-TW"),
        ("bubble-tea.en.md", "en"),
    ],
)
def test_local_writer_turns_the_samples_into_valid_scripts(sample: str, language: str) -> None:
    content = (SAMPLES / sample).read_text("utf-8")
    script = LocalScriptWriter().write(content, language, ScriptRules())
    validate_script(script, ScriptRules())
    assert 180 <= script.total_duration <= 600
    assert all(5 <= s.duration <= 20 for s in script.segments)
    assert [s.index for s in script.segments] == list(range(1, len(script.segments) + 1))
    assert script.metadata.title and script.metadata.tags
    joined = "".join(s.text for s in script.segments).replace(" ", "")
    assert content.splitlines()[-1].strip().replace(" ", "")[:20] in joined  # nothing dropped


def test_local_writer_is_deterministic() -> None:
    content = (SAMPLES / "night-markets.zh-TW.md").read_text("utf-8")
    first = LocalScriptWriter().write(content, "zh-TW", ScriptRules())
    assert first == LocalScriptWriter().write(content, "zh-TW", ScriptRules())


def test_content_too_short_says_how_long_it_is_and_what_to_do() -> None:
    with pytest.raises(InputError) as caught:
        LocalScriptWriter().write("夜市很好吃。", "zh-TW", ScriptRules())
    assert "too short" in caught.value.message
    assert "YTMAKER_TOTAL_MIN_SECONDS" in caught.value.message


def test_one_very_long_sentence_is_split_into_segments_that_fit() -> None:
    sentence = "，".join(["夜市裡有很多好吃的小吃和好玩的遊戲"] * 40) + "。"
    script = LocalScriptWriter().write(sentence, "zh-TW", ScriptRules(total_min=10))
    assert len(script.segments) > 5
    assert all(s.duration <= 20 for s in script.segments)


def test_punctuation_only_content_is_a_clear_input_error() -> None:
    with pytest.raises(InputError, match="no sentences"):
        LocalScriptWriter().write("。。。", "zh-TW", ScriptRules())


ALISHAN_EN = (
    "High in the mountains of central Taiwan, the Alishan range rises more than two thousand "
    "metres above the sea, and its tea gardens climb the slopes. "
) + "Farmers pick the leaves by hand in spring and in winter, and the tea is rolled tight. " * 6
ALISHAN_ZH = (
    "阿里山位於台灣中部的高山之上，海拔超過兩千公尺，山坡上種滿了茶樹，每年吸引許多遊客前來品茶與看日出。"
    + "茶農在春天和冬天用手採茶，再把茶葉揉成緊實的球形。" * 6
)
LOOSE = ScriptRules(segment_min=1, total_min=5)


def _words(text: str) -> set[str]:
    return set(text.replace(",", " ").replace(".", " ").replace("…", " ").split())


def test_the_title_is_the_projects_name_when_one_is_given() -> None:
    script = LocalScriptWriter().write(ALISHAN_EN, "en", LOOSE, title="Alishan Tea")
    assert script.metadata.title == "Alishan Tea"
    assert script.intro.text == "Hello and welcome. Today's video: Alishan Tea."
    assert script.outro.text.startswith("That was our video: Alishan Tea. Thanks for watching!")
    zh = LocalScriptWriter().write(ALISHAN_ZH, "zh-TW", LOOSE, title="阿里山的茶")
    assert zh.metadata.title == "阿里山的茶" and "「阿里山的茶」" in zh.intro.text


def test_without_a_name_a_heading_line_is_the_title_and_is_not_narrated() -> None:
    script = LocalScriptWriter().write("# Alishan Tea\n\n" + ALISHAN_EN, "en", LOOSE)
    assert script.metadata.title == "Alishan Tea"
    assert not script.segments[0].text.startswith("Alishan Tea")


@pytest.mark.parametrize(("content", "language"), [(ALISHAN_EN, "en"), (ALISHAN_ZH, "zh-TW")])
def test_a_first_sentence_as_title_ends_at_a_boundary_never_mid_word(
    content: str, language: str
) -> None:
    script = LocalScriptWriter().write(content, language, LOOSE)
    title = script.metadata.title
    first_sentence = content.split(".")[0] if language == "en" else content.split("。")[0]
    if language == "en":
        assert title == "High in the mountains of central Taiwan"  # a whole clause
        assert _words(title) <= _words(first_sentence)  # every word whole
        assert script.intro.text.endswith(f"Today's video: {title}.")
    else:
        assert title == "阿里山位於台灣中部的高山之上，海拔超過兩千公尺，山坡上種滿了茶樹"
        assert f"「{title}」" in script.intro.text
    assert len(title) <= 90


def test_a_first_clause_too_long_is_cut_after_a_whole_word() -> None:
    sentence = "Supercalifragilistic " * 3 + "words keep coming " * 8 + "until the end. "
    script = LocalScriptWriter().write(sentence + ALISHAN_EN, "en", LOOSE)
    title = script.metadata.title
    assert title.endswith("…") and len(title) <= 90
    assert all(word in sentence.split() for word in title.removesuffix("…").split())
