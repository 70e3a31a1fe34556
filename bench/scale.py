"""Scale-out: a batch of 6 short projects on 1 and on 3 workers of `ytmaker-pool`.

    uv run python bench/scale.py [--projects 6] [--workers 1 3]

The production shape on this machine (tests/scale_stack.py): a Prefect server on the local
PostgreSQL, a private Redis for results, locks and slot leases, N workers each in its own PID
namespace, every project its own `video-generation` run (`batch-processing` spreads them with
`run_deployment`, YTMAKER_BATCH_CONCURRENCY = projects). Offline providers, short script rules.

Prints projects per hour, the CPU the workers used (seconds, and cores busy on average), and,
with more than one worker, the time from a worker's death (its whole PID namespace killed while
a run is in its asset stage) to that run running again on another worker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.batch import TEXTS  # noqa: E402
from tests.scale_stack import ScaleStack, Worker, scale_stack  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
OFFLINE = {
    **{
        f"YTMAKER_{kind}": "local"
        for kind in ("SCRIPT_PROVIDER", "VOICE_PROVIDER", "IMAGE_PROVIDER", "AVATAR_PROVIDER")
    },
    "YTMAKER_PUBLISHER": "local",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def cpu_seconds(worker: Worker) -> float:
    """CPU of the worker's namespace so far: each live process's own time plus that of the
    children it has reaped (flow-run processes, FFmpeg), which are no longer in the tree."""
    total = 0.0
    for pid in worker.descendants():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / TICKS  # utime stime cutime cstime
    return total


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine so far (all sessions on it, not only ours)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS


def _batch(stack: ScaleStack, projects: int) -> int:
    from ytmaker import batch
    from ytmaker.db import Repository

    repo = Repository(stack.database_url)
    plan = batch.BatchPlan(
        "scale", [batch.NewProject(n, t, lang) for n, lang, t in (TEXTS * 2)[:projects]]
    )
    return batch.create_batch(repo, plan).id


def _wait(client: Any, run_id: Any, timeout: float = 3600) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        run = client.read_flow_run(run_id)
        if run.state and run.state.is_final() and not run.state.is_crashed():
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"{run.name} still {run.state}")
        time.sleep(1)


def throughput(workers: int, projects: int) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with tempfile.TemporaryDirectory(prefix="ytmaker-bench-scale-") as tmp:
        extra = {**OFFLINE, "YTMAKER_BATCH_CONCURRENCY": str(projects)}
        with (
            scale_stack(Path(tmp), workers, extra) as stack,
            temporary_settings({PREFECT_API_URL: stack.api_url}),
            get_client(sync_client=True) as client,
        ):
            batch_id = _batch(stack, projects)
            cpu_before = [cpu_seconds(w) for w in stack.workers]
            machine_before = machine_busy_seconds()
            started = time.monotonic()
            run = run_deployment(
                "batch-processing/batch-processing", parameters={"batch_id": batch_id}, timeout=0
            )
            done = _wait(client, run.id)
            wall = time.monotonic() - started
            per_worker = [
                round(cpu_seconds(w) - b, 1) for w, b in zip(stack.workers, cpu_before, strict=True)
            ]
            cpu = sum(per_worker)
            machine = machine_busy_seconds() - machine_before
            row = {
                "workers": workers,
                "projects": projects,
                "status": done.state.type.value,
                "wall_s": round(wall, 1),
                "projects_per_hour": round(projects / wall * 3600, 1),
                "worker_cpu_s": round(cpu, 1),
                "cores_busy": round(cpu / wall, 2),
                "cpu_s_per_worker": per_worker,
                "machine_busy_s": round(machine, 1),  # every process on the machine (shared)
            }
            if workers > 1:
                row["death_to_running_s"] = death_to_running(stack, client)
            return row


def death_to_running(stack: ScaleStack, client: Any) -> float:
    """Kill the worker running a project mid-assets; seconds until the run runs again."""
    from prefect.deployments import run_deployment

    from ytmaker.db import Repository

    repo = Repository(stack.database_url)
    name, lang, text = TEXTS[0]
    project = repo.create_project(name=f"{name} (kill)", content=text * 3, language=lang)
    run = run_deployment(
        "video-generation/video-generation", parameters={"project_id": project.id}, timeout=0
    )
    images = stack.data_dir / "projects" / str(project.id) / "images"
    while not list(images.glob("*.png")):
        time.sleep(0.2)
    victim = None
    while victim is None:
        victim = next((w for w in stack.workers if str(run.id) in w.flow_runs()), None)
    victim.kill()
    killed = time.monotonic()
    while True:
        current = client.read_flow_run(run.id)
        if current.run_count >= 2 and current.state and current.state.is_running():
            elapsed = time.monotonic() - killed
            _wait(client, run.id)
            return round(elapsed, 1)
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=6)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()
    rows = [throughput(n, args.projects) for n in args.workers]
    print(f"\nScale-out: a batch of {args.projects} short projects ({os.cpu_count()} cores)\n")
    print("| workers | projects/hour | wall s | worker CPU s | cores busy | death -> running s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['workers']} | {r['projects_per_hour']} | {r['wall_s']} | {r['worker_cpu_s']} "
            f"| {r['cores_busy']} | {r.get('death_to_running_s', '-')} |"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
