"""The Edge voice: the real `edge-tts` package against a local server speaking the service's
WebSocket protocol (tests/servers/edge.py), with real speech in MP3."""

from __future__ import annotations

import json
import logging
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.edge import FakeEdge
from ytmaker.media.karaoke import karaoke_cues, read_marks
from ytmaker.providers.edge import EdgeVoice
from ytmaker.providers.errors import ServiceError
from ytmaker.voices import VoiceSettings

TEXTS = {
    "zh-TW": "夜市的起源，可以追溯到早期廟口的市集。攤販跟著人潮而來。",
    "en": "Bubble tea began in Taiwan in the nineteen eighties. Today it is everywhere.",
}


@pytest.fixture(scope="module")
def edge() -> Iterator[FakeEdge]:
    with FakeEdge() as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(edge: FakeEdge) -> Iterator[None]:
    edge._script.clear()
    edge.with_words = True
    yield
    edge._script.clear()


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        return wav.getnframes() / wav.getframerate()


@pytest.mark.parametrize("language", ["zh-TW", "en"])
def test_each_language_is_spoken_with_its_word_timings(
    edge: FakeEdge, tmp_path: Path, language: str
) -> None:
    voice = EdgeVoice(url=edge.url, timeout=30)
    out = tmp_path / "piece_001.wav"

    seconds = voice.synthesize(TEXTS[language], language, out)

    said = edge.requests[-1]
    default = {"zh-TW": "zh-TW-HsiaoChenNeural", "en": "en-US-AriaNeural"}[language]
    assert said.short_voice == default and said.text == TEXTS[language]
    assert '"wordBoundaryEnabled":"true"' in said.config
    assert {"ConnectionId", "Sec-MS-GEC"} <= set(said.query)
    assert _wav_seconds(out) == pytest.approx(seconds)
    assert seconds > len(edge.words) * 0.1  # real speech, as long as its words
    data = json.loads(out.with_suffix(".words.json").read_text("utf-8"))
    assert data["engine"] == f"edge:{default}" and data["text"] == TEXTS[language]
    assert data["frames"] == round(seconds * 24000)
    # each boundary sits on its word in the text, at the time the service gave
    assert len(data["words"]) == len(edge.words) >= 8
    for (char, length, start), word in zip(data["words"], edge.words, strict=True):
        assert TEXTS[language][char : char + length].casefold() == word.text.casefold()
        assert start == pytest.approx(word.start, abs=1e-4)
    # word captions read them as voice timing, as with espeak-ng
    spoken, marks = read_marks(out)
    cues = karaoke_cues(TEXTS[language], seconds, language, None, (spoken, marks))
    lit = [at for cue in cues for _, at in cue.syllables]
    assert lit == sorted(lit) and lit[-1] > seconds / 2


def test_a_projects_voice_rate_and_pitch_reach_the_service(edge: FakeEdge, tmp_path) -> None:
    own = VoiceSettings(name="zh-TW-YunJheNeural", rate="+20%", pitch="-5Hz")
    EdgeVoice(own, url=edge.url).synthesize(TEXTS["zh-TW"], "zh-TW", tmp_path / "a.wav")
    said = edge.requests[-1]
    assert (said.short_voice, said.rate, said.pitch) == ("zh-TW-YunJheNeural", "+20%", "-5Hz")
    assert EdgeVoice(own).variant == {"name": "zh-TW-YunJheNeural", "rate": "+20%", "pitch": "-5Hz"}


def test_one_403_is_retried_by_edge_tts_and_two_are_a_clear_retryable_error(
    edge: FakeEdge, tmp_path: Path
) -> None:
    voice = EdgeVoice(url=edge.url)
    before = edge.handshakes
    edge.refuse_next(403)
    assert voice.synthesize(TEXTS["en"], "en", tmp_path / "a.wav") > 1
    assert edge.handshakes - before == 2

    edge.refuse_next(403, times=2)
    with pytest.raises(ServiceError) as refused:
        voice.synthesize(TEXTS["en"], "en", tmp_path / "b.wav")
    err = refused.value
    assert (err.code, err.status, err.retryable) == ("EDGE_FORBIDDEN", 403, True)
    assert "clock" in err.message and "\n" not in err.message
    assert not (tmp_path / "b.wav").exists()


def test_a_503_at_the_handshake_is_retryable(edge: FakeEdge, tmp_path: Path) -> None:
    edge.refuse_next(503)
    with pytest.raises(ServiceError) as unavailable:
        EdgeVoice(url=edge.url).synthesize(TEXTS["en"], "en", tmp_path / "a.wav")
    assert unavailable.value.code == "EDGE_UNAVAILABLE" and unavailable.value.retryable


def test_a_socket_dropped_mid_audio_never_leaves_a_cut_piece(edge: FakeEdge, tmp_path) -> None:
    out = tmp_path / "piece_002.wav"
    edge.cut_next()
    with pytest.raises(ServiceError) as cut:
        EdgeVoice(url=edge.url).synthesize(TEXTS["zh-TW"], "zh-TW", out)
    err = cut.value
    assert err.code == "EDGE_INVALID_RESPONSE" and err.retryable and "cut" in err.message
    assert not out.exists() and not out.with_suffix(".words.json").exists()


def test_without_word_events_a_cut_stream_is_caught_by_its_length(edge, tmp_path) -> None:
    edge.with_words = False
    edge.cut_next(percent=30)
    with pytest.raises(ServiceError) as cut:
        EdgeVoice(url=edge.url).synthesize(TEXTS["en"], "en", tmp_path / "a.wav")
    assert cut.value.code == "EDGE_INVALID_RESPONSE" and "takes about" in cut.value.message
    assert not (tmp_path / "a.wav").exists()


def test_a_socket_closed_before_any_audio_is_retryable(edge: FakeEdge, tmp_path) -> None:
    edge.drop_next()
    with pytest.raises(ServiceError) as dropped:
        EdgeVoice(url=edge.url).synthesize(TEXTS["en"], "en", tmp_path / "a.wav")
    assert dropped.value.code == "EDGE_NO_AUDIO" and dropped.value.retryable


def test_a_refused_connection_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as refused:
        EdgeVoice(url="ws://127.0.0.1:9/x?t=1", timeout=5).synthesize("Hi.", "en", tmp_path / "a")
    assert refused.value.code == "EDGE_CONNECTION_FAILED" and refused.value.retryable


def test_a_voice_without_word_events_says_so_and_uses_spread_mode(
    edge: FakeEdge, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    edge.with_words = False
    out = tmp_path / "piece_000.wav"
    out.with_suffix(".words.json").write_text("{}")
    EdgeVoice(url=edge.url).synthesize(TEXTS["en"], "en", out)
    assert out.exists() and not out.with_suffix(".words.json").exists()
    assert "gave no word timings" in caplog.text and caplog.records[-1].levelno == logging.WARNING


def test_edge_tts_url_is_what_the_package_uses(edge: FakeEdge, tmp_path: Path) -> None:
    import edge_tts.communicate
    import edge_tts.constants

    EdgeVoice(url=edge.url).synthesize("Hi there.", "en", tmp_path / "a.wav")
    assert edge.url == edge_tts.communicate.WSS_URL
    from ytmaker.providers.edge import point_at

    point_at(None)
    assert edge_tts.communicate.WSS_URL == edge_tts.constants.WSS_URL
