"""GeminiScriptWriter and GeminiVoice with the real google-genai client against a fake server."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from tests.servers import assert_secret_hidden
from tests.servers.gemini import FakeGemini, valid_script
from ytmaker.errors import ScriptValidationError
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.gemini import GeminiScriptWriter, GeminiVoice, parse_script
from ytmaker.script import Script, ScriptRules

RULES = ScriptRules()
CONTENT = "台灣夜市\n夜市是台灣文化的重要部分，有許多小吃。"


@pytest.fixture
def server():
    with FakeGemini() as fake:
        yield fake


@pytest.fixture
def writer(server: FakeGemini) -> GeminiScriptWriter:
    return GeminiScriptWriter(server.api_key, base_url=server.url)


def test_writes_a_validated_script_with_structured_output(server, writer):
    script = writer.write(CONTENT, "zh-TW", RULES)

    assert isinstance(script, Script)
    assert script.language == "zh-TW"
    assert [s.index for s in script.segments] == list(range(1, 13))
    assert script.total_duration == pytest.approx(200.0)
    assert script.metadata.title == "台灣夜市小吃"
    assert script.segments[0].image_description.startswith("A busy Taiwanese night market")
    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.header("x-goog-api-key") == server.api_key
    config = request.json()["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert set(schema["required"]) >= {"intro", "segments", "outro", "metadata", "total_duration"}
    segment = schema["properties"]["segments"]["items"]
    assert set(segment["properties"]) == {
        "index",
        "text",
        "duration",
        "image_description",
        "search_terms",
    }
    prompt = request.json()["contents"][0]["parts"][0]["text"]
    assert "夜市是台灣文化的重要部分" in prompt and "between 5 and 20" in prompt


def test_503_is_retryable_and_the_next_call_succeeds(server, writer):
    server.fail_next(503)
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    assert caught.value.code == "GEMINI_UNAVAILABLE"
    assert caught.value.retryable is True
    assert caught.value.status == 503
    assert len(server.requests) == 1  # the provider does not loop; Prefect retries the task

    assert writer.write(CONTENT, "zh-TW", RULES).segments
    assert len(server.requests) == 2


def test_429_carries_retry_delay(server, writer):
    server.fail_next(429)
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    err = caught.value
    assert err.code == "GEMINI_RATE_LIMITED"
    assert err.retryable is True
    assert err.retry_after == 17.0
    assert err.to_info()["retry_after"] == 17.0


def test_invalid_key_is_not_retryable_and_names_the_setting(server):
    wrong = "AIzaSyWRONG-key-0123456789"
    writer = GeminiScriptWriter(wrong, base_url=server.url)
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    err = caught.value
    assert err.code == "GEMINI_INVALID_KEY"
    assert err.status == 400
    assert err.reason == "API_KEY_INVALID"
    assert err.retryable is False
    assert "GEMINI_API_KEY" in err.message
    assert_secret_hidden(err, wrong)


def test_a_key_echoed_by_the_server_is_redacted(server, writer):
    server.fail_next(400, "API_KEY_INVALID", f"API key {server.api_key} not valid.")
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    assert_secret_hidden(caught.value, server.api_key)
    cause = caught.value.__cause__
    assert cause is None or server.api_key not in str(cause)


def test_400_bad_request(server, writer):
    server.fail_next(400, message="Invalid value at 'generation_config.response_schema'")
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    assert caught.value.code == "GEMINI_BAD_REQUEST"
    assert caught.value.retryable is False
    assert "response_schema" in caught.value.message


def test_403_permission_denied(server, writer):
    server.fail_next(403)
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    assert caught.value.code == "GEMINI_FORBIDDEN"
    assert caught.value.retryable is False
    assert "GEMINI_API_KEY" in caught.value.message


def test_dropped_connection_is_retryable(server, writer):
    server.drop_next()
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    assert caught.value.code == "GEMINI_CONNECTION_FAILED"
    assert caught.value.retryable is True


def test_invalid_json_is_a_clear_script_error(server, writer):
    server.script_text = '{"intro": {"text": "大家好", "duration": 10}, "segments": ['
    with pytest.raises(ScriptValidationError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    err = caught.value
    assert "JSON" in err.message
    assert err.details["reason"] == "invalid_json"
    assert err.details["provider"] == "gemini"


def test_json_not_matching_the_schema(server, writer):
    data = valid_script()
    del data["segments"]
    server.script_text = data
    with pytest.raises(ScriptValidationError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    assert caught.value.details["field"] == "segments"
    assert caught.value.details["reason"] == "schema_mismatch"


def test_a_segment_over_the_limit_fails_validation(server, writer):
    data = valid_script()
    data["segments"][0]["duration"] = 25
    server.script_text = data
    with pytest.raises(ScriptValidationError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    err = caught.value
    assert "段落時長超過限制" in err.message
    assert err.details["segment_index"] == 1
    assert err.details["duration"] == 25
    assert err.retryable is False


def test_a_blocked_prompt_is_a_moderation_failure(server, writer):
    server.block_reason = "PROHIBITED_CONTENT"
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    assert caught.value.code == "GEMINI_CONTENT_FILTERED"
    assert caught.value.retryable is False


def test_parse_script_accepts_a_fenced_block_and_renumbers():
    text = "```json\n" + __import__("json").dumps(valid_script(segments=3)) + "\n```"
    script = parse_script(text, "en")
    assert [s.index for s in script.segments] == [1, 2, 3]
    assert script.total_duration == pytest.approx(65.0)


def test_missing_key_fails_fast():
    with pytest.raises(ServiceError) as caught:
        GeminiScriptWriter("")
    assert "GEMINI_API_KEY" in caught.value.message


# ---------------------------------------------------------------- voice


def test_voice_writes_a_24khz_wav_with_the_pause(server, tmp_path: Path):
    voice = GeminiVoice(server.api_key, base_url=server.url, pause=0.4)
    out = tmp_path / "audio" / "seg1.wav"
    seconds = voice.synthesize("你好，歡迎收看。", "zh-TW", out)

    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        assert wav.getnframes() / 24000 == pytest.approx(seconds)
    assert seconds == pytest.approx(8 * 0.05 + 0.4, abs=0.01)
    (request,) = server.requests
    assert request.path.endswith(":generateContent")
    config = request.json()["generationConfig"]
    assert config["responseModalities"] == ["AUDIO"]
    speech = config["speechConfig"]
    voice_config = speech.get("voiceConfig") or speech.get("voice_config")
    prebuilt = voice_config.get("prebuiltVoiceConfig") or voice_config.get("prebuilt_voice_config")
    assert (prebuilt.get("voiceName") or prebuilt.get("voice_name")) == "Kore"
    assert not list(out.parent.glob(".seg1.*"))  # no temporary file left behind


def test_voice_errors_are_mapped(server, tmp_path: Path):
    voice = GeminiVoice(server.api_key, base_url=server.url)
    server.fail_next(429)
    with pytest.raises(ServiceError) as caught:
        voice.synthesize("hello", "en", tmp_path / "a.wav")
    assert caught.value.retryable is True and caught.value.retry_after == 17.0
    assert not (tmp_path / "a.wav").exists()

    server.fail_next(503)
    with pytest.raises(ServiceError) as caught:
        voice.synthesize("hello", "en", tmp_path / "a.wav")
    assert caught.value.code == "GEMINI_UNAVAILABLE"
    assert voice.synthesize("hello", "en", tmp_path / "a.wav") > 0.4


def test_voice_with_a_wrong_key(server, tmp_path: Path):
    voice = GeminiVoice("AIza-not-the-key-42", base_url=server.url)
    with pytest.raises(ServiceError) as caught:
        voice.synthesize("hello", "en", tmp_path / "a.wav")
    assert caught.value.code == "GEMINI_INVALID_KEY"
    assert caught.value.retryable is False
    assert_secret_hidden(caught.value, "AIza-not-the-key-42")


def test_a_slow_answer_times_out_as_retryable(server):
    from tests.servers import Reply

    server.script(Reply(200, {"candidates": []}, delay=1.5))
    writer = GeminiScriptWriter(server.api_key, base_url=server.url, timeout=0.4)
    with pytest.raises(ServiceError) as caught:
        writer.write(CONTENT, "zh-TW", RULES)
    assert caught.value.code == "GEMINI_TIMEOUT"
    assert caught.value.retryable is True
