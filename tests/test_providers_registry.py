"""Providers by name from one registry, `ytmaker providers`, and a project's own voice: where
it is given (batch file, CLI, the new-video form), how it is checked and what it changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy

from tests.helpers import run_cli
from ytmaker import db
from ytmaker.batch import parse_batch
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.errors import ConfigError, InputError
from ytmaker.forms import NewVideo, video_fields
from ytmaker.layout import load_script
from ytmaker.pipeline import assets
from ytmaker.project_input import new_project
from ytmaker.providers import registry, voice_choice
from ytmaker.providers.local.script_writer import LocalScriptWriter
from ytmaker.voices import VoiceSettings


def _rows(data_dir: Path, **env: str) -> dict[str, dict]:
    ran = run_cli(data_dir, "providers", "--json", **env)
    assert ran.returncode == 0, ran.stderr
    return {row["stage"]: row for row in json.loads(ran.stdout)["stages"]}


def test_providers_says_what_would_be_used_and_why_and_never_a_key(tmp_path: Path) -> None:
    offline = _rows(tmp_path)
    assert {row["provider"] for row in offline.values()} == {"local"}
    assert offline["script"]["setting"] == "YTMAKER_SCRIPT_PROVIDER=auto"
    assert "GEMINI_API_KEY" in offline["script"]["why"]

    key = "sk-never-printed-4242"
    rows = _rows(
        tmp_path,
        OPENAI_API_KEY=key,
        OPENAI_BASE_URL="http://127.0.0.1:11434/v1",
        OPENAI_MODEL="qwen2.5:7b",
        YTMAKER_VOICE_PROVIDER="edge",
    )
    assert rows["script"]["provider"] == "openai"
    assert rows["script"]["why"] == "auto: OPENAI_API_KEY or OPENAI_BASE_URL is set"
    assert rows["script"]["detail"] == "model qwen2.5:7b at http://127.0.0.1:11434/v1"
    assert rows["voice"]["provider"] == "edge" and rows["voice"]["why"] == "named by the setting"
    ran = run_cli(tmp_path, "providers", OPENAI_API_KEY=key, GEMINI_API_KEY="AIza-secret-99")
    assert key not in ran.stdout + ran.stderr and "AIza-secret-99" not in ran.stdout
    assert "gemini" in ran.stdout  # auto prefers Gemini when both are configured


def test_a_named_provider_without_its_settings_is_explained_not_raised(tmp_path: Path) -> None:
    rows = _rows(tmp_path, YTMAKER_SCRIPT_PROVIDER="openai", YTMAKER_VOICE_PROVIDER="openai")
    assert rows["script"]["provider"] is None
    assert rows["script"]["why"] == (
        "YTMAKER_SCRIPT_PROVIDER=openai needs OPENAI_API_KEY or OPENAI_BASE_URL."
    )
    assert "OPENAI_TTS_BASE_URL" in rows["voice"]["why"]


def test_an_unknown_provider_is_a_one_line_error_naming_the_setting(tmp_path: Path) -> None:
    ran = run_cli(tmp_path, "providers", YTMAKER_VOICE_PROVIDER="stability")
    assert ran.returncode == 1
    line = ran.stderr.strip()
    assert "YTMAKER_VOICE_PROVIDER" in line and "'stability' cannot do the voice stage" in line
    assert "auto, local, gemini, openai, edge" in line and "\n" not in line


def test_every_stage_has_one_offline_provider_and_a_documented_auto_order() -> None:
    for stage in registry.STAGES:
        entries = registry.entries(stage)
        assert sum(e.local for e in entries) == 1 and entries[0].local
    assert [e.name for e in registry.entries("script") if e.auto] == ["gemini", "openai"]
    assert [e.name for e in registry.entries("voice") if e.auto] == ["gemini"]


# --- a project's own voice -----------------------------------------------------------------


def test_a_project_voice_is_checked_naming_the_part_that_is_wrong() -> None:
    fields = new_project(
        "夜市", "夜市很好吃。", "zh-TW", {}, voice={"name": "zh-TW-YunJheNeural", "rate": "+10%"}
    )
    assert fields["voice"] == {"name": "zh-TW-YunJheNeural", "rate": "+10%", "pitch": "+0Hz"}
    cases = {
        "voice.rate": ({"name": "zh-TW-YunJheNeural", "rate": "+500%"}, "outside -50%..+100%"),
        "voice.pitch": ({"name": "zh-TW-YunJheNeural", "pitch": "high"}, "not a pitch"),
        "voice.name": ({"name": "en-US-GuyNeural"}, "speaks en, not zh-TW"),
    }
    for field, (voice, rule) in cases.items():
        with pytest.raises(InputError) as refused:
            new_project("夜市", "夜市很好吃。", "zh-TW", {}, voice=voice)
        assert refused.value.details["field"] == field and rule in refused.value.message
    with pytest.raises(InputError, match="voice.name: 'Robot' is not a supported voice"):
        new_project("x", "Hello.", "en", {}, voice={"name": "Robot"})


def test_batch_files_give_a_voice_per_project_over_the_batchs_own() -> None:
    data = {
        "voice": {"name": "zh-TW-HsiaoYuNeural", "rate": "-10%"},
        "projects": [
            {"name": "a", "content": "夜市很好吃。"},
            {"name": "b", "content": "夜市很好吃。", "voice": {"name": "zh-TW-YunJheNeural"}},
            {
                "name": "c",
                "content": "Good.",
                "language": "en",
                "voice": {"name": "en-GB-RyanNeural"},
            },
        ],
    }
    plan = parse_batch(data, Path("."))
    assert [p.voice for p in plan.projects] == [
        {"name": "zh-TW-HsiaoYuNeural", "rate": "-10%", "pitch": "+0Hz"},
        {"name": "zh-TW-YunJheNeural", "rate": "-10%", "pitch": "+0Hz"},
        {"name": "en-GB-RyanNeural", "rate": "-10%", "pitch": "+0Hz"},
    ]
    data["projects"][0]["voice"] = {"name": "zh-TW-HsiaoYuNeural", "pitch": "+99Hz"}
    with pytest.raises(InputError) as refused:
        parse_batch(data, Path("."))
    assert "projects[0].voice.pitch: +99Hz is outside -50Hz..+50Hz" in refused.value.message


def test_the_cli_and_the_form_take_a_voice(settings: Settings, tmp_path: Path) -> None:
    article = tmp_path / "a.md"
    article.write_text("夜市很好吃。", "utf-8")
    args = ["project", "create", "--name", "夜市", "--content-file", str(article)]
    made = run_cli(settings.data_dir, *args, "--voice", "zh-TW-YunJheNeural", "--voice-rate", "+5%")
    assert made.returncode == 0, made.stderr
    stored = bootstrap(reload_settings()).repo.get_project(int(made.stdout.strip()))
    assert stored.voice == {"name": "zh-TW-YunJheNeural", "rate": "+5%", "pitch": "+0Hz"}
    refused = run_cli(settings.data_dir, *args, "--voice", "en-US-GuyNeural")
    assert refused.returncode == 1 and "voice.name: en-US-GuyNeural speaks en" in refused.stderr

    schema = NewVideo.model_json_schema()["properties"]["voice"]
    assert schema["enum"][0] == "" and "zh-TW-HsiaoChenNeural" in schema["enum"]
    form = NewVideo(
        name="x", content="夜市很好吃。", voice="zh-TW-HsiaoYuNeural", voice_pitch="+3Hz"
    )
    assert video_fields(form)["voice"] == {
        "name": "zh-TW-HsiaoYuNeural",
        "rate": "+0%",
        "pitch": "+3Hz",
    }
    with pytest.raises(InputError) as wrong:
        video_fields(NewVideo(name="x", content="Hi.", language="en", voice="zh-TW-HsiaoYuNeural"))
    assert wrong.value.details["field"] == "voice"


def test_under_auto_a_project_voice_is_edges_and_a_forced_other_voice_says_why(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = VoiceSettings(name="zh-TW-HsiaoChenNeural")
    assert voice_choice(settings, own).name == "edge"
    assert voice_choice(settings, None).name == "local"
    monkeypatch.setenv("YTMAKER_VOICE_PROVIDER", "local")
    with pytest.raises(ConfigError) as refused:
        voice_choice(reload_settings(), own)
    assert refused.value.details["field"] == "voice"
    assert "YTMAKER_VOICE_PROVIDER=local" in refused.value.message


def test_another_voice_changes_the_pieces_fingerprints_and_the_same_keeps_them(
    settings: Settings,
) -> None:
    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="夜市", content="夜市很好吃。", language="zh-TW")
    script = LocalScriptWriter().write(project.content, "zh-TW", settings.rules)
    ctx.repo.update_project(project.id, script=script.model_dump(mode="json"))
    assert load_script(ctx, project.id).segments

    def prints(voice: dict | None) -> list[str]:
        ctx.repo.update_project(project.id, voice=voice)
        return [job.fingerprint for job in assets.voice_jobs(bootstrap(settings), project.id)]

    espeak = prints(None)
    edge = prints({"name": "zh-TW-HsiaoChenNeural", "rate": "+0%", "pitch": "+0Hz"})
    faster = prints({"name": "zh-TW-HsiaoChenNeural", "rate": "+10%", "pitch": "+0Hz"})
    assert len({*espeak, *edge, *faster}) == 3 * len(espeak)
    assert prints({"name": "zh-TW-HsiaoChenNeural", "rate": "+10%", "pitch": "+0Hz"}) == faster
    assert prints(None) == espeak  # defaults: the fingerprints made before voices existed


def test_an_older_database_gets_the_voice_column_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    project_id = db.Repository(url).create_project(name="old", content="x").id
    with db.get_engine(url).begin() as conn:
        conn.execute(sqlalchemy.text("ALTER TABLE projects DROP COLUMN voice"))
    db.dispose_engines()

    assert db.Repository(url).get_project(project_id).voice is None
    db.dispose_engines()
