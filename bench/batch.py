"""Batch throughput: projects per hour for a batch of 6 short projects at concurrency 1 and 2.

    uv run python bench/batch.py [--projects 6] [--concurrency 1 2]

Everything offline (local providers), in a fresh temporary data dir with an ephemeral Prefect
API (started before timing). Projects are distinct, so nothing comes from Prefect's cache. Short
script rules (5 s minimum instead of 180 s) keep each video at about half a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from ytmaker.bootstrap import bootstrap

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    (
        "早餐店",
        "zh-TW",
        "台灣的早餐店\n蛋餅、蘿蔔糕和豆漿都是常見的早餐。清晨的街角總是飄著煎台的香氣。\n",
    ),
    (
        "Bubble tea",
        "en",
        "Bubble tea\nBubble tea was born in Taichung. People drink it with chewy tapioca pearls.\n",
    ),
    (
        "夜市",
        "zh-TW",
        "台灣的夜市\n夜市裡有雞排、蚵仔煎和珍珠奶茶。晚上散步吃小吃是很多人的習慣。\n",
    ),
    (
        "Night markets",
        "en",
        "Night markets\nTaiwan's night markets open at dusk. Stalls sell "
        "fried chicken and oyster omelettes.\n",
    ),
    ("老街", "zh-TW", "台灣的老街\n老街保留了紅磚建築和傳統小店。週末常常擠滿了觀光客。\n"),
    (
        "Hot springs",
        "en",
        "Hot springs\nBeitou has hot springs close to Taipei. Visitors soak "
        "in warm water after a long week.\n",
    ),
]


def environment(work: Path) -> None:
    (work / "data").mkdir(parents=True, exist_ok=True)  # DATABASE_URL names a file in it
    os.environ.update(
        {
            "YTMAKER_DATA_DIR": str(work / "data"),
            "DATABASE_URL": f"sqlite:///{work / 'data' / 'ytmaker.db'}",
            "PREFECT_HOME": str(work / "prefect"),
            "PREFECT_LOCAL_STORAGE_PATH": str(work / "prefect" / "results"),
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "240",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "ERROR",
            "YTMAKER_SEGMENT_MIN_SECONDS": "1",
            "YTMAKER_SEGMENT_MAX_SECONDS": "20",
            "YTMAKER_TOTAL_MIN_SECONDS": "5",
            "YTMAKER_TOTAL_MAX_SECONDS": "600",
            "YTMAKER_X264_PRESET": "ultrafast",
        }
    )
    for kind in ("SCRIPT_PROVIDER", "VOICE_PROVIDER", "IMAGE_PROVIDER", "AVATAR_PROVIDER"):
        os.environ[f"YTMAKER_{kind}"] = "local"
    os.environ["YTMAKER_PUBLISHER"] = "local"


def run(projects: int, concurrency: int) -> dict:
    from flows.batch import batch_processing
    from ytmaker import batch
    from ytmaker.config import reload_settings

    os.environ["YTMAKER_BATCH_CONCURRENCY"] = str(concurrency)
    ctx = bootstrap(reload_settings())
    plan = batch.BatchPlan(
        f"bench c={concurrency}",
        [
            batch.NewProject(f"{name} #{i}", text, language)
            for i, (name, language, text) in enumerate(
                (TEXTS * (projects // len(TEXTS) + 1))[:projects], start=1
            )
        ],
    )
    row = batch.create_batch(ctx.repo, plan)
    started = time.perf_counter()
    result = batch_processing(row.id)
    seconds = time.perf_counter() - started
    videos = 0.0
    for item in result["results"]:
        state = ctx.project_dir(item["project_id"]) / "project_state.json"
        videos += json.loads(state.read_text("utf-8")).get("video", {}).get("duration") or 0
    return {
        "concurrency": concurrency,
        "projects": projects,
        "completed": result["completed"],
        "failed": result["failed"],
        "seconds": seconds,
        "video_seconds": videos,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=6)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ytmaker-bench-batch-"))
    environment(work)
    sys.path.insert(0, str(ROOT))

    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        """Starts the ephemeral Prefect API, outside the timing."""

    warm_up()
    rows = [run(args.projects, c) for c in args.concurrency]
    base = rows[0]["seconds"]
    print(
        f"\nbatch of {args.projects} short projects, offline, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), data in {work}"
    )
    print(
        f"{'concurrency':>11} {'done':>5} {'failed':>6} {'wall s':>8} {'s/project':>10} "
        f"{'projects/h':>11} {'video s':>8} {'speed-up':>9}"
    )
    for r in rows:
        per_hour = r["completed"] / r["seconds"] * 3600
        print(
            f"{r['concurrency']:>11} {r['completed']:>5} {r['failed']:>6} {r['seconds']:>8.1f} "
            f"{r['seconds'] / r['projects']:>10.1f} {per_hour:>11.0f} {r['video_seconds']:>8.1f} "
            f"{base / r['seconds']:>8.2f}x"
        )
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "batch.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print_stats(out / "stats-chart.png")


def print_stats(chart: Path) -> None:
    """What `ytmaker stats --chart` says of these runs (the README's chart comes from here)."""
    from datetime import UTC, datetime, timedelta

    from ytmaker import charts, stats
    from ytmaker.config import get_settings

    repo = bootstrap(get_settings()).repo
    window = stats.Window(datetime.now(UTC) - timedelta(days=1))
    print("\n" + stats.text(stats.gather(repo, window)))
    charts.draw(*stats.load(repo, window), chart)
    print(f"chart: {chart}")


if __name__ == "__main__":
    main()
