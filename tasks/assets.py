"""Stage 2 as Prefect tasks: a voice per piece and a picture per segment, mapped at once, then
the avatar clips; each sub-asset cached and retried on its own."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from prefect import task

from tasks.fanout import Tally, Window, finished, submit
from tasks.limits import image_slot
from tasks.policy import RESUMABLE, task_context
from ytmaker.bookkeeping import run_stage
from ytmaker.bootstrap import bootstrap
from ytmaker.pipeline import assets


@task(name="synthesize-voice", task_run_name="voice-{piece_index}", **RESUMABLE)
def synthesize_voice(project_id: int, piece_index: int, fingerprint: str) -> float:
    return assets.synthesize_piece(task_context(), project_id, piece_index, fingerprint)


@task(name="generate-image", task_run_name="image-{segment_index}", **RESUMABLE)
def generate_image(project_id: int, segment_index: int, fingerprint: str) -> str:
    """The slot is held only while the provider draws, not while the picture is stored."""
    ctx = task_context()
    waiting = partial(assets.say_waiting_for_slot, ctx, project_id, segment_index)
    slot = partial(
        image_slot,
        assets.image_provider_name(ctx),
        ctx.settings.image_concurrency,
        on_wait=waiting,
    )
    return assets.make_image(ctx, project_id, segment_index, gate=slot, fingerprint=fingerprint)


@task(name="generate-avatar", task_run_name="avatar-{role}", **RESUMABLE)
def generate_avatar(project_id: int, role: str, fingerprint: str) -> str:
    return assets.make_avatar(task_context(), project_id, role, fingerprint)


def generate_assets(project_id: int, plan: dict) -> dict:
    """Stage 2: voices and images mapped concurrently, then the avatar clips.

    Called from the flow, not a task itself: tasks nested in a task commit their cached results
    only when the outer task ends, so a crash mid-stage would lose every finished asset.

    Finished sub-assets come back from Prefect's cache (same fingerprint); one whose file is
    gone is made again.
    """
    ctx = bootstrap()

    def cached(kind: str) -> Callable[[int | str], None]:
        """Counts each `kind` Prefect gives back from its cache (a `cached` timings row)."""
        return partial(assets.count_cached, ctx, project_id, kind)

    with run_stage(ctx, project_id, "assets") as report:
        voice_jobs = assets.voice_jobs(ctx, project_id)
        image_jobs = assets.image_jobs(ctx, project_id)
        progress = Tally(report, len(voice_jobs) + len(image_jobs) + 2)
        voices = submit(synthesize_voice, ctx, project_id, voice_jobs)
        images = Window(generate_image, ctx, project_id, image_jobs, ctx.settings.image_concurrency)
        progress.wait(finished(voice_jobs, voices), cached=cached("voice"))
        assets.record_durations(ctx, project_id, [future.result() for future in voices])
        avatar_jobs = assets.avatar_jobs(ctx, project_id)
        avatars = submit(generate_avatar, ctx, project_id, avatar_jobs)
        failures = progress.wait(
            images.finished(), tolerate=assets.is_tolerable, cached=cached("image")
        )
        progress.wait(finished(avatar_jobs, avatars), cached=cached("avatar"))
        outcome = assets.settle_images(ctx, project_id, failures)
    return outcome
