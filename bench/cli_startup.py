"""How long the `ytmaker` command takes before it does anything: `--help`, `status` of the
local database (empty, then with projects), against Python's own start and `import prefect`
in the same run. Each command runs as a user runs it (a new process), interleaved, N times;
medians.

    uv run python -m bench.cli_startup [--runs 7] [--checkout /path/to/another/checkout]

`--checkout` times the same commands from another tree with its own `.venv` (e.g. the branch
before a change) in the same run, so the ratio does not depend on how busy the machine is.
Targets: `--help` under 0.5 s and `status` under 1 s on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "python -c 'import prefect'": ["-c", "import prefect"],
    "ytmaker --help": ["-m", "ytmaker_cli", "--help"],
    "ytmaker status (empty)": ["-m", "ytmaker_cli", "status"],
    "ytmaker status (3 projects)": ["-m", "ytmaker_cli", "status"],
    "ytmaker status 1": ["-m", "ytmaker_cli", "status", "1"],
}


def _seconds(python: Path, args: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(python), *args], env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {cwd}:\n{done.stderr[-2000:]}")
    return elapsed


def _environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "YTMAKER_"))}
    env.pop("DATABASE_URL", None)
    return {**env, "YTMAKER_DATA_DIR": str(data_dir)}


def _with_projects(python: Path, checkout: Path, env: dict[str, str]) -> None:
    script = (
        "from ytmaker.bootstrap import bootstrap\n"
        "repo = bootstrap().repo\n"
        "for i in range(3): repo.create_project(name=f'p{i}', content='夜市', language='zh-TW')\n"
    )
    subprocess.run([str(python), "-c", script], env=env, cwd=checkout, check=True)


def measure(checkouts: dict[str, Path], runs: int) -> dict[tuple[str, str], list[float]]:
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="ytmaker-cli-bench-") as tmp:
        envs = {}
        for name, checkout in checkouts.items():
            empty, full = Path(tmp) / name / "empty", Path(tmp) / name / "full"
            envs[name] = (_environment(empty), _environment(full))
            _with_projects(checkout / ".venv" / "bin" / "python", checkout, envs[name][1])
        for _ in range(runs):  # interleaved: a busy moment costs every command alike
            for name, checkout in checkouts.items():
                python = checkout / ".venv" / "bin" / "python"
                for label, args in COMMANDS.items():
                    env = envs[name][1 if "projects" in label or label.endswith(" 1") else 0]
                    times.setdefault((name, label), []).append(
                        _seconds(python, args, env, checkout)
                    )
    return times


def report(times: dict[tuple[str, str], list[float]], names: list[str]) -> None:
    medians = {key: statistics.median(values) for key, values in times.items()}
    header = "| command | " + " | ".join(f"{n} median s | {n} / bare python" for n in names)
    if len(names) == 2:
        header += f" | {names[0]} / {names[1]}"
    print(header + " |")
    print("|---" * (1 + 2 * len(names) + (len(names) == 2)) + "|")
    for label in COMMANDS:
        cells = []
        for name in names:
            bare = medians[(name, "python -c pass")]
            cells += [f"{medians[(name, label)]:.2f}", f"{medians[(name, label)] / bare:.1f}x"]
        if len(names) == 2:
            cells.append(f"{medians[(names[0], label)] / medians[(names[1], label)]:.2f}x")
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--checkout", type=Path, help="another tree to time in the same run")
    args = parser.parse_args()
    checkouts = {"this": ROOT}
    if args.checkout:
        checkouts["other"] = args.checkout.resolve()
    times = measure(checkouts, args.runs)
    report(times, list(checkouts))


if __name__ == "__main__":
    main()
