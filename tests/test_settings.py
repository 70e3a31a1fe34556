"""Settings: keys from Prefect Secret blocks, and errors that name the variable."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ytmaker import providers
from ytmaker.config import Settings, reload_settings
from ytmaker.errors import ConfigError


def test_a_key_can_come_from_a_prefect_secret_block(
    settings: Settings,
    prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from prefect.blocks.system import Secret

    caplog.set_level(logging.DEBUG)
    Secret(value="sk-from-the-block-123").save("ytmaker-test-gemini-key", overwrite=True)
    monkeypatch.setenv("GEMINI_API_KEY", "prefect-secret:ytmaker-test-gemini-key")

    loaded = reload_settings()

    assert loaded.gemini_api_key.get_secret_value() == "sk-from-the-block-123"
    assert "GeminiScriptWriter" in repr(providers.script_writer(loaded))  # auto picks Gemini
    assert "sk-from-the-block-123" not in repr(loaded) + caplog.text


def test_a_secret_block_is_read_when_settings_are_first_read_in_async_code(
    settings: Settings, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect's `Secret.load` returns a coroutine inside a running event loop unless told not
    to: the key must still be the block's text there (an async hook, an async client's code)."""
    from prefect.blocks.system import Secret

    Secret(value="sk-async-context-456").save("ytmaker-test-async-key", overwrite=True)
    monkeypatch.setenv("GEMINI_API_KEY", "prefect-secret:ytmaker-test-async-key")

    async def first_read() -> Settings:
        return reload_settings()

    loaded = asyncio.run(first_read())

    assert loaded.gemini_api_key is not None
    assert loaded.gemini_api_key.get_secret_value() == "sk-async-context-456"


def test_a_missing_secret_block_names_the_variable_and_the_block(
    settings: Settings, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STABILITY_API_KEY", "prefect-secret:no-such-block")

    with pytest.raises(ConfigError) as refused:
        reload_settings()

    monkeypatch.delenv("STABILITY_API_KEY")  # the fixture reloads settings when it ends
    message = str(refused.value)
    assert "STABILITY_API_KEY" in message and "'no-such-block'" in message
    assert "prefect block create secret" in message


def test_secrets_are_scrubbed_from_every_log_record(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key, password = "AIzaSy-very-secret-key-1", "redis-pass-77"
    monkeypatch.setenv("GEMINI_API_KEY", key)
    monkeypatch.setenv("DID_API_KEY", "user@example.com:did-secret-99")
    monkeypatch.setenv("REDIS_URL", f"redis://:{password}@127.0.0.1:1/0")
    reload_settings()
    caplog.set_level(logging.DEBUG)
    prefect_records = Kept()
    logging.getLogger("prefect.ytmaker").addHandler(prefect_records)  # does not propagate

    logging.getLogger("some.library").warning("calling %s?key=%s", "https://x", key)
    logging.getLogger("prefect.ytmaker").warning(f"redis at redis://:{password}@host")
    logging.getLogger("prefect.ytmaker").removeHandler(prefect_records)
    logging.getLogger("ours").info("did-secret-99 in an f-string")
    try:
        raise RuntimeError(f"server echoed {key}")
    except RuntimeError:
        logging.getLogger("ours").exception("failed")

    assert prefect_records.lines == ["redis at redis://:***@host"]
    for secret in (key, password, "did-secret-99"):
        assert secret not in caplog.text
    assert caplog.text.count("***") >= 3  # 4 where Prefect's loggers propagate
    for name in ("GEMINI_API_KEY", "DID_API_KEY", "REDIS_URL"):
        monkeypatch.delenv(name)


class Kept(logging.Handler):
    """The messages a logger handed to its handlers."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
