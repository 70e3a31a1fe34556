"""Running the video flow here, in this process, with live bars; or submitting to a deployment
that a worker runs. The one module that starts flows."""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tasks import prefect_env
from ytmaker.context import Context
from ytmaker.errors import YTMakerError
from ytmaker.progress import Stage
from ytmaker.summary import project_summary
from ytmaker.terminal import json_line, literal
from ytmaker_cli.app import fail, live, screen
from ytmaker_cli.display import draw, show_summary, stage_bars


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
        fail(error, result.get("error"))
    if hint := waiting_hint(result):
        screen.err.print(hint, markup=False, highlight=False)


def waiting_hint(result: dict[str, Any]) -> str | None:
    """What `generate` says when the video waits for a person."""
    if result["status"] not in ("AWAITING_REVIEW", "REVIEW_EXPIRED"):
        return None
    project_id = result["project_id"]
    if (result.get("review") or {}).get("reason") == "script":
        return (
            f"Waiting for its script to be read (nothing else is paid for yet): look with "
            f"`ytmaker review {project_id}`, edit with `ytmaker review {project_id} --edit` (or "
            f"--script FILE), or `--approve` / `--reject --reason ...`."
        )
    if (result.get("review") or {}).get("reason") == "partial":
        return (
            f"Held before upload: {len(result['replaced'])} image(s) are placeholders. "
            f"Publish as it is: ytmaker publish {project_id}; make them again: "
            f"ytmaker retry-failed {project_id}"
        )
    return (
        f"Waiting for review before upload: look with `ytmaker review {project_id}`, then "
        f"`ytmaker review {project_id} --approve [--title ...]` or `--reject --reason ...`."
    )


def run_flow(ctx: Context, project_id: int) -> str | None:
    """Run generate_video; returns the one-line error, or None."""
    prefect_env.apply(ctx.settings.data_dir)
    check_prefect_api()
    from flows.video import generate_video  # Prefect reads its settings on import

    one_line_errors()

    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(ctx, project_id, stop), daemon=True)
    if live():  # with JSON log lines on stderr, the stage lines are the progress
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
        if watcher.is_alive():
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


def watch(ctx: Context, project_id: int, stop: threading.Event) -> None:
    """Live per-stage progress bars from the Redis channel."""
    with stage_bars(screen.err) as (bars, rows):
        for message in ctx.bus.subscribe(project_id, include_latest=False, stop=stop):
            stage = message.get("stage")
            if stage in rows:
                draw(bars, rows[stage], message, screen.err)
            elif stage == Stage.ERROR:
                screen.err.print(literal(message["message"], style="red"))


def submit_deployment(name: str, parameters: dict[str, Any]) -> None:
    """Create a flow run of a deployment and print where to watch it."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    try:
        flow_run = run_deployment(name, parameters=parameters, timeout=0)
    except Exception as exc:  # noqa: BLE001
        fail(f"Cannot submit to the deployment {name} ({exc}). Is `make up` running?")
    api = _prefect_api_url()
    ui = api.removesuffix("/api") if api else "the Prefect UI"
    assert isinstance(flow_run, FlowRun)  # sync code: async_dispatch gives no coroutine
    screen.err.print(
        literal(
            f"Submitted flow run {flow_run.name} ({flow_run.id}): {ui}/runs/flow-run/{flow_run.id}"
        )
    )
    screen.out.print(str(flow_run.id))


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
