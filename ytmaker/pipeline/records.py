"""An asset's row and state-file entry, kept in step with its file; and the fingerprint that
tells finished work from work to redo, so no asset is paid for twice."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ytmaker.bookkeeping import announce_retry, asset_key, error_info
from ytmaker.context import Context
from ytmaker.models import AssetStatus, AssetType
from ytmaker.state import Replace, update_state


@dataclass(frozen=True)
class Job:
    """One sub-asset to make: which, where, and the fingerprint of its inputs."""

    index: int | str
    path: Path
    fingerprint: str

    @property
    def done(self) -> bool:
        return self.path.exists()


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()[
        :24
    ]


class AssetRecord:
    """Asset row and state-file entry around the making of one file."""

    def __init__(
        self,
        ctx: Context,
        project_id: int,
        kind: AssetType,
        index: int | None,
        path: Path,
        fingerprint: str | None = None,
    ) -> None:
        self.ctx, self.project_id, self.kind, self.index = ctx, project_id, kind, index
        self.path, self.fingerprint = path, fingerprint

    def made(self) -> bool:
        """Made before from the same inputs (its row says so and the file is there): a run
        killed before Prefect stored the task's result must not pay for it again."""
        if self.fingerprint is None or not self.path.exists():
            return False
        return any(
            a.type is self.kind
            and a.segment_index == self.index
            and a.status is AssetStatus.COMPLETED
            and a.fingerprint == self.fingerprint
            for a in self.ctx.repo.assets(self.project_id)
        )

    def __enter__(self) -> None:
        self.ctx.repo.save_asset(
            self.project_id, self.kind, self.index, status=AssetStatus.PENDING, path=str(self.path)
        )

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> None:
        retry_in = None if exc is None else self.ctx.attempt.retry_in(exc)
        if exc is not None and retry_in is not None:  # the row stays PENDING: not a failure
            announce_retry(self.ctx, self.project_id, "assets", exc, retry_in, self.key)
            return
        error = None if exc is None else error_info(exc, "assets")
        fingerprint = self.fingerprint if exc is None else None
        record_asset(
            self.ctx, self.project_id, self.kind, self.index, self.path, error, fingerprint
        )

    @property
    def key(self) -> str:
        return asset_key(self.kind, self.index)


def record_asset(
    ctx: Context,
    project_id: int,
    kind: AssetType,
    index: int | None,
    path: Path,
    error: dict[str, Any] | None,
    fingerprint: str | None = None,
) -> None:
    """The Asset row and the state file say the same thing about one file."""
    status = AssetStatus.COMPLETED if error is None else AssetStatus.FAILED
    ctx.repo.save_asset(
        project_id, kind, index, status=status, path=str(path), error=error, fingerprint=fingerprint
    )
    entry: dict[str, Any] = {"status": status.value.lower(), "path": str(path)}
    if error is not None:
        entry["error"] = error
    update_state(ctx.project_dir(project_id), {"assets": {asset_key(kind, index): Replace(entry)}})
