"""What a run's reports say, as Markdown: the video summary, a progress line, the batch table.

Prefect shows them as artifacts (flows/artifacts.py); building them needs no Prefect.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from ytmaker import stages
from ytmaker.language import family
from ytmaker.markup import code, fenced, link, text
from ytmaker.progress import Stage
from ytmaker.providers.registry import markdown as registry_markdown

# Statuses whose summary shows no error: made, or waiting for (or decided by) a person.
NO_ERROR = ("COMPLETED", "AWAITING_REVIEW", "REVIEW_EXPIRED", "REJECTED")
SUBTITLES_MAX = 6000  # characters of subtitle text a review shows


def slug(text: str, length: int = 40) -> str:
    """Lower-case words joined by dashes; letters of any script are kept (早餐店 stays)."""
    return re.sub(r"[\W_]+", "-", text.lower()).strip("-")[:length].strip("-")


def overall_progress(message: dict[str, Any]) -> float | None:
    """0-100 over the five stages, from one progress message (None for an error)."""
    stage = message.get("stage")
    if stage not in stages.BY_PROGRESS:
        return None
    return round(stages.overall_percent(stage, float(message.get("progress") or 0)), 1)


# The progress artifact's own words, in the project's language.
WORDS = {
    "zh": {"starting": "開始", "completed": "完成", "failed": "失敗", "see_logs": "請看執行紀錄",
           "waiting": "等待審核"},
    "en": {"starting": "starting", "completed": "completed", "failed": "failed",
           "see_logs": "see the logs", "waiting": "waiting for review"},
}  # fmt: skip


def words(language: str) -> dict[str, str]:
    return WORDS[family(language)]


def describe(message: dict[str, Any], language: str = "zh-TW") -> str:
    """One progress message as the artifact shows it, in the project's language: `**2/5 素材**
    40% — …` or `**2/5 assets** 40% — …` (a stage's own start and end messages translated)."""
    stage, said = message.get("stage"), str(message.get("message", ""))
    if stage == Stage.ERROR:
        return f"**{words(language)['failed']}**: {text(said)}"
    spec = stages.BY_PROGRESS.get(Stage(stage)) if stage in set(Stage) else None
    if spec is None:
        return f"**{text(stage)}** {_percent(message)}% — {text(said)}"
    english = family(language) == "en"
    if english and said in (spec.start_message, spec.done_message):
        said = f"{spec.name} {'starting' if said == spec.start_message else 'done'}"
    name = spec.name if english else spec.short
    number = f"{spec.number}/{len(stages.STAGES)}"
    return f"**{number} {name}** {_percent(message)}% — {text(said)}"


def _percent(message: dict[str, Any]) -> str:
    try:
        return f"{float(message.get('progress') or 0):.0f}"
    except (TypeError, ValueError):
        return "?"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(float(value), 60)
    return f"{int(minutes)}:{seconds:04.1f} ({value:.1f} s)"


def summary_markdown(
    result: dict[str, Any],
    run_seconds: float | None = None,
    *,
    state_name: str | None = None,
    state_message: str | None = None,
) -> str:
    status = result.get("status")
    icons = {"COMPLETED": "✅", "AWAITING_REVIEW": "⏸️", "REVIEW_EXPIRED": "⏸️", "REJECTED": "🚫"}
    icon = icons.get(str(status), "❌")
    title = result.get("title") or result.get("name") or f"Project {result.get('project_id')}"
    rows = [
        ("project", f"{text(result.get('project_id'))} — {text(result.get('name', ''))}"),
        ("status", f"{icon} {text(status)}" + (f" (run {text(state_name)})" if state_name else "")),
        ("language", _text(result.get("language"))),
        ("video length", _seconds(result.get("duration"))),
        ("run time", _seconds(run_seconds)),
        ("video", _code(result.get("video_path"))),
        ("thumbnail", _code(result.get("thumbnail_path"))),
        ("video id", _text(result.get("video_id"))),
        ("video URL", _link(result.get("video_url"))),
        ("partial", _replaced(result.get("replaced"))),
        ("made again", _remade(result.get("remade"))),
    ]
    lines = [f"# {text(title)}", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows if value not in (None, "", "-")]
    if result.get("providers"):
        lines += ["", "## Providers", "", registry_markdown(result["providers"])]
    error = result.get("error")
    if error or (status not in NO_ERROR and state_message):
        error = error or {}
        lines += [
            "",
            "## Error",
            "",
            f"- code: {code(error.get('code', '-'))}",
            f"- stage: {code(error.get('stage', '-'))}",
            f"- message: {text(error.get('message') or state_message or '')}",
        ]
        for key in ("field", "segment_index", "provider", "retryable"):
            if error.get(key) is not None:
                lines.append(f"- {key}: {code(error[key])}")
    return "\n".join(lines) + "\n"


def _replaced(replaced: list[dict[str, Any]] | None) -> str | None:
    """Which images are placeholders, and why."""
    if not replaced:
        return None
    return "placeholder images: " + ", ".join(
        f"segment {text(r.get('segment_index'))} ({code(r.get('code'), table=True)})"
        for r in replaced
    )


def _remade(remade: list[dict[str, Any]] | None) -> str | None:
    """Files found damaged between runs and made (and paid for) again."""
    if not remade:
        return None
    return "damaged, made and paid for again: " + ", ".join(
        f"{code(Path(str(r.get('path', ''))).name, table=True)} ({text(r.get('why', ''))})"
        for r in remade
    )


def _cell(value: Any) -> str:
    return text(value)


def _text(value: Any) -> str | None:
    return text(value) if value not in (None, "") else None


def _code(path: Any) -> str | None:
    return code(path, table=True) if path else None


def _link(url: Any) -> str | None:
    return link(url) if url else None


def batch_summary_markdown(summary: dict[str, Any], names: dict[int, str]) -> str:
    lines = [
        f"# Batch {text(summary['batch_id'])}: {text(summary.get('name', ''))}",
        "",
        f"**{text(summary['status'])}** — {summary['completed']} completed, "
        f"{summary['failed']} failed, "
        f"{summary['total_projects']} in all",
        "",
        "| project | name | status | video id / error |",
        "|---:|---|---|---|",
    ]
    for item in summary["results"]:
        detail = item.get("video_id") if "video_id" in item else item.get("error")
        detail = item.get("waiting", item.get("rejected", detail))
        if item.get("partial"):
            detail = f"{detail or ''} ({_replaced(item['replaced'])})"
        lines.append(
            f"| {text(item['project_id'])} | {_cell(names.get(item['project_id'], ''))} | "
            f"{text(item['status'])} | {_cell(detail or '')} |"
        )
    return "\n".join(lines) + "\n"


# --- a video waiting for review ----------------------------------------------------------------


def review_markdown(info: dict[str, Any], thumbnail_uri: str | None = None) -> str:
    """A video waiting for review (ytmaker.review_report.review_summary) as markdown: the
    artifact beside the Resume form (with `thumbnail_uri` embedded), and `ytmaker review ID`."""
    project_id = info["project_id"]
    meta = info.get("proposed") or {}
    lines = [f"# Review: {_cell(meta.get('title') or info.get('name'))}", ""]
    if thumbnail_uri:
        lines += [f"![thumbnail]({thumbnail_uri})", ""]
    rows = [
        ("project", f"{project_id} — {_cell(info.get('name', ''))}"),
        ("status", _text(info.get("status"))),
        ("why it waits", _why(info.get("review") or {})),
        ("waiting since", _text(info.get("waiting_since"))),
        ("expires (UTC)", _text(info.get("expires_at"))),
        ("video length", _seconds(info.get("duration"))),
        ("video", _code(info.get("video_path"))),
        ("thumbnail", _code(info.get("thumbnail_path"))),
        ("replaced images", _replaced(info.get("replaced"))),
        ("refused last time", _cell((info.get("review") or {}).get("refused") or "")),
    ]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows if value not in (None, "", "-")]
    lines += ["", "## Metadata proposed for upload", "", "| | |", "|---|---|"]
    for key in ("title", "description", "tags", "privacy", "publish_at", "ai_generated"):
        value = meta.get(key)
        shown = ", ".join(value) if isinstance(value, list) else value
        lines.append(f"| {key} | {_cell(shown if shown not in (None, '') else '-')} |")
    if info.get("providers"):
        lines += ["", "## Made by", "", "| asset | provider | made by it | placeholders |"]
        lines += ["|---|---|---:|---:|"]
        for row in info["providers"]:
            lines.append(
                f"| {text(row['asset'])} | {text(row['provider'])} | "
                f"{text(row['made_by_it'])}/{text(row['total'])} | {text(row['placeholders'])} |"
            )
    subtitles = info.get("subtitles") or ""
    if subtitles:
        shown = subtitles[:SUBTITLES_MAX] + ("\n…" if len(subtitles) > SUBTITLES_MAX else "")
        lines += ["", "## Subtitles", "", "```text", fenced(shown), "```"]
    lines += [
        "",
        "## Decide",
        "",
        "Prefect UI: this run → **Resume** (approve or reject, edit the metadata). "
        f"Command line: `ytmaker review {project_id} --approve [--title …]` or "
        f"`ytmaker review {project_id} --reject --reason …`.",
    ]
    return "\n".join(lines) + "\n"


def _why(record: dict[str, Any]) -> str | None:
    return {
        "review": "review is on for this project",
        "partial": "some images are placeholders",
        "script": "its script waits to be read",
    }.get(record.get("reason", ""))


def stats_markdown(figures: dict[str, Any], chart: bytes) -> str:
    """The chart (embedded) above the targets, as `ytmaker stats` judges them."""
    from ytmaker.stats import text as stats_text

    image = "data:image/png;base64," + base64.b64encode(chart).decode("ascii")
    lines = stats_text(figures).splitlines()
    return (
        f"# YTMaker stats since {text(figures['since'])}\n\n"
        f"![time per stage and success rate]({image})\n\n```\n"
        + fenced("\n".join(lines))
        + "\n```\n"
    )


# --- what the new-video / new-batch runs show at once, and the review form's text --------------


def follow_lines(project_id: int) -> str:
    return (
        f"Follow it: `ytmaker watch {project_id}` (live stages), "
        f"`ytmaker status {project_id}`; the video run is this run's sub-flow."
    )


def intake_markdown(project: Any, created: bool) -> str:
    """A `new-video` run's card before its video is made (`project`: a Project row)."""
    youtube = project.youtube_settings or {}
    rows = [
        ("project", f"{project.id} — {text(project.name)}"),
        ("made", "now" if created else "by an earlier attempt of this run"),
        ("language", _text(project.language)),
        ("privacy", _text(youtube.get("privacy"))),
        ("publish at (UTC)", _text(youtube.get("publish_at"))),
        ("tags", _text(", ".join(youtube.get("tags") or []))),
        ("own prompt", "yes" if project.prompt_template else None),
        ("voice", _text((project.voice or {}).get("name"))),
    ]
    table = "\n".join(f"| {key} | {value} |" for key, value in rows if value)
    return f"# Project {project.id}\n\n| | |\n|---|---|\n{table}\n\n{follow_lines(project.id)}\n"


def intake_description(project: Any) -> str:
    return f"Project {project.id}: {text(project.name)} (ytmaker watch {project.id})"


def batch_intake_markdown(batch: Any, projects: list[Any], created: bool) -> str:
    """A `new-batch` run's card: the batch id and its projects (`batch`: a BatchTask row)."""
    lines = [
        f"# Batch {batch.id}: {text(batch.name)}",
        "",
        f"{batch.total} projects, made {'now' if created else 'by an earlier attempt of this run'}."
        f" Follow it: `ytmaker batch status {batch.id}`; one project: `ytmaker watch ID`.",
        "",
        "| project | name | language |",
        "|---:|---|---|",
    ]
    for project in projects:
        lines.append(f"| {project.id} | {text(project.name)} | {text(project.language)} |")
    return "\n".join(lines) + "\n"


def review_description(info: dict[str, Any]) -> str:
    """The Resume form's text above its fields (Prefect shows it as Markdown)."""
    project_id = info["project_id"]
    lines = [
        f"**Project {project_id}: {text(info.get('name', ''))}** waits for your decision before "
        f"upload. The artifact `video-{project_id}-review` of this run shows the thumbnail, "
        "the video's length, the subtitles and who made each asset.",
        "",
        f"Video: {code(info.get('video_path'))}",
    ]
    refused = (info.get("review") or {}).get("refused")
    if refused:
        lines += ["", f"**Your last decision was refused:** {text(refused)}"]
    return "\n".join(lines)
