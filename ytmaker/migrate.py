"""Bring a database made by an earlier version up to the models: add the columns it lacks,
then the indexes (a unique one included: SQLite cannot add a UNIQUE column).

Every column added after the first release is nullable or has a default (a constant server
default is written into the ALTER, so existing rows get it), so adding it is all an upgrade
needs; `create_all` makes the tables that do not exist yet.
"""

from __future__ import annotations

import logging

from sqlalchemy import Column, Engine, Index, inspect, text
from sqlalchemy.exc import DatabaseError

from ytmaker.models import Base

log = logging.getLogger(__name__)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the model columns an existing table lacks; returns `table.column` for each."""
    inspector = inspect(engine)
    added: list[str] = []
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=engine.dialect) + _server_default(column)
            with engine.begin() as conn:
                conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            added.append(f"{table.name}.{column.name}")
    added += _add_missing_indexes(engine)
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


def _add_missing_indexes(engine: Engine) -> list[str]:
    inspector = inspect(engine)
    added: list[str] = []
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                _create_index(engine, index)
                added.append(f"index {index.name}")
    return added


def _create_index(engine: Engine, index: Index) -> None:
    """Another process upgrading the same database at once may have made it first."""
    try:
        index.create(engine)
    except DatabaseError:
        assert index.table is not None  # an index of our metadata always belongs to its table
        names = {found["name"] for found in inspect(engine).get_indexes(index.table.name)}
        if index.name not in names:
            raise
