"""Stage 3: the pieces, voices and pictures made into one video as long as its narration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ytmaker import formats
from ytmaker.bookkeeping import run_stage
from ytmaker.context import Context
from ytmaker.errors import MediaError
from ytmaker.layout import clip_path, load_script, piece_paths, visual_config
from ytmaker.media.pieces import check_final, check_voice
from ytmaker.models import AssetType
from ytmaker.pipeline.records import AssetRecord
from ytmaker.state import update_state

DURATION_TOLERANCE = 0.02


def run(ctx: Context, project_id: int) -> dict[str, Any]:
    from ytmaker.media.render import RenderPiece, RenderSettings, render_video

    with run_stage(ctx, project_id, "render") as report:
        script = load_script(ctx, project_id)
        paths = piece_paths(ctx, project_id, script)
        frame = formats.frame_of(ctx.repo.get_project(project_id).format)
        pieces = [
            RenderPiece(
                text=piece.text,
                audio=paths["audio"][i],
                duration=piece.spoken_duration,
                image=image,
                clip=_clip(image),
            )
            for i, piece in enumerate(script.pieces())
            for image in [paths["images"].get(getattr(piece, "index", -1))]
        ]
        pieces[0].video, pieces[-1].video = paths["avatar"]["intro"], paths["avatar"]["outro"]
        for number, piece in enumerate(pieces):
            check_voice(piece.audio, piece.duration, number)
        visual = visual_config(ctx, project_id)
        with AssetRecord(ctx, project_id, AssetType.FINAL_VIDEO, None, paths["video"]):
            info = render_video(
                pieces,
                paths["video"],
                paths["work"],
                RenderSettings(
                    width=frame.width, height=frame.height, preset=ctx.settings.x264_preset
                ),
                on_progress=lambda f: report(f * 99, f"影片合成中 {f:.0%}"),
                language=script.language,
                visual=visual,
            )
            check_duration(info.duration, script.realised_duration())
            if visual.music.path is None:  # music would fill a silent piece: its voice was checked
                check_final(paths["video"], [piece.duration for piece in pieces])
        result = info.to_dict()
        update_state(ctx.project_dir(project_id), {"video": result})
    return result


def _clip(image: Path | None) -> Path | None:
    """The segment's clip if its maker left one beside the picture."""
    if image is None:
        return None
    clip = clip_path(image)
    return clip if clip.is_file() else None


def check_duration(actual: float, expected: float) -> None:
    """The video must be as long as the narration it carries (within 2%)."""
    if expected <= 0 or abs(actual - expected) / expected > DURATION_TOLERANCE:
        raise MediaError(
            f"The rendered video lasts {actual:.2f} s but the script needs {expected:.2f} s "
            f"(more than {DURATION_TOLERANCE:.0%} apart).",
            code="RENDER_DURATION_MISMATCH",
            duration=actual,
            expected=expected,
        )
