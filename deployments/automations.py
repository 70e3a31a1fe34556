"""Create the automations in the given YAML files; one of the same name whose trigger differs
from its file (made by an older version) is replaced."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import yaml
from prefect.client.orchestration import get_client


async def missing(path: Path) -> bool:
    """True when the file's automation must be created: none of its name, or an older one
    (whose `expect` events differ from the file's), which is deleted here."""
    wanted = yaml.safe_load(path.read_text(encoding="utf-8"))
    async with get_client() as client:
        found = await client.read_automations_by_name(wanted["name"])
        expect = set(wanted["trigger"].get("expect") or [])
        stale = [a for a in found if set(getattr(a.trigger, "expect", None) or []) != expect]
        for automation in stale:
            await client.delete_automation(automation.id)
        return len(stale) == len(found)


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        if asyncio.run(missing(path)):
            subprocess.run(
                [sys.executable, "-m", "prefect", "automation", "create", "--from-file", str(path)],
                check=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
