"""Projects: create one, make its video (`generate`, `demo`), show it, publish a held one, make
failed assets again."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ytmaker.errors import YTMakerError
from ytmaker.terminal import json_line, literal, markup_safe
from ytmaker_cli.app import ProjectId, an_id, app, context, fail, project_app, screen

if TYPE_CHECKING:
    from ytmaker.context import Context

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Option(help="Project name.")],
    content_file: Annotated[Path, typer.Option(help="UTF-8 text: an article, notes or a topic.")],
    lang: Annotated[str, typer.Option(help="zh-TW or en.")] = "zh-TW",
    privacy: Annotated[str | None, typer.Option(help="private, unlisted or public.")] = None,
    publish_at: Annotated[
        str | None, typer.Option(help="Schedule, e.g. 2026-12-24T20:00 (Asia/Taipei if no offset).")
    ] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated YouTube tags.")] = None,
    prompt_template_file: Annotated[
        Path | None, typer.Option(help="This project's LLM prompt; must contain {content}.")
    ] = None,
    visual_config: Annotated[
        Path | None,
        typer.Option(help="JSON: subtitles, avatar, logo, music... (see README); checked now."),
    ] = None,
    review: Annotated[
        str | None,
        typer.Option(
            help="When a person looks (`ytmaker review`): script (read and edit the script "
            "before anything else is paid for), upload (approve before upload), both, or none; "
            "default YTMAKER_REVIEW.",
        ),
    ] = None,
    video_format: Annotated[
        str, typer.Option("--format", help="landscape (1920x1080) or shorts (1080x1920).")
    ] = "landscape",
    length: Annotated[
        str,
        typer.Option(
            help="standard (the YTMAKER_TOTAL_... rule) or short (60-180 s; a Short 15-60 s)."
        ),
    ] = "standard",
    voice: Annotated[
        str | None,
        typer.Option(help="An Edge voice, e.g. zh-TW-HsiaoChenNeural (`ytmaker providers`)."),
    ] = None,
    voice_rate: Annotated[str, typer.Option(help="Its speaking rate, e.g. +10% or -20%.")] = "+0%",
    voice_pitch: Annotated[str, typer.Option(help="Its pitch, e.g. +5Hz or -10Hz.")] = "+0Hz",
    media: Annotated[
        Path | None,
        typer.Option(
            help="A folder of your own pictures/clips for the segments (name order, or "
            "segment_03.*); each is checked now."
        ),
    ] = None,
) -> None:
    """Create a project; prints its id."""
    from ytmaker import project_input
    from ytmaker.prompts import TEMPLATE_MAX_BYTES

    content = _read_text(content_file, "--content-file", project_input.CONTENT_MAX_BYTES)
    youtube = {"privacy": privacy, "publish_at": publish_at, "tags": _split_tags(tags)}
    template = (
        _read_text(prompt_template_file, "--prompt-template-file", TEMPLATE_MAX_BYTES)
        if prompt_template_file
        else None
    )
    visual = _visual_config(visual_config) if visual_config else None
    ctx = context()
    if media is not None:
        from ytmaker import own_media

        try:
            visual = {
                **(visual or {}),
                "media": own_media.plan(media, ctx.settings.media_max_bytes, "--media"),
            }
        except YTMakerError as exc:
            fail(exc.message)
    made = create_project(
        ctx,
        name,
        content,
        lang,
        youtube,
        template,
        visual,
        review=review,
        video_format=video_format,
        length=length,
        voice=_voice(voice, voice_rate, voice_pitch),
    )
    screen.out.print(made["id"])


def _voice(name: str | None, rate: str, pitch: str) -> dict[str, str] | None:
    """--voice and its --voice-rate/--voice-pitch (those alone need a voice to change)."""
    if name is None:
        if (rate, pitch) != ("+0%", "+0Hz"):
            fail("--voice-rate and --voice-pitch change a voice: give --voice NAME too")
        return None
    return {"name": name, "rate": rate, "pitch": pitch}


VISUAL_CONFIG_MAX_BYTES = 64 * 1024


def _visual_config(path: Path) -> dict[str, Any]:
    """The file's settings, checked before anything is paid for; relative paths resolve
    against the file's folder, then the working directory, and are stored absolute."""
    from ytmaker.errors import ConfigError
    from ytmaker.media.visual import VisualConfig

    text = _read_text(path, "--visual-config", VISUAL_CONFIG_MAX_BYTES)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        fail(f"--visual-config: {path} is not JSON ({exc})")
    if not isinstance(data, dict):
        fail(f"--visual-config: {path} must hold a JSON object, not {type(data).__name__}")
    try:
        return VisualConfig.from_dict(data, base_dirs=[path.parent, Path.cwd()]).stored()
    except ConfigError as exc:
        fail(exc.message)
        raise  # unreachable


def _read_text(path: Path, option: str, max_bytes: int) -> str:
    """A regular UTF-8 file, read no further than the limit (never a FIFO or a device)."""
    from ytmaker.files import read_text_file

    try:
        return read_text_file(path, max_bytes)
    except ValueError as exc:
        fail(f"{option}: {exc}")
        raise  # unreachable


def _split_tags(tags: str | None) -> list[str] | None:
    return None if tags is None else [tag for tag in tags.split(",") if tag.strip()]


def create_project(
    ctx: Context,
    name: str,
    content: str,
    lang: str,
    youtube: dict[str, Any] | None = None,
    prompt_template: str | None = None,
    visual_config: dict[str, Any] | None = None,
    review: bool | str | None = None,
    video_format: str = "landscape",
    length: str = "standard",
    voice: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The project row, after every rule (the text's length too: `ctx.settings`)."""
    from ytmaker import project_input

    try:
        fields = project_input.new_project(
            name,
            content,
            lang,
            youtube or {},
            prompt_template,
            review=review,
            video_format=video_format,
            length=length,
            settings=ctx.settings,
            voice=voice,
        )
    except YTMakerError as exc:
        fail(exc.message)
    project = ctx.repo.create_project(**fields, visual_config=visual_config or {})
    return {"id": project.id}


@app.command()
def generate(
    project_id: ProjectId, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Run the five-stage flow for a project."""
    from ytmaker_cli.running import run_and_report

    run_and_report(context(), project_id, as_json)


@app.command()
def demo(
    lang: Annotated[str, typer.Option("--lang", help="zh-TW or en.")] = "zh-TW",
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
    video_format: Annotated[
        str, typer.Option("--format", help="landscape or shorts (a vertical Short).")
    ] = "landscape",
    visuals: Annotated[
        str, typer.Option("--visuals", help="pictures (stills, default) or clips (moving).")
    ] = "pictures",
) -> None:
    """Make a video from a bundled sample article, fully offline."""
    from ytmaker.formats import demo_sample
    from ytmaker.language import normalise_language
    from ytmaker_cli.running import run_and_report

    try:
        language = normalise_language(lang)
        sample = demo_sample(SAMPLES, language, video_format)
    except YTMakerError as exc:
        fail(exc.message)
    except ValueError as exc:
        fail(f"--format: {exc}")
    if visuals not in ("pictures", "clips"):
        fail(f"--visuals: {visuals!r} is not pictures or clips")
    if visuals == "clips":  # offline footage: the clip path without any key (the flow reads
        os.environ["YTMAKER_IMAGE_PROVIDER"] = "local-clips"  # its settings from the environment)
    ctx = context()
    text = sample.read_text("utf-8")
    name = text.strip().splitlines()[0].lstrip("#").strip()  # the sample's heading: its title
    project_id = create_project(ctx, name, text, language, video_format=video_format)
    screen.err.print(f"Project {project_id['id']} from {sample.name} ({language})")
    run_and_report(ctx, project_id["id"], as_json)


@app.command()
def status(
    project_id: Annotated[int | None, typer.Argument(help="A project id.", callback=an_id)] = None,
) -> None:
    """Show one project (with its assets), or list recent projects."""
    from ytmaker import review
    from ytmaker.summary import project_summary, retrying_of, status_text
    from ytmaker_cli.display import show_summary

    ctx = context()
    review.expire_overdue(ctx)  # a review nobody answered in time says so here too
    if project_id is None:
        table = Table("id", "name", "language", "status", "video_id")
        for project in ctx.repo.list_projects():
            table.add_row(
                str(project.id),
                literal(project.name),
                literal(project.language),
                status_text(project.status.value, retrying_of(ctx, project)),
                literal(project.youtube_video_id or ""),
            )
        screen.out.print(table)
        return
    try:
        result = project_summary(ctx, project_id)
    except YTMakerError as exc:
        fail(exc.message)
    show_summary(result)
    assets = Table("asset", "segment", "status", "path")
    for asset in ctx.repo.assets(project_id):
        assets.add_row(
            asset.type.value,
            "" if asset.segment_index is None else str(asset.segment_index),
            asset.status.value,
            literal(asset.path or ""),
        )
    screen.out.print(assets)
    if result.get("error"):
        screen.err.print(f"[red]error_info:[/] {markup_safe(json_line(result['error']))}")


@app.command("retry-failed")
def retry_failed(project_id: ProjectId) -> None:
    """Make again only the assets that failed (placeholders included), then render again."""
    from ytmaker import review
    from ytmaker.models import AssetStatus
    from ytmaker_cli.running import run_and_report

    ctx = context()
    try:
        project = ctx.repo.get_project(project_id)
    except YTMakerError as exc:
        fail(exc.message)
    if project.youtube_video_id:
        fail(
            f"Project {project_id} is already published "
            f"({project.video_url or project.youtube_video_id}) and YouTube cannot replace a "
            "published video's file. To publish new images, "
            "create a new project from the same text and publish it, then unlist or delete the "
            "old video in YouTube Studio."
        )
    failed = [a for a in ctx.repo.assets(project_id) if a.status is AssetStatus.FAILED]
    if not failed:
        screen.out.print(f"Project {project_id} has no failed assets.")
        return
    for asset in failed:
        if asset.path:
            Path(asset.path).unlink(missing_ok=True)  # a placeholder must not count as done
    review.reopen(ctx, project_id)
    screen.err.print(f"Retrying {len(failed)} failed asset(s) of project {project_id}")
    run_and_report(ctx, project_id, as_json=False)


@app.command()
def publish(
    project_id: ProjectId, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Publish a video waiting for review as it is: `ytmaker review ID --approve`."""
    from ytmaker_cli.review import review_command

    review_command(project_id, approve=True, as_json=as_json)
