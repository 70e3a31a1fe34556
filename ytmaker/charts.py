"""The chart people would rather look at than read: time per stage for the last videos, and
the share of videos that came out, per day (matplotlib, drawn off screen)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ytmaker.files import atomic_write_bytes
from ytmaker.models import Project, Timing
from ytmaker.stages import STAGES
from ytmaker.stats import per_video_stage_seconds, success_by_day

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SIZE = (1200, 800)  # pixels
DPI = 100


def draw(projects: Iterable[Project], rows: Iterable[Timing], path: Path, last: int = 20) -> Path:
    """The chart as a PNG file at `path`."""
    atomic_write_bytes(path, png(projects, rows, last))
    return path


def png(projects: Iterable[Project], rows: Iterable[Timing], last: int = 20) -> bytes:
    """A PNG of SIZE: stacked seconds per stage for the last `last` videos above, the success
    rate per day below."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, height_ratios=(3, 2)
    )
    try:
        _stages(top, per_video_stage_seconds(rows, last))
        _success(bottom, success_by_day(projects))
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _stages(axes: Axes, seconds: dict[int, dict[str, float]]) -> None:
    labels = [str(pid) for pid in seconds]
    bottom = [0.0] * len(labels)
    for spec in STAGES:
        values = [seconds[pid].get(spec.name, 0.0) for pid in seconds]
        axes.bar(labels, values, bottom=bottom, label=spec.name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title(f"Time per stage, last {len(labels)} videos")
    axes.set_xlabel("project")
    axes.set_ylabel("seconds")
    axes.set_ylim(0, max(bottom, default=1.0) * 1.3 or 1.0)  # room for the legend
    axes.legend(loc="upper right", ncols=len(STAGES))


def _success(axes: Axes, rates: dict[str, float]) -> None:
    days = list(rates)
    axes.bar(days, [100 * r for r in rates.values()], color="#2a9d8f", width=0.5)
    axes.axhline(95, color="#e76f51", linestyle="--", label="target 95 %")
    axes.set_ylim(0, 105)
    axes.set_title("Videos completed of those finished, per day (Asia/Taipei)")
    axes.set_ylabel("%")
    axes.legend(loc="lower left")
