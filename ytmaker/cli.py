"""`ytmaker`: create projects and run the video flow, with live progress. The one module that
starts flows."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from ytmaker import prefect_env, project_input
from ytmaker.attempt import retrying_text
from ytmaker.config import get_settings
from ytmaker.context import Context
from ytmaker.errors import YTMakerError
from ytmaker.files import read_text_file
from ytmaker.formats import demo_sample
from ytmaker.language import normalise_language
from ytmaker.models import ID_MAX
from ytmaker.progress import Stage
from ytmaker.prompts import TEMPLATE_MAX_BYTES
from ytmaker.summary import project_summary, retrying_of, status_text
from ytmaker.terminal import clean, json_line, literal, markup_safe

app = typer.Typer(help="YTMaker Flow: text in, narrated video out.", no_args_is_help=True)
project_app = typer.Typer(help="Create projects.", no_args_is_help=True)
app.add_typer(project_app, name="project")
err = Console(stderr=True)
out = Console()
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
STAGE_LABELS = {
    Stage.SCRIPT: "1 腳本 script",
    Stage.ASSETS: "2 素材 assets",
    Stage.RENDER: "3 合成 render",
    Stage.THUMBNAIL: "4 縮圖 thumbnail",
    Stage.UPLOAD: "5 上傳 upload",
}


def _an_id(value: int | None) -> int | None:
    """Ids are whole numbers the database can hold: anything else is one line, not a crash."""
    if value is not None and not 1 <= value <= ID_MAX:
        fail(f"{value} is not an id: ids are whole numbers from 1 to {ID_MAX:,}.")
    return value


ProjectId = Annotated[int, typer.Argument(help="A project id.", callback=_an_id)]
BatchId = Annotated[int, typer.Argument(help="A batch id.", callback=_an_id)]


def fail(message: str) -> None:
    err.print(
        f"[bold red]錯誤 Error:[/] {markup_safe(message, multiline=True)}",
        highlight=False,
        soft_wrap=True,
    )
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
    video_format: Annotated[
        str, typer.Option("--format", help="landscape (1920x1080) or shorts (1080x1920).")
    ] = "landscape",
) -> None:
    """Create a project; prints its id."""
    content = _read_text(content_file, "--content-file", project_input.CONTENT_MAX_BYTES)
    youtube = {"privacy": privacy, "publish_at": publish_at, "tags": _split_tags(tags)}
    template = (
        _read_text(prompt_template_file, "--prompt-template-file", TEMPLATE_MAX_BYTES)
        if prompt_template_file
        else None
    )
    visual = _visual_config(visual_config) if visual_config else None
    ctx = _context()
    made = create_project(ctx, name, content, lang, youtube, template, visual, video_format)
    out.print(made.get("id"))


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
    video_format: str = "landscape",
) -> dict[str, Any]:
    try:
        fields = project_input.new_project(
            name, content, lang, youtube or {}, prompt_template, video_format=video_format
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
    run_and_report(_context(), project_id, as_json)


@app.command()
def demo(
    lang: Annotated[str, typer.Option("--lang", help="zh-TW or en.")] = "zh-TW",
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
    video_format: Annotated[
        str, typer.Option("--format", help="landscape or shorts (a vertical Short).")
    ] = "landscape",
) -> None:
    """Make a video from a bundled sample article, fully offline."""
    try:
        language = normalise_language(lang)
        sample = demo_sample(SAMPLES, language, video_format)
    except (YTMakerError, ValueError) as exc:
        fail(getattr(exc, "message", None) or f"--format: {exc}")
    ctx = _context()
    text = sample.read_text("utf-8")
    project_id = create_project(
        ctx, f"demo: {sample.stem}", text, language, video_format=video_format
    )
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
        print(json_line(result))
    else:
        show_summary(result)
    if error is not None:
        fail(error)
    if result["status"] == "AWAITING_REVIEW":
        err.print(
            f"Held before upload: {len(result['replaced'])} image(s) are placeholders. "
            f"Publish as it is: ytmaker publish {project_id}; make them again: "
            f"ytmaker retry-failed {project_id}",
            markup=False,
            highlight=False,
        )


def run_flow(ctx: Context, project_id: int) -> str | None:
    """Run generate_video; returns the one-line error, or None."""
    prefect_env.apply(ctx.settings.data_dir)
    check_prefect_api()
    from flows.video import generate_video  # Prefect reads its settings on import

    one_line_errors()

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


class _RunErrorsFilter(logging.Filter):
    """Drops Prefect's console copy of a failed flow or task run (a 60-line traceback): the CLI
    prints the error itself, in one line. The copy sent to the Prefect API (the UI) stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        run_log = record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))
        return not (run_log and record.levelno >= logging.ERROR)


def one_line_errors() -> None:
    """Install the filter on Prefect's console handler (set up when Prefect is imported)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not any(
            isinstance(f, _RunErrorsFilter) for f in handler.filters
        ):
            handler.addFilter(_RunErrorsFilter())


@contextlib.contextmanager
def stage_bars(console: Console) -> Iterator[tuple[Progress, dict[Stage, Any]]]:
    """One progress bar per stage, as `demo`, `generate` and `watch` draw them."""
    columns = (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[message]}", markup=False),
    )
    with Progress(*columns, console=console, transient=False) as bars:
        yield (
            bars,
            {
                stage: bars.add_task(label, total=100, message="")
                for stage, label in STAGE_LABELS.items()
            },
        )


def watch(ctx: Context, project_id: int, stop: threading.Event) -> None:
    """Live per-stage progress bars from the Redis channel."""
    with stage_bars(err) as (bars, rows):
        for message in ctx.bus.subscribe(project_id, include_latest=False, stop=stop):
            stage = message.get("stage")
            if stage in rows:
                draw(bars, rows[stage], message, err)
            elif stage == Stage.ERROR:
                err.print(literal(message["message"], style="red"))


def draw(bars: Progress, row: Any, message: dict[str, Any], console: Console) -> None:
    """One progress message on its stage bar; a retry is also printed as a line of its own."""
    text = bar_text(message)
    bars.update(row, completed=message["progress"], message=text)
    if (message.get("data") or {}).get("retry_in") is not None:
        label = STAGE_LABELS.get(Stage(message["stage"]), message["stage"])
        console.print(f"{label}: {text}", markup=False, highlight=False)


def bar_text(message: dict[str, Any]) -> str:
    """A progress message as its bar shows it; a retry says so, with the attempt coming next."""
    data = message.get("data") or {}
    if data.get("retry_in") is None:
        return clean(message["message"])
    retry = retrying_text(data["attempt"] + 1, data["max_attempts"], data["retry_in"])
    return clean(f"{retry}: {(data.get('error') or {}).get('message', '')}")


def show_summary(result: dict[str, Any]) -> None:
    status = status_text(result["status"], result.get("retrying"))
    table = Table(title=literal(f"Project {result['project_id']}: {status}"), show_header=False)
    for key in (
        "title",
        "language",
        "format",
        "duration",
        "video_path",
        "thumbnail_path",
        "thumbnail_note",
        "video_id",
        "video_url",
    ):
        if result.get(key) is not None:
            table.add_row(key, literal(result[key]))
    if result.get("partial"):
        replaced = ", ".join(
            f"segment {r['segment_index']} ({r['code']})" for r in result["replaced"]
        )
        table.add_row("partial", literal(f"placeholder images: {replaced}"))
    out.print(table)


@app.command()
def status(
    project_id: Annotated[int | None, typer.Argument(help="A project id.", callback=_an_id)] = None,
) -> None:
    """Show one project (with its assets), or list recent projects."""
    ctx = _context()
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
            literal(asset.path or ""),
        )
    out.print(assets)
    if result.get("error"):
        err.print(f"[red]error_info:[/] {markup_safe(json_line(result['error']))}")


@app.command()
def recover(
    list_only: Annotated[bool, typer.Option("--list", help="Only list, do not resume.")] = False,
) -> None:
    """List interrupted or failed projects and resume them; finished work is kept."""
    ctx = _context()
    stuck = interrupted_projects(ctx)
    table = Table("id", "status", "stage", "finished assets", "error")
    for row in stuck:
        table.add_row(*(literal(row[k]) for k in ("id", "status", "stage", "finished", "error")))
    out.print(table if stuck else "Nothing to recover: every project finished.")
    if list_only:
        return
    resumable = [row for row in stuck if row["status"] != ORPHAN]
    failed = [row["id"] for row in resumable if run_flow(ctx, row["id"]) is not None]
    if failed:
        fail(f"Still failing: projects {', '.join(map(str, failed))} (see `ytmaker status ID`).")


ORPHAN = "ORPHAN"


def _shortened(text: str, limit: int) -> str:
    """Long enough to keep what to do (the setting to raise); cut visibly when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def interrupted_projects(ctx: Context) -> list[dict[str, Any]]:
    """Projects not COMPLETED, from the database and the state files alike. A state file for a
    project the database does not have (after a reset or a move to PostgreSQL) is listed as
    ORPHAN and never resumed."""
    from ytmaker.db import valid_id
    from ytmaker.errors import ProjectNotFound
    from ytmaker.models import AssetStatus, ProjectStatus
    from ytmaker.state import recover_interrupted_tasks
    from ytmaker.summary import stage_of

    settled = (ProjectStatus.COMPLETED, ProjectStatus.INITIALIZED, ProjectStatus.AWAITING_REVIEW)
    ids = {p.id for p in ctx.repo.list_projects(limit=1000) if p.status not in settled}
    ids |= {
        s["project_id"]
        for s in recover_interrupted_tasks(ctx.settings.data_dir)
        if valid_id(s.get("project_id"))
    }
    rows = []
    for project_id in sorted(ids):
        try:
            project = ctx.repo.get_project(project_id)
        except ProjectNotFound:
            rows.append(_orphan(ctx, project_id))
            continue
        if project.status in settled:  # a person decides what happens to a held video
            continue
        finished = sum(a.status is AssetStatus.COMPLETED for a in ctx.repo.assets(project_id))
        rows.append(
            {
                "id": project_id,
                "status": project.status.value,
                "stage": stage_of(project),
                "finished": finished,
                "error": _shortened((project.error_info or {}).get("message", ""), 160),
            }
        )
    return rows


def _orphan(ctx: Context, project_id: int) -> dict[str, Any]:
    where = ctx.project_dir(project_id)
    return {
        "id": project_id,
        "status": ORPHAN,
        "stage": "-",
        "finished": 0,
        "error": f"only a state file in {where}: not in the database; skipped",
    }


@app.command("retry-failed")
def retry_failed(project_id: ProjectId) -> None:
    """Make again only the assets that failed (placeholders included), then render again."""
    from ytmaker.models import AssetStatus

    ctx = _context()
    from ytmaker import review

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
        out.print(f"Project {project_id} has no failed assets.")
        return
    for asset in failed:
        if asset.path:
            Path(asset.path).unlink(missing_ok=True)  # a placeholder must not count as done
    review.reopen(ctx, project_id)
    err.print(f"Retrying {len(failed)} failed asset(s) of project {project_id}")
    run_and_report(ctx, project_id, as_json=False)


@app.command()
def publish(
    project_id: ProjectId, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Publish a video held before upload (placeholder images) as it is."""
    from ytmaker import review
    from ytmaker.models import ProjectStatus

    ctx = _context()
    try:
        project = ctx.repo.get_project(project_id)
    except YTMakerError as exc:
        fail(exc.message)
    if project.status is ProjectStatus.COMPLETED:
        out.print(f"Project {project_id} is already published: {project.video_url}")
        return
    if project.status is not ProjectStatus.AWAITING_REVIEW:
        fail(f"Project {project_id} is not waiting for review (status {project.status.value}).")
    review.approve(ctx, project_id)
    run_and_report(ctx, project_id, as_json)


youtube_app = typer.Typer(help="YouTube channel access.", no_args_is_help=True)
app.add_typer(youtube_app, name="youtube")


@youtube_app.command("auth")
def youtube_auth(
    no_browser: Annotated[bool, typer.Option(help="Print the URL instead of opening it.")] = False,
) -> None:
    """Authorise the channel once (installed-app OAuth); stores a refreshable token."""
    from ytmaker.providers.youtube import run_oauth_flow

    settings = _context().settings
    if not settings.youtube_client_secrets_file or not settings.youtube_token_file:
        fail("Set YOUTUBE_CLIENT_SECRETS_FILE (from Google Cloud console) and YOUTUBE_TOKEN_FILE.")
    run_oauth_flow(
        settings.youtube_client_secrets_file,
        settings.youtube_token_file,
        open_browser=not no_browser,
    )
    out.print(literal(f"Token stored in {settings.youtube_token_file}"))


def main() -> None:
    """The `ytmaker` command: a typed error anywhere (settings, database, Redis) is one line."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except YTMakerError as exc:
        with contextlib.suppress(typer.Exit):
            fail(exc.message)
        sys.exit(1)


# --- batches, watch, quota --------------------------------------------------------------------

batch_app = typer.Typer(help="Batches of projects from a YAML file.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")
STAGE_ORDER = list(STAGE_LABELS)
BATCH_DEPLOYMENT = "batch-processing/batch-processing"


@batch_app.command("create")
def batch_create(
    file: Annotated[
        Path, typer.Option("--file", "-f", help="Batch YAML: name, projects (see README).")
    ],
    allow_outside: Annotated[
        bool,
        typer.Option(
            "--allow-outside",
            help="Let the file use files outside its own folder (content_file, logo, music, font).",
        ),
    ] = False,
) -> None:
    """Create a batch and its projects from a YAML file; prints the batch id."""
    from ytmaker import batch

    ctx = _context()
    try:
        plan = batch.load_batch_file(file, allow_outside=allow_outside)
    except YTMakerError as exc:
        fail(exc.message)
    row = batch.create_batch(ctx.repo, plan)
    err.print(literal(f"Batch {row.id} ({row.name}): {row.total} projects"))
    out.print(row.id)


@batch_app.command("run")
def batch_run(
    batch_id: BatchId,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
    deployment: Annotated[
        bool,
        typer.Option(
            "--deployment",
            help="Submit to the `batch-processing` deployment (a worker runs it; see `make up`) "
            "instead of running here.",
        ),
    ] = False,
) -> None:
    """Make every unfinished video of a batch, YTMAKER_BATCH_CONCURRENCY at a time."""
    from ytmaker import batch

    ctx = _context()
    try:
        batch.get_batch(ctx.repo, batch_id)
    except YTMakerError as exc:
        fail(exc.message)
    prefect_env.apply(ctx.settings.data_dir)
    check_prefect_api()
    if deployment:
        submit_deployment(BATCH_DEPLOYMENT, {"batch_id": batch_id})
        return
    from flows.batch import batch_processing

    one_line_errors()

    error: str | None = None
    stop = threading.Event()
    from rich.live import Live

    with Live(batch_table(ctx, batch_id), console=err, refresh_per_second=2) as live:
        updater = threading.Thread(
            target=_refresh_batch, args=(ctx, batch_id, live, stop), daemon=True
        )
        updater.start()
        try:
            batch_processing(batch_id)
        except YTMakerError as exc:
            error = exc.message
        except Exception as exc:  # noqa: BLE001 - one line; details are in Prefect's log
            error = f"{type(exc).__name__}: {exc}"
        finally:
            stop.set()
            updater.join(timeout=3)
            live.update(batch_table(ctx, batch_id))
    result = batch.summary(ctx.repo, batch_id)
    if as_json:
        print(json_line(result))
    if error is not None:
        fail(error)
    if result["status"] == "FAILED":
        raise typer.Exit(1)


def _refresh_batch(ctx: Context, batch_id: int, live: Any, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        try:
            live.update(batch_table(ctx, batch_id))
        except Exception:  # noqa: BLE001 - a display hiccup must not stop the batch
            logging.getLogger(__name__).debug("batch table refresh failed", exc_info=True)


def submit_deployment(name: str, parameters: dict[str, Any]) -> None:
    """Create a flow run of a deployment and print where to watch it."""
    from prefect.deployments import run_deployment

    try:
        flow_run = run_deployment(name, parameters=parameters, timeout=0)
    except Exception as exc:  # noqa: BLE001
        fail(f"Cannot submit to the deployment {name} ({exc}). Is `make up` running?")
    api = _prefect_api_url()
    ui = api.removesuffix("/api") if api else "the Prefect UI"
    err.print(
        literal(
            f"Submitted flow run {flow_run.name} ({flow_run.id}): {ui}/runs/flow-run/{flow_run.id}"
        )
    )
    out.print(str(flow_run.id))


PREFECT_API_WAIT = 5.0  # seconds: a server this slow to say it is healthy will not run a video


def check_prefect_api() -> None:
    """A PREFECT_API_URL that accepts and never answers would hang the run without a word: ask
    its health first, once, without the client's retries, and name it if it stays silent."""
    url = _prefect_api_url()
    if not url:
        return  # in-process API: nothing to wait for
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    with (
        temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}),
        get_client(sync_client=True, httpx_settings={"timeout": PREFECT_API_WAIT}) as client,
    ):
        problem = client.api_healthcheck()
    if problem is not None:
        fail(
            f"The Prefect API at {_without_password(url)} did not answer within "
            f"{PREFECT_API_WAIT:g} s ({type(problem).__name__}): start it (`make up`), fix "
            "PREFECT_API_URL, or unset it to run in-process."
        )


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _prefect_api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@batch_app.command("status")
def batch_status(
    batch_id: BatchId,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A table of the batch's projects: status, stage and progress, video id or error."""
    from ytmaker import batch

    ctx = _context()
    try:
        result = batch.summary(ctx.repo, batch_id)
    except YTMakerError as exc:
        fail(exc.message)
    if as_json:
        print(json_line(result))
        return
    out.print(batch_table(ctx, batch_id))


def batch_table(ctx: Context, batch_id: int) -> Table:
    from ytmaker import batch

    row = batch.get_batch(ctx.repo, batch_id)
    table = Table(
        "id",
        "name",
        "lang",
        "status",
        "stage",
        "progress",
        "video id / error",
        title=literal(
            f"Batch {row.id} {row.name}: {row.status.value} — {row.completed} completed, "
            f"{row.failed} failed, {row.total} in all"
        ),
    )
    colours = {"COMPLETED": "green", "FAILED": "red"}
    for project in batch.batch_projects(ctx.repo, batch_id):
        status = project.status.value
        latest = ctx.bus.latest(project.id) or {}
        stage, progress = latest.get("stage", ""), latest.get("progress")
        if status in ("COMPLETED", "INITIALIZED"):
            stage, progress = ("", None) if status == "INITIALIZED" else (stage, 100.0)
        detail = (
            project.youtube_video_id or ""
            if status != "FAILED"
            else (project.error_info or {}).get("message", "")
        )
        shown = status_text(status, retrying_of(ctx, project))
        table.add_row(
            str(project.id),
            literal(project.name),
            literal(project.language),
            literal(shown, style=colours.get(status, "yellow")),
            literal(STAGE_LABELS.get(stage, stage) if stage else ""),
            "" if progress is None else f"{overall_percent(stage, progress):.0f}%",
            literal(detail),
        )
    return table


def overall_percent(stage: str, progress: float) -> float:
    """0-100 over the five stages."""
    if stage not in STAGE_ORDER:
        return float(progress)
    return (STAGE_ORDER.index(Stage(stage)) * 100 + float(progress)) / len(STAGE_ORDER)


@app.command("watch")
def watch_command(
    project_id: ProjectId,
    timeout: Annotated[
        float | None, typer.Option(help="Give up after this many seconds without news.")
    ] = None,
) -> None:
    """Live per-stage progress bars of a project being made (also when started mid-run)."""
    ctx = _context()
    try:
        ctx.repo.get_project(project_id)
    except YTMakerError as exc:
        fail(exc.message)
    outcome = follow(ctx, project_id, timeout=timeout)
    if outcome == "FAILED":
        raise typer.Exit(1)


def follow(
    ctx: Context,
    project_id: int,
    *,
    timeout: float | None = None,
    console: Console | None = None,
) -> str | None:
    """Draw the stage bars from Redis until the project completes or fails.

    The stored latest message comes first, so someone who starts watching mid-run sees the
    earlier stages as done and the current one where it is. Returns COMPLETED, FAILED, or None
    when `timeout` passed without news.
    """
    from ytmaker.models import ProjectStatus

    stop = threading.Event()
    outcome: list[str] = []

    def finished_elsewhere() -> None:  # a run that died without a last message
        while not stop.wait(5.0):
            with contextlib.suppress(Exception):
                status = ctx.repo.get_project(project_id).status
                if status in (ProjectStatus.COMPLETED, ProjectStatus.FAILED):
                    outcome.append(status.value)
                    stop.set()

    threading.Thread(target=finished_elsewhere, daemon=True).start()
    with stage_bars(console or err) as (bars, rows):
        for message in ctx.bus.subscribe(project_id, timeout=timeout, stop=stop):
            stage = message.get("stage")
            if not _confirmed(ctx, project_id, message):
                continue
            if stage in rows:
                for earlier in STAGE_ORDER[: STAGE_ORDER.index(Stage(stage))]:
                    bars.update(rows[earlier], completed=100)
                draw(bars, rows[stage], message, console or err)
                if stage == Stage.UPLOAD and message["progress"] >= 100:
                    outcome.append("COMPLETED")
                    break
            elif stage == Stage.ERROR:
                (console or err).print(literal(message["message"], style="red"))
                outcome.append("FAILED")
                break
    stop.set()
    if not outcome:
        with contextlib.suppress(Exception):
            status = ctx.repo.get_project(project_id).status
            if status in (ProjectStatus.COMPLETED, ProjectStatus.FAILED):
                outcome.append(status.value)
    return outcome[0] if outcome else None


def _confirmed(ctx: Context, project_id: int, message: dict[str, Any]) -> bool:
    """A last message (done, or failed) counts when the database agrees: the stored latest
    can be an earlier run's, e.g. of the same id in a database that was reset."""
    from ytmaker.models import ProjectStatus

    stage = message.get("stage")
    if stage == Stage.UPLOAD and message.get("progress", 0) >= 100:
        expected = ProjectStatus.COMPLETED
    elif stage == Stage.ERROR:
        expected = ProjectStatus.FAILED
    else:
        return True
    with contextlib.suppress(Exception):
        return ctx.repo.get_project(project_id).status is expected
    return True


@app.command("quota")
def quota_command(
    sync: Annotated[
        bool, typer.Option("--sync", help="Read every service now and store the readings.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Quota used per service: the last hourly sync (Redis, else the database), or read now."""
    from ytmaker import quota

    ctx = _context()
    if sync:
        readings = [r.to_dict() for r in quota.read_all(ctx)]
        quota.store(ctx, [quota.QuotaReading(**r) for r in readings])
    else:
        stored = quota.from_redis(ctx)
        if not stored:
            stored = {
                s.service: {
                    "service": s.service,
                    "used": s.used,
                    "limit": s.quota_limit,
                    "percent": s.percent,
                    "unit": s.unit,
                    "source": s.source,
                    "period": (s.details or {}).get("period", ""),
                    "error": (s.details or {}).get("error"),
                    "taken_at": s.taken_at.isoformat(timespec="seconds"),
                }
                for s in quota.latest_snapshots(ctx.repo)
            }
        readings = list(stored.values()) or [r.to_dict() for r in quota.read_all(ctx)]
    if as_json:
        print(json_line(readings))
        return
    threshold = ctx.settings.quota_warn_percent
    table = Table("service", "used", "limit", "% used", "period", "source", "read at")
    for r in readings:
        percent = r.get("percent")
        shown = "" if percent is None else f"{percent:.1f}%"
        over = percent is not None and percent > threshold
        table.add_row(
            literal(r["service"]),
            literal(f"{r['used']:g} {r.get('unit', '')}"),
            "" if r.get("limit") is None else f"{r['limit']:g}",
            literal(shown, style="bold red" if over else ""),
            literal(r.get("period") or ""),
            literal(f"error: {r['error']}" if r.get("error") else r.get("source", "")),
            literal(r.get("taken_at", "")),
        )
    out.print(table)


if __name__ == "__main__":
    main()
