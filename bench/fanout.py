"""Image fan-out: 10 images from a local Stability stand-in that takes 1 s per image, made
through the real asset tasks (Prefect map + the shared concurrency limit) at concurrency 1, 4, 8.

    uv run python bench/fanout.py [--images 10] [--seconds 1] [--concurrency 1 4 8]
                                  [--prefect-db sqlite postgresql]

Prints wall time and the ratio to the ideal ceil(images / concurrency) x seconds, once per
database behind the Prefect server: SQLite (the local default) and PostgreSQL (production;
measured when YTMAKER_BENCH_PG_URL, default postgres@127.0.0.1:5432, answers). Each runs in its
own process with its own ephemeral Prefect server. Target: <= 1.3x ideal at concurrency 4.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ytmaker.bootstrap import bootstrap

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _environment(data_dir: Path) -> None:
    os.environ.update(
        {
            "YTMAKER_DATA_DIR": str(data_dir),
            "YTMAKER_SEGMENT_MIN_SECONDS": "1",
            "YTMAKER_TOTAL_MIN_SECONDS": "5",
            "PREFECT_LOGGING_LEVEL": "ERROR",
        }
    )
    from tasks import prefect_env

    prefect_env.apply(data_dir)


def _project(images: int) -> int:
    from ytmaker.pipeline.script import run as generate_script

    ctx = bootstrap()
    text = "夜市\n" + "\n".join(
        f"第{i}個攤位賣的是非常好吃的小吃，大家都來排隊。" for i in range(images)
    )
    project = ctx.repo.create_project(name="fanout", content=text, language="zh-TW")
    plan = generate_script(ctx, project.id)
    assert len(plan["segments"]) == images, plan
    return project.id


def run(images: int, seconds: float, levels: list[int]) -> list[tuple[int, float, float]]:
    from prefect import flow

    from tasks.assets import Window, generate_image
    from tasks.limits import ensure_limits
    from tests.servers.stability import FakeStability
    from ytmaker.config import reload_settings
    from ytmaker.pipeline.assets import image_jobs

    @flow(name="bench-fanout")
    def fan_out(project_id: int) -> float:
        ctx = bootstrap()
        ensure_limits(ctx.settings)
        started = time.monotonic()
        window = Window(
            generate_image,
            ctx,
            project_id,
            image_jobs(ctx, project_id),
            ctx.settings.image_concurrency,
        )
        for _job, future in window.finished():
            future.result()
        return time.monotonic() - started

    rows = []
    with FakeStability() as server:
        server.slow(seconds, path_contains="/v2beta/stable-image")
        os.environ.update({"STABILITY_API_KEY": server.api_key, "STABILITY_BASE_URL": server.url})
        for level in [1, *levels]:  # the first, untimed run warms Prefect up
            os.environ["YTMAKER_IMAGE_CONCURRENCY"] = str(level)
            reload_settings()
            wall = fan_out(_project(images))
            rows.append((level, wall, wall / (math.ceil(images / level) * seconds)))
    return rows[1:]


PG_ADMIN = os.environ.get("YTMAKER_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _child(args: argparse.Namespace) -> None:
    """One backend, in this process: print the rows as JSON."""
    with tempfile.TemporaryDirectory(prefix="ytmaker-fanout-") as tmp:
        _environment(Path(tmp))
        rows = run(args.images, args.seconds, args.concurrency)
    print("ROWS " + json.dumps(rows))


def _measure(backend: str, args: argparse.Namespace) -> list | str:
    """Rows for one Prefect database, or why it was skipped."""
    env = dict(os.environ)
    database = None
    if backend == "postgresql":
        database = f"ytmaker_bench_{uuid.uuid4().hex[:8]}"
        if not _pg(f'CREATE DATABASE "{database}"'):
            return f"skipped: PostgreSQL not reachable at {PG_ADMIN}"
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"{base}/{database}"
    command = [sys.executable, __file__, "--child", "--images", str(args.images)]
    command += ["--seconds", str(args.seconds), "--concurrency", *map(str, args.concurrency)]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    finally:
        if database:
            _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    for line in done.stdout.splitlines():
        if line.startswith("ROWS "):
            return json.loads(line[5:])
    return f"failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"


def _pg(statement: str) -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(
            PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(statement))
        engine.dispose()
        return True
    except sqlalchemy.exc.SQLAlchemyError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--prefect-db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)
    print(f"\n{args.images} images, {args.seconds:g} s each (local Stability stand-in)\n")
    print("| Prefect server database | concurrency | wall s | ideal s | ratio to ideal |")
    print("|---|---:|---:|---:|---:|")
    for backend in args.prefect_db:
        rows = _measure(backend, args)
        if isinstance(rows, str):
            print(f"| {backend} | - | - | - | {rows} |")
            continue
        for level, wall, ratio in rows:
            ideal = math.ceil(args.images / level) * args.seconds
            print(f"| {backend} | {level} | {wall:.2f} | {ideal:.0f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
