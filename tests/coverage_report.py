"""Coverage per package and in total, from the combined data of every process `make test`
measured (pytest, CLI subprocesses, workers' flow runs); fails below `fail_under` in pyproject.

    uv run coverage combine && uv run python -m tests.coverage_report
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import coverage

PACKAGES = ("ytmaker", "ytmaker_cli", "tasks", "flows", "deployments")
ROOT = Path(__file__).resolve().parent.parent
LEAST_COVERED = 10


def file_summaries(cov: coverage.Coverage) -> dict[str, tuple[int, int]]:
    """(statements, covered) per file relative to the repository, unimported files included."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(out))
        files = json.loads(out.read_text())["files"]
    return {
        name: (info["summary"]["num_statements"], info["summary"]["covered_lines"])
        for name, info in files.items()
    }


def table(rows: list[tuple[str, int, int]]) -> str:
    lines = [f"{'package':<14}{'statements':>12}{'missed':>8}{'cover':>8}"]
    for name, statements, covered in rows:
        percent = 100.0 * covered / statements if statements else 100.0
        lines.append(f"{name:<14}{statements:>12}{statements - covered:>8}{percent:>7.1f}%")
    return "\n".join(lines)


def main() -> int:
    cov = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
    cov.load()
    files = file_summaries(cov)
    per_package: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, (statements, covered) in files.items():
        package = Path(name).parts[0]
        per_package[package][0] += statements
        per_package[package][1] += covered
    rows = [(p, *per_package[p]) for p in PACKAGES]
    statements = sum(s for _, s, _ in rows)
    covered = sum(c for _, _, c in rows)
    print(table([*rows, ("total", statements, covered)]))
    least = sorted(files.items(), key=lambda item: item[1][1] - item[1][0])[:LEAST_COVERED]
    print("\nmost missed lines: " + ", ".join(f"{n} ({s - c})" for n, (s, c) in least))
    total = 100.0 * covered / statements if statements else 0.0
    threshold = float(cov.get_option("report:fail_under") or 0)
    if round(total, 1) < threshold:
        print(f"coverage {total:.1f} % is below the required {threshold:g} %", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
