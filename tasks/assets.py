from __future__ import annotations

from prefect import task
from prefect.futures import PrefectFuture, as_completed

from tasks.policy import RETRY_OPTIONS
from ytmaker import pipeline
from ytmaker.context import Context
from ytmaker.stages import Report, run_stage


@task(name="synthesize-voice", task_run_name="voice-{piece_index}", **RETRY_OPTIONS)
def synthesize_voice(project_id: int, piece_index: int) -> float:
    return pipeline.synthesize_piece(Context.create(), project_id, piece_index)


@task(name="generate-image", task_run_name="image-{segment_index}", **RETRY_OPTIONS)
def generate_image(project_id: int, segment_index: int) -> str:
    return pipeline.make_image(Context.create(), project_id, segment_index)


@task(name="generate-avatar", task_run_name="avatar-{role}", **RETRY_OPTIONS)
def generate_avatar(project_id: int, role: str) -> str:
    return pipeline.make_avatar(Context.create(), project_id, role)


@task(name="generate-assets")
def generate_assets(project_id: int, plan: dict) -> dict:
    """Stage 2: voices and images mapped concurrently, then the avatar clips."""
    ctx = Context.create()
    with run_stage(ctx, project_id, "assets") as report:
        total = plan["pieces"] + len(plan["segments"]) + 2
        voices = synthesize_voice.map(project_id, range(plan["pieces"]))
        images = generate_image.map(project_id, plan["segments"])
        done = _wait(voices, report, 0, total)
        seconds = [future.result() for future in voices]
        pipeline.record_durations(ctx, project_id, seconds)
        avatars = generate_avatar.map(project_id, ["intro", "outro"])
        _wait([*images, *avatars], report, done, total)
        return {
            "audio_seconds": sum(seconds),
            "images": [f.result() for f in images],
            "avatars": [f.result() for f in avatars],
        }


def _wait(futures: list[PrefectFuture], report: Report, done: int, total: int) -> int:
    """Report progress as each sub-asset finishes; the first failure stops the stage."""
    for future in as_completed(futures):
        future.result()
        done += 1
        report(done / total * 99, f"素材 {done}/{total} 完成")
    return done
