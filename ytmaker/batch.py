"""Batches: a YAML file of projects becomes a BatchTask with its projects; counters and summary.

No Prefect here: flows/batch.py runs the projects, this module keeps the books.

A batch file::

    name: 台灣小吃            # optional, default: the file name
    language: zh-TW           # optional default for every project
    format: landscape         # optional default for every project: landscape | shorts
    youtube:                  # optional defaults for every project
      privacy: private
    projects:
      - name: 夜市
        content_file: articles/night-markets.md   # relative to this YAML file
        youtube:
          privacy: private                        # private | unlisted | public
          publish_at: 2026-12-24 20:00            # no offset given: Asia/Taipei
          tags: [台灣, 夜市]
      - name: Bubble tea
        language: en
        format: shorts                            # a vertical YouTube Short
        voice: {name: en-US-GuyNeural, rate: "+10%"}   # an Edge voice (README, Voices)
        prompt_template: "Write a cheerful script about: {content}"   # optional, for Gemini
        content: |
          Bubble tea was born in Taichung in the 1980s...
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select, update

from ytmaker.config import Settings
from ytmaker.db import Repository, valid_id
from ytmaker.errors import ConfigError, InputError, YTMakerError
from ytmaker.files import inside, read_text_file
from ytmaker.formats import DEFAULT_FORMAT, check_optional_format, check_optional_length
from ytmaker.language import normalise_language
from ytmaker.media.visual import PATH_FIELDS, VisualConfig
from ytmaker.models import BatchStatus, BatchTask, Project, ProjectStatus
from ytmaker.project_input import (
    CONTENT_MAX_BYTES,
    FieldProblem,
    YouTubeSpec,
    check_content,
    check_name,
    check_voice,
    explain,
    invalid,
    narration_problems,
    youtube_settings,
)
from ytmaker.prompts import check_template
from ytmaker.review import PERSON_DECIDES, WAITING, replaced_images
from ytmaker.review_modes import parse_mode, stored

# A batch of many projects with their text inline stays far below this.
BATCH_FILE_MAX_BYTES = 16 * 1024 * 1024


class BatchNotFound(InputError):
    code = "BATCH_NOT_FOUND"


# --- the file ---------------------------------------------------------------------------------


class ProjectSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    content: str | None = None
    content_file: str | None = None
    language: str | None = None
    youtube: YouTubeSpec | None = None
    prompt_template: str | None = None
    visual_config: dict[str, Any] | None = None
    # none | script | upload (before_upload, true) | both (default: the batch's)
    review: bool | str | None = None
    format: str | None = None  # landscape | shorts
    length: str | None = None  # standard | short
    voice: dict[str, Any] | None = None  # {name, rate, pitch}: an Edge voice (default: batch's)
    media: str | None = None  # a folder of own pictures/clips under the batch file's folder

    @field_validator("name", mode="after")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    _format = field_validator("format", mode="after")(check_optional_format)
    _length = field_validator("length", mode="after")(check_optional_length)
    _review = field_validator("review", mode="after")(parse_mode)

    @field_validator("prompt_template", mode="after")
    @classmethod
    def _prompt(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)


class BatchSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    language: str | None = None
    youtube: YouTubeSpec | None = None
    visual_config: dict[str, Any] | None = None  # defaults for every project, section by section
    review: bool | str | None = None  # default for every project; unset: YTMAKER_REVIEW
    format: str | None = None  # default for every project: landscape | shorts
    length: str | None = None  # default for every project: standard | short
    voice: dict[str, Any] | None = None  # default for every project's voice, part by part
    projects: list[ProjectSpec] = Field(min_length=1)

    _format = field_validator("format", mode="after")(check_optional_format)
    _length = field_validator("length", mode="after")(check_optional_length)
    _review = field_validator("review", mode="after")(parse_mode)

    @field_validator("name", mode="after")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value, "the batch")


@dataclass
class NewProject:
    name: str
    content: str
    language: str = "zh-TW"
    youtube_settings: dict[str, Any] = field(default_factory=dict)
    prompt_template: str | None = None
    visual_config: dict[str, Any] = field(default_factory=dict)
    review_required: bool | None = None  # kept in step with review_mode (ytmaker.review_modes)
    format: str = "landscape"
    length: str = "standard"
    voice: dict[str, Any] | None = None
    review_mode: str | None = None  # None: YTMAKER_REVIEW


@dataclass
class BatchPlan:
    name: str
    projects: list[NewProject]


def load_batch_file(
    path: Path,
    *,
    now: datetime | None = None,
    allow_outside: bool = False,
    settings: Settings | None = None,
) -> BatchPlan:
    """Read and validate a batch YAML file; one InputError lists every problem by field
    (with `settings`, also each text too short or too long for its video).

    The files it names must lie under its own folder (symlinks followed) unless
    `allow_outside`: a batch file from someone else must not publish ~/.ssh or /etc/passwd.
    """
    path = Path(path)
    try:
        data = read_yaml(read_text_file(path, BATCH_FILE_MAX_BYTES))
    except ValueError as exc:
        raise InputError(f"Cannot read the batch file: {exc}", field="file") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML: {exc}", field="file") from None
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to be a batch file", field="file") from None
    return parse_batch(
        data,
        path.parent,
        source=str(path),
        default_name=path.stem,
        now=now,
        allow_outside=allow_outside,
        settings=settings,
    )


class _UniqueKeys(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping: a second `projects:` would
    otherwise silently replace the first list."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` overriding is what merge keys are for
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (lines {seen[key]} and {line})"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_UniqueKeys)  # noqa: S506 - a SafeLoader subclass


def parse_batch(
    data: Any,
    base_dir: Path,
    *,
    source: str = "batch",
    default_name: str = "batch",
    now: datetime | None = None,
    allow_outside: bool = False,
    settings: Settings | None = None,
) -> BatchPlan:
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: expected a mapping with a `projects:` list, got {type(data).__name__}.",
            field="projects",
        )
    try:
        spec = BatchSpec.model_validate(data)
    except ValidationError as exc:
        raise _invalid(source, explain(exc)) from None
    problems: list[tuple[str, str]] = []
    projects = []
    for i, item in enumerate(spec.projects):
        where = f"projects[{i}]"
        folder = Folder(base_dir, allow_outside)
        content = _content(item, folder, where, problems)
        language = _language(item.language or spec.language or "zh-TW", where, problems)
        youtube = _youtube(spec.youtube, item.youtube, where, problems, now or datetime.now(UTC))
        visual = {**(spec.visual_config or {}), **(item.visual_config or {})}
        visual = _visual(visual, folder, f"{where}.visual_config", problems)
        if item.media is not None:
            visual = {**visual, **_media(item.media, folder, f"{where}.media", problems, settings)}
        voice = _voice({**(spec.voice or {}), **(item.voice or {})}, language, where, problems)
        projects.append(
            NewProject(
                item.name,
                content,
                language,
                youtube,
                item.prompt_template,
                visual,
                format=item.format or spec.format or DEFAULT_FORMAT,
                length=item.length or spec.length or "standard",
                voice=voice,
                **stored(parse_mode(spec.review if item.review is None else item.review)),
            )
        )
    if settings is not None and not problems:
        problems += plan_length_problems(settings, projects)
    name = spec.name or _default_name(default_name, problems)
    if problems:
        raise _invalid(source, problems)
    return BatchPlan(name=name, projects=projects)


def plan_length_problems(
    settings: Settings, projects: list[NewProject], prefix: str = "projects"
) -> list[tuple[str, str]]:
    """Each text that cannot make its video's length, as `projects[i].content: why`."""
    problems: list[tuple[str, str]] = []
    for i, item in enumerate(projects):
        fields = dataclasses.asdict(item)
        problems += narration_problems(settings, fields, where=f"{prefix}[{i}].")
    return problems


def _default_name(file_name: str, problems: list) -> str:
    """The file's name stands in for a missing `name:`, under the same rules."""
    try:
        return check_name(file_name, "the batch")
    except ValueError as exc:
        problems.append(("name", f"the file name {file_name!r} {exc}; give the batch a `name:`"))
        return ""


@dataclass(frozen=True)
class Folder:
    """The batch file's folder: where its relative paths start and, unless allowed, end."""

    root: Path
    allow_outside: bool = False

    def path(self, given: str) -> Path:
        """`given` resolved (symlinks followed); a ValueError if it leaves the folder."""
        if self.allow_outside:
            return (self.root / Path(given).expanduser()).resolve()
        found = inside(self.root, given)
        if found is None:
            raise ValueError(
                f"{given} is outside the batch file's folder {self.root.resolve()} (symlinks "
                "followed): a batch file may only use files under its own folder; pass "
                "--allow-outside to allow it"
            )
        return found


def _media(
    given: str, folder: Folder, where: str, problems: list, settings: Settings | None
) -> dict[str, Any]:
    """`media:` checked file by file: {"media": plan}, or a problem naming the file."""
    from ytmaker import own_media

    limit = settings.media_max_bytes if settings is not None else 500_000_000
    try:
        return {"media": own_media.plan(folder.path(given), limit, where)}
    except ValueError as exc:
        problems.append((where, str(exc)))
    except InputError as exc:
        problems.append((where, exc.message.removeprefix(f"{where}: ")))
    return {}


def _content(item: ProjectSpec, folder: Folder, where: str, problems: list) -> str:
    if (item.content is None) == (item.content_file is None):
        problems.append((where, "give exactly one of `content` or `content_file`"))
        return ""
    if item.content_file is not None:
        try:
            path = folder.path(item.content_file)
            content = read_text_file(path, CONTENT_MAX_BYTES)
        except ValueError as exc:
            problems.append((f"{where}.content_file", str(exc)))
            return ""
        return _checked(content, f"{where}.content_file", problems, f"{path} ")
    return _checked(item.content or "", f"{where}.content", problems)


def _visual(data: dict[str, Any], folder: Folder, where: str, problems: list) -> dict[str, Any]:
    """Checked now, not at render after the script and pictures are paid for; its files
    (logo, music, font) follow the folder rule of content_file."""
    data = copy.deepcopy(data)
    for section, name in PATH_FIELDS:
        part = data.get(section)
        if isinstance(part, dict) and isinstance(part.get(name), str):
            try:
                part[name] = str(folder.path(part[name]))
            except ValueError as exc:
                problems.append((f"{where}.{section}.{name}", str(exc)))
                return {}
    try:
        return VisualConfig.from_dict(data).stored()
    except ConfigError as exc:
        field = str(exc.details.get("field", "visual_config")).removeprefix("visual_config")
        problems.append((where + field, exc.message.split(": ", 1)[-1]))
        return {}


def _voice(
    data: dict[str, Any], language: str, where: str, problems: list
) -> dict[str, Any] | None:
    """The batch's voice overlaid by the project's, checked for the project's language."""
    try:
        return check_voice(data, language)
    except FieldProblem as exc:
        problems.append((f"{where}.{exc.where}", str(exc)))
        return None


def _checked(content: str, where: str, problems: list, what: str = "") -> str:
    try:
        return check_content(content)
    except ValueError as exc:
        problems.append((where, f"{what}{exc}"))
        return ""


def _language(value: str, where: str, problems: list) -> str:
    try:
        return normalise_language(value)
    except YTMakerError:
        problems.append((f"{where}.language", f"unsupported {value!r}: use zh-TW or en"))
        return "zh-TW"


def _youtube(
    defaults: YouTubeSpec | None,
    own: YouTubeSpec | None,
    where: str,
    problems: list,
    now: datetime,
) -> dict[str, Any]:
    """The file's defaults overlaid by the project's own settings, then checked as one."""
    merged: dict[str, Any] = {}
    for spec in (defaults, own):
        if spec is not None:
            merged.update(spec.model_dump(exclude_none=True))
            if spec.publish_at is not None and spec.privacy is None:
                merged["privacy"] = "private"  # scheduled: private until then
    try:
        return youtube_settings(YouTubeSpec(**merged), now)
    except ValueError as exc:
        problems.append((f"{where}.youtube.publish_at", str(exc)))
        return {}


def _invalid(source: str, problems: list[tuple[str, str]]) -> InputError:
    return invalid(source, problems, what="a valid batch file")


def create_batch(repo: Repository, plan: BatchPlan, **row: Any) -> BatchTask:
    """The batch (with `row`'s other columns) and its projects, in one transaction."""
    with repo.session() as session:
        batch = BatchTask(
            name=plan.name, total=len(plan.projects), status=BatchStatus.PENDING, **row
        )
        session.add(batch)
        session.flush()
        for item in plan.projects:
            session.add(
                Project(
                    name=item.name,
                    content=item.content,
                    language=item.language,
                    youtube_settings=item.youtube_settings,
                    prompt_template=item.prompt_template,
                    visual_config=item.visual_config,
                    review_required=item.review_required,
                    review_mode=item.review_mode,
                    format=item.format,
                    length=item.length,
                    voice=item.voice,
                    batch_id=batch.id,
                )
            )
        session.flush()
        return batch


def get_batch(repo: Repository, batch_id: int) -> BatchTask:
    with repo.session() as session:
        batch = session.get(BatchTask, batch_id) if valid_id(batch_id) else None
        if batch is None:
            raise BatchNotFound(
                f"Batch {batch_id} does not exist; `ytmaker batch create --file FILE` makes one.",
                field="batch_id",
                batch_id=batch_id,
            )
        return batch


def batch_projects(repo: Repository, batch_id: int) -> list[Project]:
    with repo.session() as session:
        return list(
            session.scalars(
                select(Project).where(Project.batch_id == batch_id).order_by(Project.id)
            )
        )


def start(repo: Repository, batch_id: int) -> tuple[BatchTask, list[Project], list[Project]]:
    """Mark the batch RUNNING; returns (batch, projects to run, projects already completed).

    Running a batch again makes only what is not finished; finished projects count as completed.
    """
    get_batch(repo, batch_id)
    projects = batch_projects(repo, batch_id)
    done = [p for p in projects if p.status is ProjectStatus.COMPLETED]
    todo = [p for p in projects if p.status is not ProjectStatus.COMPLETED]
    with repo.session() as session:
        batch = session.get_one(BatchTask, batch_id)
        batch.status = BatchStatus.RUNNING if todo else final_status(len(projects), len(done), 0)
        batch.total, batch.completed, batch.failed = len(projects), len(done), 0
    return get_batch(repo, batch_id), todo, done


def record(repo: Repository, batch_id: int, *, ok: bool) -> BatchTask:
    """Count one finished project (an atomic increment: safe with several writers)."""
    column = BatchTask.completed if ok else BatchTask.failed
    with repo.session() as session:
        session.execute(
            update(BatchTask).where(BatchTask.id == batch_id).values({column.key: column + 1})
        )
    return get_batch(repo, batch_id)


def finish(repo: Repository, batch_id: int) -> BatchTask:
    """Settle the status from the counters (and from the projects, if counters were lost)."""
    with repo.session() as session:
        batch = session.get_one(BatchTask, batch_id)
        counts = dict(
            session.execute(
                select(Project.status, func.count())
                .where(Project.batch_id == batch_id)
                .group_by(Project.status)
            ).all()
        )
        total = sum(counts.values())
        batch.total = total
        batch.completed = counts.get(ProjectStatus.COMPLETED, 0)
        waiting = sum(counts.get(status, 0) for status in PERSON_DECIDES)
        batch.failed = total - batch.completed - waiting
        batch.status = final_status(total, batch.completed, batch.failed, waiting)
        return batch


def final_status(total: int, completed: int, failed: int, waiting: int = 0) -> BatchStatus:
    """A video held for (or rejected by) a person is made, not failed: the batch is then
    PARTIAL."""
    if total and completed == total:
        return BatchStatus.COMPLETED
    if completed == 0 and waiting == 0:
        return BatchStatus.FAILED
    return BatchStatus.PARTIAL if failed or waiting else BatchStatus.RUNNING


def outcome(repo: Repository, project: Project) -> dict[str, Any]:
    """One line of the batch result."""
    result: dict[str, Any] = {"project_id": project.id, "status": project.status.value}
    if replaced := replaced_images(repo, project.id):
        result["partial"], result["replaced"] = True, replaced
    if project.status is ProjectStatus.COMPLETED:
        result["video_id"] = project.youtube_video_id
    elif project.status in WAITING and (project.review or {}).get("reason") == "script":
        result["waiting"] = f"awaiting script review: ytmaker review {project.id}"
    elif project.status in WAITING:
        result["waiting"] = f"waiting for review: ytmaker review {project.id}"
    elif project.status is ProjectStatus.REJECTED:
        reason = ((project.review or {}).get("decision") or {}).get("reason")
        result["rejected"] = reason or "rejected, no reason given"
    else:
        info = project.error_info or {}
        result["error"] = info.get("message") or f"stopped at {project.status.value}"
    return result


def summary(repo: Repository, batch_id: int) -> dict[str, Any]:
    """What the batch flow returns and `ytmaker batch status` shows."""
    batch = get_batch(repo, batch_id)
    projects = batch_projects(repo, batch_id)
    return {
        "status": batch.status.value,
        "batch_id": batch.id,
        "name": batch.name,
        "total_projects": batch.total,
        "completed": batch.completed,
        "failed": batch.failed,
        "awaiting_review": sum(p.status in WAITING for p in projects),
        "awaiting_script_review": sum(
            p.status in WAITING and (p.review or {}).get("reason") == "script" for p in projects
        ),
        "rejected": sum(p.status is ProjectStatus.REJECTED for p in projects),
        "results": [outcome(repo, p) for p in projects],
    }
