"""Create the automations in the given YAML files; one of the same name whose trigger differs
from its file (made by an older version) is replaced.

A `run-deployment` action may name its deployment (`deployment: flow/deployment`) instead of
giving its id; the id is looked up here.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from prefect.client.orchestration import get_client


async def missing(wanted: dict[str, Any]) -> bool:
    """True when the spec's automation must be created: none of its name, or an older one
    (whose `expect` events differ from the spec's), which is deleted here."""
    async with get_client() as client:
        found = await client.read_automations_by_name(wanted["name"])
        expect = set(wanted["trigger"].get("expect") or [])
        stale = [a for a in found if set(getattr(a.trigger, "expect", None) or []) != expect]
        for automation in stale:
            await client.delete_automation(automation.id)
        return len(stale) == len(found)


async def resolved(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with each `deployment: name` of its actions replaced by `deployment_id`."""
    async with get_client() as client:
        for action in spec.get("actions", []):
            name = action.pop("deployment", None)
            if name is not None:
                action["deployment_id"] = str((await client.read_deployment_by_name(name)).id)
    return spec


def create(spec: dict[str, Any]) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as handle:
        yaml.safe_dump(spec, handle, allow_unicode=True)
        handle.flush()
        subprocess.run(
            [sys.executable, "-m", "prefect", "automation", "create", "--from-file", handle.name],
            check=True,
        )


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if asyncio.run(missing(spec)):
            create(asyncio.run(resolved(spec)))


if __name__ == "__main__":
    main(sys.argv[1:])
