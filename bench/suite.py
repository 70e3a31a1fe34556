"""Where a test run's time goes: CPU seconds per kind of process and per test, from /proc.

    uv run python -m bench.suite [--top 25] [-- make test PYTEST_ARGS=...]

Runs the command (default `make test`) while sampling every process's CPU time every 0.5 s;
each process's CPU is given to the test its pytest-xdist worker (its ancestor) was running at
that moment, from a timeline the plugin bench/suite_timeline.py writes. Prints the wall time,
the CPU seconds and cores busy, a table per kind of process (FFmpeg, flow runs, servers...)
and the tests and modules that cost the most CPU. Only the command's own process tree counts;
a process that ends between two samples loses at most 0.5 s of its CPU, and one left behind by
a killed parent is not counted, so the totals are a little under `time`'s.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
# (kind, what its command line contains), first match wins
KINDS = (
    ("FFmpeg", "ffmpeg"),
    ("flow runs (worker subprocesses)", "prefect.runner._workspace_supervisor"),
    ("Prefect servers of stacks", "server start"),
    ("in-process Prefect APIs", "uvicorn"),
    ("Prefect workers", "worker start"),
    ("ytmaker commands", "ytmaker_cli"),
    ("pytest and its xdist workers", "pytest"),
    ("pytest and its xdist workers", "import sys;exec(eval(sys.stdin.readline()))"),
    ("prefect commands (deploy, migrate...)", "prefect"),
    ("lint and types", "mypy"),
    ("lint and types", "ruff"),
    ("lint and types", "lint-imports"),
)


def kind_of(command: str) -> str:
    return next((kind for kind, text in KINDS if text in command), "other")


def read_procs() -> dict[int, tuple[int, float, int]]:
    """pid → (parent pid, CPU seconds, start tick) of every process now."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        procs[int(entry)] = (int(fields[1]), cpu, int(fields[19]))
    return procs


def command_of(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode("utf-8", "replace")
        )
    except OSError:
        return ""


class Sample(NamedTuple):
    moment: float
    key: tuple[int, int]  # pid, start tick: a pid used again is another process
    used: float  # CPU seconds since the last sample
    chain: list[int]  # the process and its ancestors


class Sampler(threading.Thread):
    """CPU used between samples, per process, with the process's ancestors at that moment."""

    def __init__(self, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.every, self.done = every, threading.Event()
        self.samples: list[Sample] = []
        self.commands: dict[tuple[int, int], str] = {}
        self._seen: dict[tuple[int, int], float] = {}
        self.root = 0  # only the command's process tree counts (other work on the machine not)

    def run(self) -> None:
        me = os.getpid()
        self._seen = {(pid, started): cpu for pid, (_, cpu, started) in read_procs().items()}
        while not self.done.wait(self.every):
            now, procs = time.time(), read_procs()
            for pid, (_, cpu, started) in procs.items():
                key = (pid, started)
                used = cpu - self._seen.get(key, 0.0)
                self._seen[key] = cpu
                if used <= 0 or pid == me:
                    continue
                chain = _chain(pid, procs)
                if self.root not in chain:
                    continue
                if key not in self.commands:
                    self.commands[key] = command_of(pid)
                self.samples.append(Sample(now, key, used, chain))


def _chain(pid: int, procs: dict[int, tuple[int, float, int]]) -> list[int]:
    chain: list[int] = []
    while pid in procs and pid > 1 and len(chain) < 40:
        chain.append(pid)
        pid = procs[pid][0]
    return chain


def load_timeline(path: Path) -> dict[int, list[tuple[float, float, str]]]:
    tests: dict[int, list[tuple[float, float, str]]] = collections.defaultdict(list)
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            pid, start, end, node = line.split("\t")
            tests[int(pid)].append((float(start), float(end), node))
    for runs in tests.values():
        runs.sort()
    return tests


def test_at(runs: list[tuple[float, float, str]], moment: float) -> str:
    i = bisect.bisect_right([start for start, _, _ in runs], moment) - 1
    if i >= 0 and runs[i][0] <= moment <= runs[i][1] + 1:
        return runs[i][2]
    return "(start-up, collection, between tests)"


def table(title: str, rows: dict[str, float], total: float, top: int) -> None:
    print(f"\n| {title} | CPU s | share |\n|---|---|---|")
    for name, seconds in sorted(rows.items(), key=lambda row: -row[1])[:top]:
        print(f"| {name} | {seconds:.0f} | {seconds / total:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("command", nargs="*", default=["make", "test"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        timeline = Path(tmp) / "timeline.tsv"
        env = {
            **os.environ,
            "BENCH_SUITE_TIMELINE": str(timeline),
            "PYTEST_ADDOPTS": f"{os.environ.get('PYTEST_ADDOPTS', '')} -p bench.suite_timeline",
        }
        sampler = Sampler()
        sampler.start()
        started = time.monotonic()
        with subprocess.Popen(args.command, cwd=ROOT, env=env) as command:
            sampler.root = command.pid
            code = command.wait()
        wall = time.monotonic() - started
        sampler.done.set()
        sampler.join()
        report(sampler, load_timeline(timeline), wall, args.top)
    sys.exit(code)


def report(sampler: Sampler, tests: dict[int, list], wall: float, top: int) -> None:
    kinds: dict[str, float] = collections.defaultdict(float)
    per_test: dict[str, float] = collections.defaultdict(float)
    per_module: dict[str, float] = collections.defaultdict(float)
    for sample in sampler.samples:
        kinds[kind_of(sampler.commands[sample.key])] += sample.used
        worker = next((pid for pid in sample.chain if pid in tests), None)
        node = test_at(tests[worker], sample.moment) if worker else "(outside the tests)"
        per_test[node] += sample.used
        per_module[node.split("::")[0]] += sample.used
    total = sum(kinds.values())
    print(
        f"\nwall {wall / 60:.1f} min, CPU {total:.0f} s, {total / wall:.2f} cores busy on average"
    )
    table("kind of process", kinds, total, top)
    table("test module", per_module, total, top)
    table("test (its fixtures' set-up included)", per_test, total, top)


if __name__ == "__main__":
    main()
