"""Bring a database made by an earlier version up to the models: add the columns it lacks,
then the indexes (a unique one included: SQLite cannot add a UNIQUE column).

Every column added after the first release is nullable or has a default (a constant server
default is written into the ALTER, so existing rows get it), so adding it is all an upgrade
needs; `create_all` makes the tables that do not exist yet.
"""

from __future__ import annotations

import logging

from sqlalchemy import Column, Connection, Engine, Index, inspect, text
from sqlalchemy.exc import DatabaseError

from ytmaker.models import Base

log = logging.getLogger(__name__)
SCHEMA_LOCK = 0x79746D6B  # PostgreSQL advisory lock key ("ytmk"): one schema change at a time


def upgrade(engine: Engine) -> list[str]:
    """Make the missing tables, columns and indexes, one process at a time: two processes
    first using a new database together raced (`table projects already exists`)."""
    with engine.begin() as conn:
        _hold_schema_lock(conn)
        Base.metadata.create_all(conn)
        return add_missing_columns(conn)


def _hold_schema_lock(conn: Connection) -> None:
    """Until the transaction ends: SQLite's write lock, PostgreSQL's advisory lock."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})


def add_missing_columns(conn: Connection) -> list[str]:
    """Add the model columns an existing table lacks; returns `table.column` for each."""
    inspector = inspect(conn)
    added: list[str] = []
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=conn.dialect) + _server_default(column)
            conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            added.append(f"{table.name}.{column.name}")
    added += _add_missing_indexes(conn)
    if added:
        log.warning("Database upgraded: added %s", ", ".join(added))
    return added


def _server_default(column: Column) -> str:
    """` DEFAULT 'x'` for a column with a constant server default (existing rows get it)."""
    default = column.server_default
    value = getattr(default, "arg", None)
    if not isinstance(value, str):
        return ""
    return " DEFAULT '" + value.replace("'", "''") + "'"


def _add_missing_indexes(conn: Connection) -> list[str]:
    inspector = inspect(conn)
    added: list[str] = []
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                _create_index(conn, index)
                added.append(f"index {index.name}")
    return added


def _create_index(engine: Engine | Connection, index: Index) -> None:
    """An older version upgrading the same database at once (without the lock) may have made
    it first."""
    try:
        index.create(engine)
    except DatabaseError:
        assert index.table is not None  # an index of our metadata always belongs to its table
        names = {found["name"] for found in inspect(engine).get_indexes(index.table.name)}
        if index.name not in names:
            raise
