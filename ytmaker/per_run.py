"""One project (or batch) per flow run: a run that is retried or rescheduled after a crash keeps
its flow-run id, so the row it made is found by that id instead of being made again.

The id is stored in a unique column (`created_by_run`): two attempts racing still make one row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ytmaker.batch import BatchPlan, create_batch
from ytmaker.db import Repository
from ytmaker.models import BatchTask, Project


def project_for_run(repo: Repository, run_id: str, fields: dict[str, Any]) -> tuple[Project, bool]:
    """(the run's project, whether this call made it)."""
    found = _find(repo, Project, run_id)
    if found is not None:
        return found, False
    try:
        return repo.create_project(**fields, created_by_run=run_id), True
    except IntegrityError:  # another attempt of the same run made it first
        return _find(repo, Project, run_id), False


def made_by_run(repo: Repository, run_id: str) -> Project | None:
    """The project an earlier attempt of this run made, if any."""
    return _find(repo, Project, run_id)


def batch_for_run(repo: Repository, run_id: str, plan: BatchPlan) -> tuple[BatchTask, bool]:
    """(the run's batch with its projects, whether this call made it)."""
    found = _find(repo, BatchTask, run_id)
    if found is not None:
        return found, False
    try:
        return create_batch(repo, plan, created_by_run=run_id), True
    except IntegrityError:
        return _find(repo, BatchTask, run_id), False


def _find(repo: Repository, model: type[Project] | type[BatchTask], run_id: str) -> Any:
    with repo.session() as session:
        return session.scalars(select(model).where(model.created_by_run == run_id)).first()
