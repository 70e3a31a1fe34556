"""The five stages, in order: the one list that bookkeeping, the command line and the Prefect
UI's report read (names, labels, statuses, messages and the overall percentage)."""

from __future__ import annotations

from dataclasses import dataclass

from ytmaker.models import ProjectStatus
from ytmaker.progress import Stage


@dataclass(frozen=True)
class StageSpec:
    number: int
    name: str
    title: str
    short: str
    stage: Stage
    running: ProjectStatus
    done: ProjectStatus
    start_message: str
    done_message: str

    @property
    def label(self) -> str:
        """The stage's bar and table label, e.g. `2 素材 assets`."""
        return f"{self.number} {self.short} {self.name}"


STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        1,
        "script",
        "腳本生成",
        "腳本",
        Stage.SCRIPT,
        ProjectStatus.SCRIPT_GENERATING,
        ProjectStatus.SCRIPT_GENERATED,
        "開始生成腳本...",
        "腳本生成完成",
    ),
    StageSpec(
        2,
        "assets",
        "素材生成",
        "素材",
        Stage.ASSETS,
        ProjectStatus.ASSETS_GENERATING,
        ProjectStatus.ASSETS_GENERATED,
        "開始生成素材（語音、圖片、虛擬主播）...",
        "素材生成完成",
    ),
    StageSpec(
        3,
        "render",
        "影片合成",
        "合成",
        Stage.RENDER,
        ProjectStatus.RENDERING,
        ProjectStatus.RENDERED,
        "開始合成影片...",
        "影片合成完成",
    ),
    StageSpec(
        4,
        "thumbnail",
        "縮圖製作",
        "縮圖",
        Stage.THUMBNAIL,
        ProjectStatus.THUMBNAIL_GENERATING,
        ProjectStatus.THUMBNAIL_GENERATED,
        "開始製作縮圖...",
        "縮圖製作完成",
    ),
    StageSpec(
        5,
        "upload",
        "影片上傳",
        "上傳",
        Stage.UPLOAD,
        ProjectStatus.UPLOADING,
        ProjectStatus.COMPLETED,
        "開始上傳影片...",
        "影片上傳完成",
    ),
)
BY_NAME = {spec.name: spec for spec in STAGES}
BY_PROGRESS = {spec.stage: spec for spec in STAGES}


def label(stage: str, *, of_total: bool = False) -> str:
    """A progress stage (`asset_generation`) as people read it: `2 素材 assets`, or
    `2/5 素材 assets` with `of_total`; anything else as it is."""
    spec = BY_PROGRESS.get(stage)  # type: ignore[call-overload]
    if spec is None:
        return stage
    number = f"{spec.number}/{len(STAGES)}" if of_total else str(spec.number)
    return f"{number} {spec.short} {spec.name}"


def overall_percent(stage: str, progress: float) -> float:
    """0-100 over the five stages, each an equal share."""
    spec = BY_PROGRESS.get(stage)  # type: ignore[call-overload]
    if spec is None:
        return float(progress)
    return ((spec.number - 1) * 100 + float(progress)) / len(STAGES)
