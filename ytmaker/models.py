"""Database tables (SQLAlchemy 2.0 typed models); the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Ids are INTEGER columns: PostgreSQL keeps 32 bits, and SQLite refuses a Python int over 64.
ID_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class ProjectStatus(enum.StrEnum):
    INITIALIZED = "INITIALIZED"
    SCRIPT_GENERATING = "SCRIPT_GENERATING"
    SCRIPT_GENERATED = "SCRIPT_GENERATED"
    ASSETS_GENERATING = "ASSETS_GENERATING"
    ASSETS_GENERATED = "ASSETS_GENERATED"
    RENDERING = "RENDERING"
    RENDERED = "RENDERED"
    THUMBNAIL_GENERATING = "THUMBNAIL_GENERATING"
    THUMBNAIL_GENERATED = "THUMBNAIL_GENERATED"
    UPLOADING = "UPLOADING"
    # made, and held before the upload until a person decides (ytmaker/review.py)
    AWAITING_REVIEW = "AWAITING_REVIEW"
    # a person said no (the reason is in `review`), or nobody decided within the review timeout
    REJECTED = "REJECTED"
    REVIEW_EXPIRED = "REVIEW_EXPIRED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class AssetType(enum.StrEnum):
    AUDIO = "AUDIO"
    IMAGE = "IMAGE"
    AVATAR_INTRO = "AVATAR_INTRO"
    AVATAR_OUTRO = "AVATAR_OUTRO"
    FINAL_VIDEO = "FINAL_VIDEO"
    THUMBNAIL = "THUMBNAIL"


class AssetStatus(enum.StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class BatchStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=32, validate_strings=True)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BatchTask(Timestamps, Base):
    __tablename__ = "batch_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), default=BatchStatus.PENDING)
    total: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    # The flow run (`new-batch`) that made it: a rerun of that run finds it instead of a copy.
    created_by_run: Mapped[str | None] = mapped_column(
        String(64), default=None, unique=True, index=True
    )

    projects: Mapped[list[Project]] = relationship(back_populates="batch")


class Project(Timestamps, Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), default="zh-TW")
    # landscape | shorts (ytmaker/formats.py); rows from before formats get landscape.
    format: Mapped[str] = mapped_column(String(16), default="landscape", server_default="landscape")
    # standard | short (ytmaker/formats.py LENGTHS); None: standard, the worker's rule.
    length: Mapped[str | None] = mapped_column(String(16), default=None)
    status: Mapped[ProjectStatus] = mapped_column(
        _enum(ProjectStatus), default=ProjectStatus.INITIALIZED
    )
    script: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # What the script was written from; the same inputs reuse it instead of paying again.
    script_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    visual_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    youtube_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The LLM prompt for this project (placeholders in ytmaker.prompts); None: the default.
    prompt_template: Mapped[str | None] = mapped_column(Text, default=None)
    youtube_video_id: Mapped[str | None] = mapped_column(String(64), default=None)
    video_url: Mapped[str | None] = mapped_column(Text, default=None)
    # The resumable upload session, saved before any byte is sent: a crash resumes it.
    upload_session_uri: Mapped[str | None] = mapped_column(Text, default=None)
    error_info: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Why the video waits before upload, and whether a person approved it (ytmaker/review.py).
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # A person approves it before upload: True/False as given, None: YTMAKER_REVIEW decides.
    review_required: Mapped[bool | None] = mapped_column(default=None)
    # none | script | before_upload | both (ytmaker/review_modes.py); None: review_required,
    # else YTMAKER_REVIEW.
    review_mode: Mapped[str | None] = mapped_column(String(16), default=None)
    # The project's own voice {name, rate, pitch} (ytmaker/voices.py); None: the default voice.
    voice: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch_tasks.id"), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The flow run (`new-video`) that made it: a rerun of that run finds it instead of a copy.
    created_by_run: Mapped[str | None] = mapped_column(
        String(64), default=None, unique=True, index=True
    )

    batch: Mapped[BatchTask | None] = relationship(back_populates="projects")
    assets: Mapped[list[Asset]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Asset.id"
    )


class Asset(Timestamps, Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    type: Mapped[AssetType] = mapped_column(_enum(AssetType))
    segment_index: Mapped[int | None] = mapped_column(default=None)
    path: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[AssetStatus] = mapped_column(_enum(AssetStatus), default=AssetStatus.PENDING)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The inputs the finished file was made from: a run killed before Prefect stored the task's
    # result still finds the file made, and does not pay for it again.
    fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)

    project: Mapped[Project] = relationship(back_populates="assets")


class QuotaUsage(Base):
    """One counted use of a metered service (our own accounting: units as the service bills)."""

    __tablename__ = "quota_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(64), default="")
    units: Mapped[float] = mapped_column(default=1.0)
    project_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class QuotaSnapshot(Base):
    """What the hourly quota sync read for one service."""

    __tablename__ = "quota_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(32), index=True)
    used: Mapped[float] = mapped_column(default=0.0)
    quota_limit: Mapped[float | None] = mapped_column(default=None)
    remaining: Mapped[float | None] = mapped_column(default=None)
    percent: Mapped[float | None] = mapped_column(default=None)
    unit: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(32), default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Timing(Base):
    """One stage attempt, or one sub-asset (voice piece, image, avatar, the script call, the
    upload): how long it took and what came of it (ytmaker/timings.py)."""

    __tablename__ = "timings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(index=True)
    stage: Mapped[str] = mapped_column(String(16))
    # `image:3`, `voice:0`, `avatar:intro`, `script`, `upload`; None for the stage itself
    asset: Mapped[str | None] = mapped_column(String(32), default=None)
    attempt: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    seconds: Mapped[float] = mapped_column(default=0.0)
    outcome: Mapped[str] = mapped_column(String(8))  # ok | retry | failed | cached
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    # who did the work (`stability`, `espeak-ng`...), and whether it is a service over the
    # network (time spent waiting) rather than work on this machine
    service: Mapped[str | None] = mapped_column(String(32), default=None)
    remote: Mapped[bool] = mapped_column(default=False)
    # the run process's CPU (its FFmpeg children included) and peak memory, for a stage row
    cpu_seconds: Mapped[float | None] = mapped_column(default=None)
    peak_rss_mb: Mapped[float | None] = mapped_column(default=None)
    trace_id: Mapped[str | None] = mapped_column(String(64), default=None)
