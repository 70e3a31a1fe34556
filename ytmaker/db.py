"""Engine, sessions and the few queries the pipeline needs."""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ytmaker.errors import ProjectNotFound, StorageError
from ytmaker.migrate import upgrade
from ytmaker.models import (
    ID_MAX,
    Asset,
    AssetStatus,
    AssetType,
    Project,
    ProjectStatus,
    Timing,
    utcnow,
)

log = logging.getLogger(__name__)
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()  # threads first using one URL together make one engine
# A restarting or briefly unreachable database: wait this long between the few attempts.
RETRY_DELAYS = (0.2, 0.5, 1.0)
WAL_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
UNAVAILABLE = "DATABASE_UNAVAILABLE"
P = ParamSpec("P")
R = TypeVar("R")


def normalise_url(url: str) -> str:
    """Let users write postgresql:// and still get the psycopg 3 driver we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def get_engine(url: str) -> Engine:
    """One engine per URL; creates the tables on first use (never a folder: an SQLite file's
    folder must exist; the data dir is made by Context.create)."""
    url = normalise_url(url)
    with _engines_lock:
        if url not in _engines:
            _engines[url] = _create(url)
        return _engines[url]


def _create(url: str) -> Engine:
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            _require_folder(Path(parsed.database).parent)
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        upgrade(engine)
    except (DatabaseError, OSError, ArgumentError, ImportError) as exc:
        raise unavailable(url, exc) from None
    return engine


def _require_folder(folder: Path) -> None:
    """The SQLite file's folder exists: a typo in DATABASE_URL must not make folders anywhere."""
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT,
            "the folder for the SQLite file does not exist; create it first",
            str(folder),
        )


def unavailable(url: str, exc: BaseException) -> StorageError:
    """A clear error naming the database (never its password) and what to check."""
    parsed = make_url(normalise_url(url))
    where = parsed.render_as_string(hide_password=True)
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    if parsed.password:
        reason = reason.replace(str(parsed.password), "***")
    if disk_full(exc):
        return StorageError(
            f"The database {where} cannot write: its disk is full ({reason}).",
            code="DISK_FULL",
            retryable=False,
            database=where,
        )
    return StorageError(
        f"Cannot use the database {where}: {reason}. Check that it is running and reachable, "
        "that DATABASE_URL (host, port, user, password) is right, and, for SQLite, that its "
        "folder is readable and writable.",
        code=UNAVAILABLE,
        retryable=isinstance(exc, OperationalError),  # not a garbage file or a bad folder
        database=where,
    )


def retrying(
    method: Callable[Concatenate[Repository, P], R],
) -> Callable[Concatenate[Repository, P], R]:
    """Retry a short transaction while the database is briefly away, then explain clearly."""

    @functools.wraps(method)
    def wrapper(self: Repository, /, *args: P.args, **kwargs: P.kwargs) -> R:
        for delay in RETRY_DELAYS:
            try:
                return method(self, *args, **kwargs)
            except (OperationalError, StorageError) as exc:
                if not _transient(exc):
                    if isinstance(exc, OperationalError):
                        raise unavailable(self.url, exc) from None
                    raise
                log.info("Database unavailable; retrying in %.1f s", delay)  # our loggers say INFO
                time.sleep(delay)
        try:
            return method(self, *args, **kwargs)
        except OperationalError as exc:
            raise unavailable(self.url, exc) from None

    return wrapper


def _transient(exc: Exception) -> bool:
    if isinstance(exc, StorageError):
        return exc.code == UNAVAILABLE and exc.retryable
    return not disk_full(exc)  # waiting frees no space


FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded")


def disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL or PostgreSQL's ENOSPC, as the driver words it."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return any(words in text for words in FULL_WORDS)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    _use_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """WAL is kept in the file once set. Setting it answers "database is locked" at once,
    without the busy timeout, while another process opening the new file sets it too."""
    for delay in (*WAL_RETRY_DELAYS, None):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if delay is None or "locked" not in str(exc):
                raise
            time.sleep(delay)


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextlib.contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = sessionmaker(get_engine(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def valid_id(value: object) -> bool:
    """An id a row can have (a bigger one would crash the driver, not just miss)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= ID_MAX


class Repository:
    """The pipeline's reads and writes, each in its own short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url

    def session(self) -> contextlib.AbstractContextManager[Session]:
        return session_scope(self.url)

    @retrying
    def create_project(self, /, **fields: Any) -> Project:
        with self.session() as session:
            project = Project(**fields)
            session.add(project)
            session.flush()
            return project

    @retrying
    def get_project(self, project_id: int) -> Project:
        with self.session() as session:
            project = session.get(Project, project_id) if valid_id(project_id) else None
            if project is None:
                raise ProjectNotFound(
                    f"Project {project_id} does not exist. "
                    "See `ytmaker status` for projects; `ytmaker project create` makes one.",
                    project_id=project_id,
                )
            return project

    @retrying
    def update_project(
        self, /, project_id: int, *, timing: Timing | None = None, **fields: Any
    ) -> Project:
        """`timing`: the stage attempt's row, written in the same transaction."""
        with self.session() as session:
            if timing is not None:
                session.add(timing)
            project = session.get(Project, project_id) if valid_id(project_id) else None
            if project is None:
                raise ProjectNotFound(
                    f"Project {project_id} does not exist.", project_id=project_id
                )
            for name, value in fields.items():
                setattr(project, name, value)
            if fields.get("status") == ProjectStatus.COMPLETED:
                project.completed_at = utcnow()
            return project

    @retrying
    def list_projects(self, limit: int = 50) -> list[Project]:
        with self.session() as session:
            return list(session.scalars(select(Project).order_by(Project.id.desc()).limit(limit)))

    @retrying
    def save_asset(
        self,
        project_id: int,
        type_: AssetType,
        segment_index: int | None,
        *,
        status: AssetStatus,
        path: str | None = None,
        error: dict[str, Any] | None = None,
        fingerprint: str | None = None,
        timing: Timing | None = None,
    ) -> Asset:
        """Insert or update the one row for (project, type, segment); `timing`, the making
        of it, in the same transaction."""
        with self.session() as session:
            if timing is not None:
                session.add(timing)
            asset = session.scalars(
                select(Asset).where(
                    Asset.project_id == project_id,
                    Asset.type == type_,
                    Asset.segment_index.is_(None)
                    if segment_index is None
                    else Asset.segment_index == segment_index,
                )
            ).first()
            if asset is None:
                asset = Asset(project_id=project_id, type=type_, segment_index=segment_index)
                session.add(asset)
            asset.status, asset.path, asset.error = status, path, error
            asset.fingerprint = fingerprint
            session.flush()
            return asset

    @retrying
    def assets(self, project_id: int) -> list[Asset]:
        if not valid_id(project_id):
            return []
        with self.session() as session:
            return list(
                session.scalars(
                    select(Asset).where(Asset.project_id == project_id).order_by(Asset.id)
                )
            )

    @retrying
    def add_timing(self, timing: Timing) -> None:
        with self.session() as session:
            session.add(timing)
