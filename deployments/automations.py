"""Create the automations in the given YAML files unless one of the same name exists."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import yaml
from prefect.client.orchestration import get_client


async def missing(path: Path) -> bool:
    name = yaml.safe_load(path.read_text(encoding="utf-8"))["name"]
    async with get_client() as client:
        return not await client.read_automations_by_name(name)


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        if asyncio.run(missing(path)):
            subprocess.run(
                [sys.executable, "-m", "prefect", "automation", "create", "--from-file", str(path)],
                check=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
