"""Text we did not write never becomes live markup in an artifact or a form description.

Every artifact kind is built from real rows (SQLite) holding hostile names, titles, error
messages and paths, rendered with markdown-it (CommonMark + GFM tables + linkify, raw HTML on:
the most permissive a viewer could be) and the HTML inspected: no link, image or tag comes from
what the user or a service wrote, and the text still reads exactly as written.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from markdown_it import MarkdownIt

from tests.servers.gemini import valid_script
from ytmaker import markup
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings
from ytmaker.models import ProjectStatus
from ytmaker.progress import Stage
from ytmaker.providers.registry import explain
from ytmaker.providers.registry import markdown as providers_markdown
from ytmaker.quota import QuotaReading, markdown_table
from ytmaker.reports import (
    batch_intake_markdown,
    batch_summary_markdown,
    describe,
    intake_description,
    intake_markdown,
    review_description,
    review_markdown,
    stats_markdown,
    summary_markdown,
)
from ytmaker.review_report import review_summary
from ytmaker.stats import Window, gather
from ytmaker.summary import project_summary

# The name from the issue, then what else a renderer could read.
ISSUE_NAME = (
    "![x](http://127.0.0.1:9/pixel.png) [click](javascript:alert(1)) <img src=x onerror=alert(1)>"
)
HOSTILE = [
    ISSUE_NAME,
    "<script>alert(1)</script> <a href=http://127.0.0.1:9/>a</a> **bold** _it_ ~~gone~~",
    "see http://127.0.0.1:9/x www.example.com mail@example.com <http://127.0.0.1:9/auto>",
    "`code` | cell | ```fence``` [ref]: http://127.0.0.1:9/ref &lt;img&gt; &amp; \\*",
    "# heading\n- item\n\n> quote <!-- comment --> <iframe src=//127.0.0.1:9>",
]
OUR_TAGS = {"p", "h1", "h2", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "code",
            "strong", "pre", "em"}  # fmt: skip
RENDERER = MarkdownIt("commonmark", {"linkify": True, "html": True}).enable(
    ["table", "linkify", "strikethrough"]
)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data: str) -> None:
        self.tags.append(("!--", {}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def rendered(markdown: str) -> Tags:
    parser = Tags()
    parser.feed(RENDERER.render(markdown))
    return parser


def assert_inert(markdown: str, shown: list[str], ours: set[str] | None = None) -> None:
    """No tag but our structure; links and images only those in `ours`; each of `shown`
    readable in the rendered text (one line: breaks become spaces)."""
    page = rendered(markdown)
    for tag, attrs in page.tags:
        if tag in ("a", "img"):
            target = attrs.get("href") or attrs.get("src")
            assert ours and target in ours, f"a {tag} to {target!r} came from the input"
        else:
            assert tag in OUR_TAGS, f"<{tag}> came from the input"
    words = " ".join("".join(page.text).split())
    for value in shown:
        assert markup.one_line(value) in words, f"{value!r} is not shown as written"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_artifact_kind_shows_hostile_text_literally(settings: Settings, hostile: str) -> None:
    ctx = bootstrap(settings)
    script = valid_script(segments=12, title=hostile) | {"language": "zh-TW"}
    script["metadata"]["description"] = hostile
    script["metadata"]["tags"] = [hostile[:100]]
    batch = SimpleNamespace(id=7, name=hostile, total=1)
    project = ctx.repo.create_project(
        name=hostile,
        content="text",
        status=ProjectStatus.AWAITING_REVIEW,
        script=script,
        youtube_settings={"privacy": "private", "tags": [hostile[:100]]},
        error_info={"code": hostile, "stage": hostile, "message": hostile, "field": hostile},
        youtube_video_id=hostile[:64],
        video_url="javascript:alert(1)",
        review={"reason": "review", "refused": hostile},
    )
    summary = project_summary(ctx, project.id)
    summary["video_path"] = f"/data/{hostile}/final.mp4"
    assert_inert(summary_markdown(summary, 3.0, state_name=hostile, state_message=hostile),
                 [hostile, "javascript:alert(1)"])  # fmt: skip
    assert_inert(intake_markdown(project, created=True), [hostile])
    assert_inert(intake_description(project), [hostile])
    assert_inert(batch_intake_markdown(batch, [project], created=True), [hostile])
    failed = {"project_id": project.id, "status": "FAILED", "error": hostile}
    batch_summary = {"batch_id": 7, "name": hostile, "status": "FAILED", "completed": 0,
                     "failed": 1, "total_projects": 1, "results": [failed]}  # fmt: skip
    assert_inert(batch_summary_markdown(batch_summary, {project.id: hostile}), [hostile])
    info = review_summary(ctx, project.id)
    info["subtitles"] = hostile + "\n```\n<img src=x>\n~~~"
    info["video_path"] = f"/data/{hostile}/final.mp4"
    thumbnail = "data:image/jpeg;base64,AAAA"
    assert_inert(review_markdown(info, thumbnail), [hostile], ours={thumbnail})
    assert_inert(review_description(info), [hostile, f"/data/{hostile}/final.mp4"])
    for stage in (Stage.ERROR, Stage.ASSETS, hostile):
        message = {"stage": stage, "progress": 50, "message": hostile}
        assert_inert(describe(message, "en"), [hostile])
    reading = QuotaReading(service=hostile, error=hostile, source="error")
    assert_inert(markdown_table([reading], 80.0), [hostile])


def test_the_providers_table_and_the_stats_chart_show_settings_literally(
    settings: Settings,
) -> None:
    rows = explain(settings)  # a base URL or a service's word lands in `detail` and `why`
    rows[0] |= {"detail": ISSUE_NAME, "why": ISSUE_NAME, "setting": f"X={ISSUE_NAME}"}
    assert_inert(providers_markdown(rows), [ISSUE_NAME, f"X={ISSUE_NAME}"])
    ctx = bootstrap(settings)
    ctx.repo.create_project(name=ISSUE_NAME, content="x", status=ProjectStatus.FAILED,
                            error_info={"code": "X", "message": ISSUE_NAME})  # fmt: skip
    figures = gather(ctx.repo, Window(since=datetime.now(UTC) - timedelta(days=1)))
    chart = b"\x89PNG"
    page = stats_markdown(figures, chart)
    assert_inert(page, [], ours={"data:image/png;base64,iVBORw=="})


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://www.youtube.com/watch?v=abc_DEF-123", True),
        ("javascript:alert(1)", False),
        ("https://x.example/a) ![i](http://127.0.0.1:9/p.png", False),
        ("http://127.0.0.1:9/plain-http", False),
    ],
)
def test_only_a_plain_https_address_becomes_a_link(url: str, linked: bool) -> None:
    page = rendered(summary_markdown({"project_id": 1, "status": "COMPLETED", "video_url": url}))
    links = [attrs.get("href") for tag, attrs in page.tags if tag in ("a", "img")]
    assert links == ([url] if linked else [])
    assert url in "".join(page.text)


def test_code_spans_hold_backticks_and_pipes() -> None:
    value: Any = "a `b` ``c`` | d"
    page = rendered(f"| x | y |\n|---|---|\n| {markup.code(value, table=True)} | z |\n")
    cells = [tag for tag, _ in page.tags if tag == "td"]
    assert len(cells) == 2 and value in "".join(page.text)
    assert value in "".join(rendered(f"- {markup.code(value)}").text)
