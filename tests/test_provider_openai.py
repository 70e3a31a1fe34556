"""The OpenAI-compatible script writer and voice: the real `openai` SDK against a local server
that speaks Chat Completions and /v1/audio/speech."""

from __future__ import annotations

import json
import logging
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.servers import Reply, assert_secret_hidden
from tests.servers.gemini import valid_script
from tests.servers.openai import FakeOpenAI
from ytmaker import formats, quota
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.errors import ScriptValidationError
from ytmaker.pipeline import script as script_stage
from ytmaker.providers import script_writer
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.openai_voice import OpenAIVoice
from ytmaker.providers.openai_writer import OpenAIScriptWriter, strict_schema
from ytmaker.script import ScriptRules

RULES = ScriptRules(segment_min=5, segment_max=20, total_min=180, total_max=600)
KEY = "sk-test-openai-key-123"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(KEY) as fake:
        yield fake


@pytest.fixture
def writer(server: FakeOpenAI) -> OpenAIScriptWriter:
    return OpenAIScriptWriter(KEY, model="qwen2.5:7b", base_url=server.base_url, timeout=10)


def test_a_script_comes_back_as_strict_json_schema_output(server, writer) -> None:
    script = writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)

    assert len(script.segments) == 12 and script.metadata.title == "台灣夜市小吃"
    (request,) = server.chats()
    body = request.json()
    assert request.header("authorization") == f"Bearer {KEY}"
    assert body["model"] == "qwen2.5:7b"
    wanted = body["response_format"]
    assert wanted["type"] == "json_schema" and wanted["json_schema"]["strict"] is True
    # strict mode: every object lists all its properties as required, and no others
    segment = wanted["json_schema"]["schema"]["$defs"]["_WireSegment"]
    assert set(segment["required"]) == set(segment["properties"]) >= {"index", "text"}
    assert segment["additionalProperties"] is False
    assert "台灣夜市的小吃很多。" in body["messages"][-1]["content"]
    assert writer.usage() == {"chat.completions": 1.0, "tokens": 1200.0}


def test_a_server_without_json_schema_falls_back_to_json_mode_then_plain_text(server) -> None:
    server.schema = server.json_mode = False
    server.prose = True  # the JSON inside chatter and a code fence
    server.api_key = None  # a local server: no key
    writer = OpenAIScriptWriter(None, model="llama3", base_url=server.base_url, timeout=10)

    script = writer.write("Bubble tea began in Taiwan.", "en", RULES)

    assert len(script.segments) == 12
    kinds = [(r.json().get("response_format") or {}).get("type") for r in server.chats()]
    assert kinds == ["json_schema", "json_object", None]
    assert "JSON schema" in server.chats()[-1].json()["messages"][0]["content"]
    assert server.chats()[-1].header("authorization") == "Bearer no-key"  # a local server
    # the mode that worked is kept: the next script asks in plain text at once
    writer.write("Bubble tea began in Taiwan.", "en", RULES)
    assert len(server.chats()) == 4
    assert writer.usage()["chat.completions"] == 1.0


def test_json_mode_is_used_when_only_the_schema_is_refused(server, writer) -> None:
    server.schema = False
    writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    kinds = [(r.json().get("response_format") or {}).get("type") for r in server.chats()]
    assert kinds == ["json_schema", "json_object"]


def test_a_reply_cut_at_the_output_limit_is_asked_once_more(server, writer) -> None:
    server.finish_reasons.append("length")
    script = writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert len(script.segments) == 12 and len(server.chats()) == 2
    assert writer.usage() == {"chat.completions": 2.0, "tokens": 2400.0}

    server.finish_reasons.extend(["length", "length"])
    with pytest.raises(ServiceError) as cut:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert cut.value.code == "OPENAI_OUTPUT_TRUNCATED" and not cut.value.retryable
    assert "OPENAI_MODEL=qwen2.5:7b" in cut.value.message
    assert len(server.chats()) == 4  # once more, not again and again


def test_a_429_honours_retry_after_and_the_sdk_does_not_retry_on_its_own(server, writer) -> None:
    server.fail_next(429, "rate_limit_exceeded", headers={"Retry-After": "7"})
    with pytest.raises(ServiceError) as limited:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    err = limited.value
    assert (err.code, err.retryable, err.retry_after) == ("OPENAI_RATE_LIMITED", True, 7.0)
    assert len(server.chats()) == 1  # max_retries=0: our task retries wait and try again


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retryable(server, writer, status: int) -> None:
    server.fail_next(status)
    with pytest.raises(ServiceError) as failed:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert failed.value.retryable and failed.value.status == status
    assert writer.write("台灣夜市的小吃很多。", "zh-TW", RULES).segments  # the next call works


def test_a_dropped_connection_and_a_timeout_are_retryable(server, writer) -> None:
    server.drop_next()
    with pytest.raises(ServiceError) as dropped:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert dropped.value.code == "OPENAI_CONNECTION_FAILED" and dropped.value.retryable

    server.script(Reply(200, {"choices": []}, delay=3.0))
    slow = OpenAIScriptWriter(KEY, model="m", base_url=server.base_url, timeout=1)
    with pytest.raises(ServiceError) as late:
        slow.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert late.value.code == "OPENAI_TIMEOUT" and late.value.retryable


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_names_openai_api_key_and_never_shows_it(server, status, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    if status == 403:
        server.fail_next(403, message=f"Key {KEY} has no access to this model")
    writer = OpenAIScriptWriter(
        KEY if status == 403 else "sk-wrong-key-456", model="m", base_url=server.base_url
    )
    with pytest.raises(ServiceError) as refused:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    err = refused.value
    assert "OPENAI_API_KEY" in err.message and not err.retryable and err.status == status
    assert_secret_hidden(err, KEY, "sk-wrong-key-456")
    assert KEY not in caplog.text and "sk-wrong-key-456" not in caplog.text


def test_a_context_length_400_names_the_model_and_the_text_size(server, writer) -> None:
    server.fail_next(
        400,
        "context_length_exceeded",
        "This model's maximum context length is 8192 tokens. However, your messages resulted "
        "in 9000 tokens.",
    )
    with pytest.raises(ServiceError) as long:
        writer.write("夜" * 4321, "zh-TW", RULES)
    err = long.value
    assert err.code == "OPENAI_CONTEXT_TOO_LONG" and not err.retryable
    assert "OPENAI_MODEL=qwen2.5:7b" in err.message and "4,321 characters" in err.message


def test_a_missing_model_names_openai_model(server, writer) -> None:
    server.fail_next(404, "model_not_found", "The model `qwen2.5:7b` does not exist")
    with pytest.raises(ServiceError) as missing:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert missing.value.code == "OPENAI_NOT_FOUND" and "OPENAI_MODEL=qwen2.5:7b" in str(
        missing.value
    )


def test_the_answer_is_checked_by_the_same_script_rules(server, writer) -> None:
    long = valid_script(segments=12, seconds=15)
    long["segments"][2]["duration"] = 30
    server.script_text = long
    with pytest.raises(ScriptValidationError) as broken:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert "段落時長超過限制" in broken.value.message
    assert broken.value.details["segment_index"] == 3

    bad = valid_script()
    del bad["segments"][1]["image_description"]
    server.script_text = bad
    with pytest.raises(ScriptValidationError) as unfit:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert unfit.value.details["segment_index"] == 2 and unfit.value.retryable

    server.script_text = "I cannot write that."
    with pytest.raises(ScriptValidationError) as prose:
        writer.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    assert prose.value.details["reason"] == "invalid_json" and prose.value.retryable


def test_a_reasoning_models_notes_are_skipped(server, writer) -> None:
    server.script_text = "<think>The user wants {a script}.</think>" + json.dumps(valid_script())
    assert len(writer.write("台灣夜市的小吃很多。", "zh-TW", RULES).segments) == 12


def test_the_shorts_hook_prompt_and_a_projects_template_reach_the_server(server) -> None:
    short = OpenAIScriptWriter(
        KEY, model="m", base_url=server.base_url, prompt_template=formats.SHORTS_PROMPT
    )
    short.write("台灣夜市的小吃很多。", "zh-TW", RULES)
    own = OpenAIScriptWriter(
        KEY, model="m", base_url=server.base_url, prompt_template="寫一段關於 {content} 的旁白"
    )
    own.write("台灣夜市", "zh-TW", RULES)
    hook, template = (r.json()["messages"][-1]["content"] for r in server.chats())
    assert "a hook spoken in the first two or three seconds" in hook
    assert template == "寫一段關於 台灣夜市 的旁白"


def test_the_strict_schema_follows_the_script_model() -> None:
    schema = strict_schema()
    assert set(schema["required"]) == {"intro", "segments", "outro", "metadata", "total_duration"}
    metadata = schema["$defs"]["_WireMetadata"]
    assert "tags" in metadata["required"] and "default" not in metadata["properties"]["tags"]


def test_the_stage_meters_calls_and_tokens_and_fingerprints_the_model(
    settings: Settings, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "deepseek-chat")
    server.script_text = valid_script(segments=3, seconds=6)
    ctx = bootstrap(reload_settings())
    assert type(script_writer(ctx.settings)).__name__ == "OpenAIScriptWriter"  # auto picks it
    project = ctx.repo.create_project(name="夜市", content="台灣夜市的小吃很多。", language="zh-TW")

    script_stage.run(ctx, project.id)
    script_stage.run(ctx, project.id)  # the same inputs: the stored script, nothing paid

    assert len(server.chats()) == 1
    since = datetime.now(UTC) - timedelta(hours=1)
    assert quota.counted(ctx.repo, "openai", since) == {"chat.completions": 1.0, "tokens": 1200.0}
    reading = quota.read_service(ctx, "openai")
    assert reading.used == 1.0 and reading.details["by_kind"]["tokens"] == 1200.0
    monkeypatch.setenv("OPENAI_MODEL", "deepseek-reasoner")  # another model writes it again
    script_stage.run(bootstrap(reload_settings()), project.id)
    assert len(server.chats()) == 2


# --- the voice ------------------------------------------------------------------------------


def test_the_openai_voice_speaks_through_audio_speech(server, tmp_path: Path) -> None:
    voice = OpenAIVoice(KEY, "kokoro", "af_bella", base_url=server.base_url, timeout=10)
    out = tmp_path / "piece_000.wav"
    (out.with_suffix(".words.json")).write_text("{}")  # a stale timing file from another voice

    seconds = voice.synthesize("夜市的小吃很多。", "zh-TW", out)

    (request,) = server.requests_to("/v1/audio/speech")
    assert request.json() == {
        "input": "夜市的小吃很多。",
        "model": "kokoro",
        "voice": "af_bella",
        "response_format": "wav",
    }
    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        assert wav.getnframes() / 24000 == pytest.approx(seconds)
    assert seconds == pytest.approx(8 * 0.06 + 0.4, abs=0.01)
    assert not out.with_suffix(".words.json").exists()  # spread mode


def test_the_openai_voice_refuses_garbage_and_names_its_key(server, tmp_path: Path) -> None:
    voice = OpenAIVoice(KEY, "tts-1", "alloy", base_url=server.base_url, timeout=10)
    server.script(Reply(200, b"not audio at all", headers={"Content-Type": "audio/wav"}))
    with pytest.raises(ServiceError) as garbage:
        voice.synthesize("Hello.", "en", tmp_path / "a.wav")
    assert garbage.value.code == "OPENAI_TTS_INVALID_RESPONSE" and garbage.value.retryable
    assert not (tmp_path / "a.wav").exists()

    wrong = OpenAIVoice("sk-other-789", "tts-1", "alloy", base_url=server.base_url)
    with pytest.raises(ServiceError) as refused:
        wrong.synthesize("Hello.", "en", tmp_path / "a.wav")
    assert "OPENAI_TTS_API_KEY" in refused.value.message
    assert_secret_hidden(refused.value, "sk-other-789")
