"""Stage 1: write the script, check it, keep it; a rerun with the same inputs reuses it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ytmaker import formats, quota
from ytmaker.bookkeeping import fail_project, run_stage
from ytmaker.context import Context
from ytmaker.errors import InputError, YTMakerError
from ytmaker.layout import visual_config
from ytmaker.models import Project
from ytmaker.pipeline.records import fingerprint, timed_call
from ytmaker.project_input import FieldProblem, check_name
from ytmaker.project_input import check_content as check_content_text
from ytmaker.project_input import check_voice as check_stored_voice
from ytmaker.prompts import check_template
from ytmaker.providers import voice_choice
from ytmaker.providers.base import variant_of
from ytmaker.script import Script, validate_script
from ytmaker.state import update_state
from ytmaker.voices import stored_voice


def run(ctx: Context, project_id: int) -> dict[str, Any]:
    check_stored_project(ctx, project_id)
    with run_stage(ctx, project_id, "script") as report:
        project = ctx.repo.get_project(project_id)
        prompt = project.prompt_template or formats.default_prompt(project.format)
        rules = formats.rules_for(ctx.settings, project.format, project.length)
        writer = ctx.providers.script_writer(prompt)
        variant = variant_of(writer)
        source = fingerprint(
            project.content,
            project.language,
            rules.model_dump(),
            writer.name,
            *([prompt] if prompt else []),
            *([variant] if variant else []),
        )
        if project.script and project.script_fingerprint == source:
            script = Script.model_validate(project.script)
            report(90, "沿用先前生成的腳本（內容未變更）")
            return plan_of(script)
        report(20, "正在撰寫腳本...")
        with formats.named_rules(rules, project.format):
            with timed_call(ctx, project_id, "script", "script", writer):
                script = writer.write(project.content, project.language, rules, title=project.name)
            quota.meter(ctx, writer, "generateContent", project_id)
            validate_script(script, rules)
        ctx.repo.update_project(
            project_id, script=script.model_dump(mode="json"), script_fingerprint=source
        )
        update_state(
            ctx.project_dir(project_id),
            {
                "script": {
                    "title": script.metadata.title,
                    "segments": len(script.segments),
                    "planned_duration": script.total_duration,
                }
            },
        )
        report(90, f"腳本共 {len(script.segments)} 段，預計 {script.total_duration:.0f} 秒")
    return plan_of(script)


def plan_of(script: Script) -> dict[str, Any]:
    """What the asset stage maps over."""
    return {"segments": [s.index for s in script.segments], "pieces": len(script.pieces())}


def check_stored_project(ctx: Context, project_id: int) -> None:
    """Before a script is paid for: the stored text, name, prompt and look (a bad visual_config
    was only found at render, after the script and pictures were paid for). A failure marks the
    project FAILED naming the field, except a published one, which stays as it is."""
    project = ctx.repo.get_project(project_id)
    try:
        check_content(project)
        visual_config(ctx, project_id)
        check_voice(ctx, project)
    except YTMakerError as exc:
        if not project.youtube_video_id:
            fail_project(ctx, project_id, "script", exc)
        raise


def check_voice(ctx: Context, project: Project) -> None:
    """The stored voice is one of the table's, and the voice stage can use it."""
    try:
        check_stored_voice(project.voice, project.language)
    except FieldProblem as exc:
        raise InputError(
            f"Project {project.id}: {exc.where}: {exc}.", field="voice", project_id=project.id
        ) from None
    voice_choice(ctx.settings, stored_voice(project.voice))  # a ConfigError naming the setting


def check_content(project: Project) -> None:
    """A stored project is checked again: rows may come from older versions or other tools."""
    if not project.content or not project.content.strip():
        raise InputError(
            f"Project {project.id} has empty content: give it an article, notes or a topic "
            "(ytmaker project create --content-file FILE).",
            field="content",
            project_id=project.id,
        )
    checks: list[tuple[str, Callable[[str], str]]] = [
        ("content", check_content_text),
        ("name", check_name),
    ]
    if project.prompt_template is not None:
        checks.append(("prompt_template", check_template))
    for field, check in checks:
        try:
            check(getattr(project, field))
        except ValueError as exc:
            raise InputError(
                f"Project {project.id}: {field} {exc}.", field=field, project_id=project.id
            ) from None
