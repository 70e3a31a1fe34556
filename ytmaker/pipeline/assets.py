"""Stage 2 as plain functions: voice every piece, picture every segment, film the presenter.

Each sub-asset has a fingerprint of everything it depends on (text, provider, output path), so a
new run can tell finished work from work to redo and never pays twice for the same asset.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ytmaker import formats, own_media, quota, timings
from ytmaker.batch import batch_projects
from ytmaker.bookkeeping import error_info
from ytmaker.context import Context
from ytmaker.credits import CREDIT_SUFFIX, footage_keys
from ytmaker.errors import ProviderError
from ytmaker.layout import clip_path, load_script, piece_paths
from ytmaker.media.probe import wav_duration
from ytmaker.models import AssetType
from ytmaker.pipeline.records import AssetRecord, Job, fingerprint, record_asset
from ytmaker.progress import Stage
from ytmaker.providers.base import Gate, Service, Voice, gated, variant_of
from ytmaker.review import replaced_images
from ytmaker.script import Script
from ytmaker.state import update_state
from ytmaker.voices import stored_voice

log = logging.getLogger(__name__)


def project_voice(ctx: Context, project_id: int) -> Voice:
    """The voice of this project: its own Edge voice, if it chose one, else the run's."""
    return ctx.providers.voice(stored_voice(ctx.repo.get_project(project_id).voice))


def voice_jobs(ctx: Context, project_id: int) -> list[Job]:
    """A piece depends on its text, language and voice: the provider, and its model, voice,
    rate and pitch when they differ from the defaults (another voice re-voices the piece)."""
    home = _home(ctx, project_id)
    script = load_script(ctx, project_id)
    voice = project_voice(ctx, project_id)
    variant = variant_of(voice)
    paths = piece_paths(ctx, project_id, script)["audio"]
    return [
        Job(
            i,
            paths[i],
            fingerprint(
                piece.text,
                script.language,
                voice.name,
                _where(home, paths[i]),
                *([variant] if variant else []),
            ),
        )
        for i, piece in enumerate(script.pieces())
    ]


def image_provider_name(ctx: Context) -> str:
    return ctx.providers.images().name


def image_jobs(ctx: Context, project_id: int) -> list[Job]:
    home = _home(ctx, project_id)
    script = load_script(ctx, project_id)
    provider = image_provider_name(ctx)
    paths = piece_paths(ctx, project_id, script)["images"]
    shape = formats.image_shape(ctx.repo.get_project(project_id).format)
    media = (ctx.repo.get_project(project_id).visual_config or {}).get("media")
    return [
        Job(
            s.index,
            paths[s.index],
            fingerprint(
                s.image_description,
                seed_for(project_id, s.index),
                provider,
                _where(home, paths[s.index]),
                *shape,
                *([s.search_terms] if provider == "pexels" else []),
                *_own_identity(own_file(media, script, s.index)),
            ),
        )
        for s in script.segments
    ]


def _own_identity(own: Path | None) -> list[Any]:
    """An own file's name, size and time: another file (or the file edited) makes it again."""
    if own is None:
        return []
    try:
        stat = own.stat()
    except OSError:
        return [str(own), "missing"]
    return [str(own), stat.st_size, stat.st_mtime_ns]


def avatar_jobs(ctx: Context, project_id: int) -> list[Job]:
    """Avatars follow the voice: their fingerprint includes the audio they lip-sync to."""
    home = _home(ctx, project_id)
    script = load_script(ctx, project_id)
    provider = ctx.providers.avatar().name
    paths = piece_paths(ctx, project_id, script)
    audio = {"intro": paths["audio"][0], "outro": paths["audio"][-1]}
    return [
        Job(
            role,
            paths["avatar"][role],
            fingerprint(
                role, provider, _file_digest(audio[role]), _where(home, paths["avatar"][role])
            ),
        )
        for role in ("intro", "outro")
    ]


def _home(ctx: Context, project_id: int) -> str:
    """This project and no other of that id (a database made again, another installation on
    the same Redis): results cached for one never stand for another's files."""
    return f"{project_id}@{ctx.repo.get_project(project_id).created_at.isoformat()}"


def _where(home: str, path: Path) -> str:
    """Where the file is within its project (`images/segment_003.png`): the same on every
    worker, wherever it mounts the data dir."""
    return f"{home}/{path.relative_to(path.parent.parent).as_posix()}"


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"


def seed_for(project_id: int, segment_index: int) -> int:
    digest = hashlib.sha256(f"{project_id}:{segment_index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def synthesize_piece(
    ctx: Context, project_id: int, piece_index: int, fingerprint: str | None = None
) -> float:
    """Voice one piece (0 = intro, last = outro); returns its audio length in seconds."""
    script = load_script(ctx, project_id)
    path = piece_paths(ctx, project_id, script)["audio"][piece_index]
    voice = project_voice(ctx, project_id)
    record = AssetRecord(ctx, project_id, AssetType.AUDIO, piece_index, path, fingerprint, voice)
    if record.reused():
        return wav_duration(path)
    text = script.pieces()[piece_index].text
    with record:
        seconds = voice.synthesize(text, script.language, path)
    quota.meter(ctx, voice, "speech", project_id)
    return seconds


def make_image(
    ctx: Context,
    project_id: int,
    segment_index: int,
    gate: Gate = nullcontext,
    fingerprint: str | None = None,
) -> str:
    script = load_script(ctx, project_id)
    path = piece_paths(ctx, project_id, script)["images"][segment_index]
    maker = ctx.providers.images(formats.frame_of(ctx.repo.get_project(project_id).format))
    record = AssetRecord(ctx, project_id, AssetType.IMAGE, segment_index, path, fingerprint, maker)
    if record.reused():
        return str(path)
    segment = next(s for s in script.segments if s.index == segment_index)
    own = _own_file(ctx, project_id, script, segment_index)
    if own is not None:  # the creator's own picture or clip: no provider is asked
        frame = formats.frame_of(ctx.repo.get_project(project_id).format)
        with record:
            path.with_suffix(CREDIT_SUFFIX).unlink(missing_ok=True)
            own_media.use(own, path, (frame.width, frame.height), clip_path(path))
        return str(path)
    with record, gated(gate):
        clip_path(path).unlink(missing_ok=True)  # another maker's clip must not stand for it
        path.with_suffix(CREDIT_SUFFIX).unlink(missing_ok=True)  # nor its credit
        seed = seed_for(project_id, segment_index)
        if getattr(maker, "takes_terms", False):  # stock footage: searched by its terms
            avoid = footage_in_batch(ctx, project_id)
            maker.make(  # type: ignore[call-arg]
                segment.image_description, seed, path, terms=segment.search_terms, avoid=avoid
            )
        else:
            maker.make(segment.image_description, seed, path)
    quota.meter(ctx, maker, "image", project_id)
    return str(path)


def footage_in_batch(ctx: Context, project_id: int) -> set[str]:
    """Stock clips and photos the other projects of this project's batch already show: a
    segment takes another result while there is one."""
    batch_id = ctx.repo.get_project(project_id).batch_id
    if batch_id is None:
        return set()
    others = [p.id for p in batch_projects(ctx.repo, batch_id) if p.id != project_id]
    return footage_keys(ctx.project_dir(other) / "images" for other in others)


def _own_file(ctx: Context, project_id: int, script: Script, segment_index: int) -> Path | None:
    media = (ctx.repo.get_project(project_id).visual_config or {}).get("media")
    return own_file(media, script, segment_index)


def own_file(media: dict[str, Any] | None, script: Script, segment_index: int) -> Path | None:
    """The segment's own `media:` file (set in the script review), else the project's media
    folder's file for it, else none (the provider makes it)."""
    segment = next(s for s in script.segments if s.index == segment_index)
    if segment.media:
        return Path(segment.media)
    return own_media.file_for(media, segment_index, [s.index for s in script.segments])


def say_waiting_for_slot(ctx: Context, project_id: int, segment_index: int, seconds: float) -> None:
    """Other runs hold every image slot: the bar says why it stands still (a slot of a run
    that was killed comes back within its lease, a minute at most)."""
    ctx.bus.note(
        project_id,
        Stage.ASSETS,
        f"圖片 {segment_index} 等待生成名額 {seconds:.0f} 秒（其他執行中的專案使用中；已中止的執行"
        "所占名額一分鐘內釋出）",
        data={
            "waiting_for": "image slot",
            "segment_index": segment_index,
            "seconds": round(seconds),
        },
    )


def make_avatar(ctx: Context, project_id: int, role: str, fingerprint: str | None = None) -> str:
    script = load_script(ctx, project_id)
    paths = piece_paths(ctx, project_id, script)
    audio = paths["audio"][0 if role == "intro" else len(script.pieces()) - 1]
    kind = AssetType.AVATAR_INTRO if role == "intro" else AssetType.AVATAR_OUTRO
    maker = ctx.providers.avatar()
    record = AssetRecord(ctx, project_id, kind, None, paths["avatar"][role], fingerprint, maker)
    if record.reused():
        return str(paths["avatar"][role])
    with record:
        maker.make(audio, role, paths["avatar"][role])  # type: ignore[arg-type]
    return str(paths["avatar"][role])


def count_cached(ctx: Context, project_id: int, kind: str, index: int | str) -> None:
    """A sub-asset Prefect gave back from its cache without running the task: a `cached`
    timings row, as when the task finds its file made (`kind`: voice, image or avatar)."""
    project = ctx.repo.get_project(project_id)
    provider: Service
    if kind == "avatar":
        provider, asset = ctx.providers.avatar(), f"avatar_{index}"
    elif kind == "voice":
        provider, asset = project_voice(ctx, project_id), f"audio:{index}"
    else:
        provider, asset = ctx.providers.images(formats.frame_of(project.format)), f"image:{index}"
    clock = timings.Clock.start(project_id, "assets", ctx.attempt.number, asset, provider)
    ctx.repo.add_timing(clock.row(timings.CACHED))


def record_durations(ctx: Context, project_id: int, seconds: list[float]) -> Script:
    """Store each piece's realised length in the script; render and checks use them."""
    script = load_script(ctx, project_id)
    for piece, length in zip(script.pieces(), seconds, strict=True):
        piece.audio_duration = round(length, 3)
    ctx.repo.update_project(project_id, script=script.model_dump(mode="json"))
    update_state(
        ctx.project_dir(project_id),
        {"script": {"realised_duration": round(script.realised_duration(), 3)}},
    )
    return script


def settle_images(
    ctx: Context, project_id: int, failures: dict[int | str, BaseException]
) -> dict[str, Any]:
    """Accept a few refused images with placeholders (partial success), or fail the stage."""
    if not failures:
        return {"status": "success", "errors": []}
    script = load_script(ctx, project_id)
    allowed = int(len(script.segments) * ctx.settings.image_failure_tolerance + 1e-9)
    errors: list[dict[str, Any]] = [
        {
            "asset_type": AssetType.IMAGE.value,
            "segment_index": index,
            "error": error_info(exc, "assets"),
        }
        for index, exc in sorted(failures.items())
    ]
    if len(failures) > allowed:
        raise ProviderError(
            f"{len(failures)} of {len(script.segments)} images failed (at most {allowed} may): "
            + "; ".join(f"segment {e['segment_index']}: {e['error']['message']}" for e in errors),
            code="IMAGES_FAILED",
            errors=errors,
        )
    for entry in errors:
        _placeholder(ctx, project_id, script, entry)
    outcome = {"status": "partial_success", "errors": errors}
    update_state(ctx.project_dir(project_id), {"stages": {"assets": {"result": outcome}}})
    _say_partial(ctx, project_id, len(script.segments))
    return outcome


def _say_partial(ctx: Context, project_id: int, segments: int) -> None:
    """A partial success is said when it happens: a warning and a progress message."""
    replaced = replaced_images(ctx.repo, project_id)
    log.warning(
        "Project %s: %d of %d images replaced by placeholders (%s)",
        project_id,
        len(replaced),
        segments,
        ", ".join(f"segment {r['segment_index']}: {r['code']}" for r in replaced),
    )
    ctx.bus.note(
        project_id,
        Stage.ASSETS,
        f"{len(replaced)}/{segments} 張圖片無法生成，以替代圖片呈現",
        data={"partial": True, "replaced": replaced},
    )


def _placeholder(ctx: Context, project_id: int, script: Script, entry: dict[str, Any]) -> None:
    """An offline picture in place of a refused one; the Asset row stays FAILED with the error."""
    from ytmaker.providers.local.images import PillowImages

    index = entry["segment_index"]
    segment = next(s for s in script.segments if s.index == index)
    path = piece_paths(ctx, project_id, script)["images"][index]
    clip_path(path).unlink(missing_ok=True)
    path.with_suffix(CREDIT_SUFFIX).unlink(missing_ok=True)
    frame = formats.frame_of(ctx.repo.get_project(project_id).format)
    size = (frame.width, frame.height)
    PillowImages(size=size).make(segment.image_description, seed_for(project_id, index), path)
    record_asset(ctx, project_id, AssetType.IMAGE, index, path, entry["error"])


def is_tolerable(exc: BaseException) -> bool:
    """An image the service would not make, after every retry: refused (moderation) or still
    failing (a 503 all afternoon). A placeholder may stand in for it; a full disk may not."""
    return isinstance(exc, ProviderError)
