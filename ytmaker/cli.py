"""`ytmaker`: create projects and run the video flow, with live progress. The one module that
starts flows."""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from ytmaker import prefect_env
from ytmaker.config import get_settings
from ytmaker.context import Context
from ytmaker.errors import InputError, YTMakerError
from ytmaker.language import normalise_language
from ytmaker.progress import Stage
from ytmaker.summary import project_summary

app = typer.Typer(help="YTMaker Flow: text in, narrated video out.", no_args_is_help=True)
project_app = typer.Typer(help="Create projects.", no_args_is_help=True)
app.add_typer(project_app, name="project")
err = Console(stderr=True)
out = Console()
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
DEMO_SAMPLES = {"zh-TW": "night-markets.zh-TW.md", "en": "bubble-tea.en.md"}
STAGE_LABELS = {
    Stage.SCRIPT: "1 腳本 script",
    Stage.ASSETS: "2 素材 assets",
    Stage.RENDER: "3 合成 render",
    Stage.THUMBNAIL: "4 縮圖 thumbnail",
    Stage.UPLOAD: "5 上傳 upload",
}


def fail(message: str) -> None:
    err.print(f"[bold red]錯誤 Error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _context() -> Context:
    try:
        return Context.create(get_settings())
    except YTMakerError as exc:
        fail(exc.message)
        raise  # unreachable


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Option(help="Project name.")],
    content_file: Annotated[Path, typer.Option(help="UTF-8 text: an article, notes or a topic.")],
    lang: Annotated[str, typer.Option(help="zh-TW or en.")] = "zh-TW",
) -> None:
    """Create a project; prints its id."""
    try:
        content = content_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"Cannot read --content-file {content_file}: {exc}")
    out.print(create_project(_context(), name, content, lang).get("id"))


def create_project(ctx: Context, name: str, content: str, lang: str) -> dict[str, Any]:
    try:
        language = normalise_language(lang)
        if not name.strip():
            raise InputError("--name is empty: give the project a name.", field="name")
    except YTMakerError as exc:
        fail(exc.message)
    project = ctx.repo.create_project(name=name.strip(), content=content, language=language)
    return {"id": project.id}


@app.command()
def generate(project_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Run the five-stage flow for a project."""
    run_and_report(_context(), project_id, as_json)


@app.command()
def demo(
    lang: Annotated[str, typer.Option("--lang", help="zh-TW or en.")] = "zh-TW",
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """Make a video from a bundled sample article, fully offline."""
    try:
        language = normalise_language(lang)
    except YTMakerError as exc:
        fail(exc.message)
    sample = SAMPLES / DEMO_SAMPLES[language]
    ctx = _context()
    project_id = create_project(ctx, f"demo: {sample.stem}", sample.read_text("utf-8"), language)
    err.print(f"Project {project_id['id']} from {sample.name} ({language})")
    run_and_report(ctx, project_id["id"], as_json)


def run_and_report(ctx: Context, project_id: int, as_json: bool) -> None:
    """Run the flow with a live display; print a summary (or JSON) and exit non-zero on failure."""
    error = run_flow(ctx, project_id)
    try:
        result = project_summary(ctx, project_id)
    except YTMakerError as exc:
        fail(exc.message)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        show_summary(result)
    if error is not None:
        fail(error)


def run_flow(ctx: Context, project_id: int) -> str | None:
    """Run generate_video; returns the one-line error, or None."""
    prefect_env.apply(ctx.settings.data_dir)
    from flows.video import generate_video  # Prefect reads its settings on import

    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(ctx, project_id, stop), daemon=True)
    watcher.start()
    try:
        generate_video(project_id)
        return None
    except YTMakerError as exc:
        return exc.message
    except Exception as exc:  # noqa: BLE001 - shown as one line, details are in Prefect's log
        logging.getLogger(__name__).debug("flow failed", exc_info=True)
        return f"{type(exc).__name__}: {exc}"
    finally:
        stop.set()
        watcher.join(timeout=3)


def watch(ctx: Context, project_id: int, stop: threading.Event) -> None:
    """Live per-stage progress bars from the Redis channel."""
    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[message]}"),
        console=err,
        transient=False,
    ) as bars:
        rows = {
            stage: bars.add_task(label, total=100, message="")
            for stage, label in STAGE_LABELS.items()
        }
        for message in ctx.bus.subscribe(project_id, include_latest=False, stop=stop):
            stage = message.get("stage")
            if stage in rows:
                bars.update(rows[stage], completed=message["progress"], message=message["message"])
            elif stage == Stage.ERROR:
                err.print(f"[red]{message['message']}[/]")


def show_summary(result: dict[str, Any]) -> None:
    table = Table(title=f"Project {result['project_id']}: {result['status']}", show_header=False)
    for key in (
        "title",
        "language",
        "duration",
        "video_path",
        "thumbnail_path",
        "video_id",
        "video_url",
    ):
        if result.get(key) is not None:
            table.add_row(key, str(result[key]))
    out.print(table)


@app.command()
def status(project_id: Annotated[int | None, typer.Argument()] = None) -> None:
    """Show one project (with its assets), or list recent projects."""
    ctx = _context()
    if project_id is None:
        table = Table("id", "name", "language", "status", "video_id")
        for project in ctx.repo.list_projects():
            table.add_row(
                str(project.id),
                project.name,
                project.language,
                project.status.value,
                project.youtube_video_id or "",
            )
        out.print(table)
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
            asset.path or "",
        )
    out.print(assets)
    if result.get("error"):
        err.print(f"[red]error_info:[/] {json.dumps(result['error'], ensure_ascii=False)}")


@app.command()
def recover(
    list_only: Annotated[bool, typer.Option("--list", help="Only list, do not resume.")] = False,
) -> None:
    """List interrupted or failed projects and resume them; finished work is kept."""
    ctx = _context()
    stuck = interrupted_projects(ctx)
    table = Table("id", "status", "stage", "finished assets", "error")
    for row in stuck:
        table.add_row(*(str(row[k]) for k in ("id", "status", "stage", "finished", "error")))
    out.print(table if stuck else "Nothing to recover: every project finished.")
    if list_only:
        return
    failed = [row["id"] for row in stuck if run_flow(ctx, row["id"]) is not None]
    if failed:
        fail(f"Still failing: projects {', '.join(map(str, failed))} (see `ytmaker status ID`).")


def interrupted_projects(ctx: Context) -> list[dict[str, Any]]:
    """Projects not COMPLETED, from the database and the state files alike."""
    from ytmaker.models import AssetStatus, ProjectStatus
    from ytmaker.state import recover_interrupted_tasks
    from ytmaker.summary import stage_of

    ids = {
        p.id
        for p in ctx.repo.list_projects(limit=1000)
        if p.status not in (ProjectStatus.COMPLETED, ProjectStatus.INITIALIZED)
    }
    ids |= {
        s["project_id"]
        for s in recover_interrupted_tasks(ctx.settings.data_dir)
        if "project_id" in s
    }
    rows = []
    for project_id in sorted(ids):
        project = ctx.repo.get_project(project_id)
        if project.status is ProjectStatus.COMPLETED:
            continue
        finished = sum(a.status is AssetStatus.COMPLETED for a in ctx.repo.assets(project_id))
        rows.append(
            {
                "id": project_id,
                "status": project.status.value,
                "stage": stage_of(project),
                "finished": finished,
                "error": (project.error_info or {}).get("message", "")[:60],
            }
        )
    return rows


@app.command("retry-failed")
def retry_failed(project_id: int) -> None:
    """Make again only the assets that failed (placeholders included), then render again."""
    from ytmaker.models import AssetStatus

    ctx = _context()
    failed = [a for a in ctx.repo.assets(project_id) if a.status is AssetStatus.FAILED]
    if not failed:
        out.print(f"Project {project_id} has no failed assets.")
        return
    for asset in failed:
        if asset.path:
            Path(asset.path).unlink(missing_ok=True)  # a placeholder must not count as done
    err.print(f"Retrying {len(failed)} failed asset(s) of project {project_id}")
    run_and_report(ctx, project_id, as_json=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
