"""Log records an operator can search: with `YTMAKER_LOG_FORMAT=json` every line is one JSON
object (`timestamp`, `level`, `logger`, `message`, `trace_id`, `project_id`, `stage`,
`attempt`, and for errors `error_code`, `details`, `traceback`).

Where a record comes from is known in layers: the stage binds its project and stage
(`bound`), the Prefect layer tells the run it belongs to (`add_source`: the flow run id is
the `trace_id`), and a call may pass its own `extra`. Secrets are scrubbed from every field.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from ytmaker.redaction import scrub_value

OUR_LOGGERS = ("ytmaker", "tasks", "flows", "ytmaker_cli")
FIELDS = (
    "trace_id",
    "parent_trace_id",
    "project_id",
    "batch_id",
    "stage",
    "asset",
    "attempt",
    "duration",
    "outcome",
    "error_code",
    "details",
)
_bound: ContextVar[dict[str, Any] | None] = ContextVar("ytmaker_log_fields", default=None)
_sources: list[Callable[[], dict[str, Any]]] = []
_failures: dict[int, dict[str, Any]] = {}  # project id -> its last final error (error_info)
KEPT_FAILURES = 256


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Every record logged inside (in this thread, and in tasks submitted from it) carries
    these fields."""
    token = _bound.set({**(_bound.get() or {}), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


def add_source(source: Callable[[], dict[str, Any]]) -> None:
    """A function asked for fields at each record (the Prefect layer's run ids)."""
    if source not in _sources:
        _sources.append(source)


def current() -> dict[str, Any]:
    """The fields a record logged here and now would carry."""
    fields: dict[str, Any] = {}
    for source in _sources:
        with contextlib.suppress(Exception):  # a log line must never fail on its context
            fields.update(source())
    fields.update(_bound.get() or {})
    return {k: v for k, v in fields.items() if v is not None}


def remember_failure(project_id: int, info: dict[str, Any]) -> None:
    """A project's final error: the ERROR lines that follow it (Prefect's "Finished in state
    Failed", the command's one line) name the same code."""
    _failures.pop(project_id, None)
    _failures[project_id] = info
    while len(_failures) > KEPT_FAILURES:
        _failures.pop(next(iter(_failures)))


def _error_of(record: logging.LogRecord, project_id: Any) -> dict[str, Any]:
    """The error an ERROR record is about when it does not say: its exception's, else its
    project's last failure, else the last failure whose message it quotes (Prefect's line for
    the batch task that ran the failed video)."""
    exc = record.exc_info[1] if record.exc_info else None
    if exc is not None:
        to_info = getattr(exc, "to_info", None)
        info = to_info() if callable(to_info) else {"code": type(exc).__name__.upper()}
        return error_fields(info)
    if isinstance(project_id, int) and project_id in _failures:
        return error_fields(_failures[project_id])
    message = record.getMessage()
    for info in reversed(list(_failures.values())):
        if info.get("message") and str(info["message"]) in message:
            return error_fields(info)
    return {}


def error_fields(info: dict[str, Any]) -> dict[str, Any]:
    """The `extra` of an error record: its code and the rest of its error_info."""
    details = {k: v for k, v in info.items() if k not in ("code", "message")}
    return {"error_code": info.get("code"), "details": details}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **current(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.levelno >= logging.ERROR and "error_code" not in entry:
            entry.update(_error_of(record, entry.get("project_id")))
        if record.exc_info or record.exc_text:
            entry["traceback"] = record.exc_text or "".join(
                traceback.format_exception(*record.exc_info)  # type: ignore[misc]
            )
        return json.dumps(scrub_value(entry), ensure_ascii=False, default=str)


def _timestamp(created: float) -> str:
    """UTC to the millisecond, as progress messages write it."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class QuietInfo(logging.Filter):
    """A terminal's text log: our INFO lines stay off the screen, where progress bars are."""

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name.split(".")[0] in OUR_LOGGERS
        return not (ours and record.levelno < logging.WARNING)


class JsonHandler(logging.StreamHandler):
    """stderr, one JSON object a line."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(JsonFormatter())


_chosen: dict[str, Any] = {"format": None, "filters": []}


def use(log_format: str) -> None:
    """Send every record to stderr as `log_format` (`json` or `text`); our loggers say INFO.

    JSON replaces the console handlers on the root logger (Prefect's included) with one
    JSON handler; text keeps them and only keeps our INFO lines off them."""
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    _chosen["format"] = log_format
    reapply()


def on_consoles(log_filter: logging.Filter) -> None:
    """Add `log_filter` (once per type) to the terminal handlers, now and after `reapply`."""
    filters: list[logging.Filter] = _chosen["filters"]
    if not any(type(f) is type(log_filter) for f in filters):
        filters.append(log_filter)
    reapply()


def reapply() -> None:
    """Prefect adds its console handler when a flow module is first imported, after the
    settings chose the format: this gives that handler the same format and filters."""
    if _chosen["format"] is None:
        return
    root = logging.getLogger()
    consoles = [h for h in root.handlers if _is_console(h)]
    if _chosen["format"] == "json":
        for handler in consoles:
            if not isinstance(handler, JsonHandler):
                root.removeHandler(handler)
        if not any(isinstance(h, JsonHandler) for h in root.handlers):
            root.addHandler(JsonHandler())
        return
    for handler in consoles:
        for log_filter in [QuietInfo(), *_chosen["filters"]]:
            if not any(type(f) is type(log_filter) for f in handler.filters):
                handler.addFilter(log_filter)


def _is_console(handler: logging.Handler) -> bool:
    """A handler printing to this process's stderr or stdout (not a file, not pytest's)."""
    stream = getattr(handler, "stream", None)
    streams = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    return isinstance(handler, logging.StreamHandler) and any(stream is s for s in streams)
