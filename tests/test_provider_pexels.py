"""Pexels stock footage: the real httpx client against a local server speaking the Pexels API
and serving real MP4s; what the server received and the files a render uses are checked."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.servers.pexels import FakePexels
from ytmaker.errors import ProviderError
from ytmaker.files import clip_path
from ytmaker.media.probe import probe
from ytmaker.providers import pexels
from ytmaker.providers.local.images import PillowImages
from ytmaker.providers.pexels import PexelsFootage, credit_path

KEY = "test-pexels-key"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served")  # the MP4s are made once for the module


@pytest.fixture
def server(served: Path):
    pexels.BUDGET.remaining = None  # the process-wide rate-limit memory starts clean
    fake = FakePexels(served, KEY)
    for video_id, author in ((1, "Ann Lee"), (2, "Bo Chen"), (3, "Cy Wu"), (4, "Di Lin")):
        fake.add_video(video_id, author)
    fake.add_video(9, "Ed Portrait", "portrait")
    fake.library = {"night market": [1, 2], "street food": [1, 3], "tea garden": [4]}
    with fake:
        yield fake
    pexels.BUDGET.remaining = None


def maker(server: FakePexels, root: Path, size=(1920, 1080), visuals="clips") -> PexelsFootage:
    return PexelsFootage(
        KEY,
        server.url,
        visuals=visuals,
        size=size,
        cache_dir=root / "cache",
        fallback=PillowImages(size=size),
    )


def downloads(server: FakePexels) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in server.requests_to("/download/")]


def test_each_segment_gets_its_own_clip_in_the_smallest_big_enough_rendition(
    server: FakePexels, tmp_path: Path
) -> None:
    footage, images = maker(server, tmp_path), tmp_path / "p1" / "images"
    footage.make("a night market", 1, images / "segment_001.png", terms=["night market"])
    footage.make("food", 2, images / "segment_002.png", terms=["street food"])

    searches = server.requests_to("/videos/search")
    assert [(r.query["query"], r.query["orientation"]) for r in searches] == [
        ("night market", "landscape"),
        ("street food", "landscape"),
    ]
    assert all(r.header("authorization") == KEY for r in searches)
    # 1920x1080 is the smallest at least the frame (not the 2560x1440, not the 960x540);
    # video 1 is taken by segment 1, so segment 2 gets video 3
    assert downloads(server) == ["video-1-hd.mp4", "video-3-hd.mp4"]
    for name, author in (("segment_001", "Ann Lee"), ("segment_002", "Cy Wu")):
        clip = probe(clip_path(images / f"{name}.png"))
        assert (clip.video.width, clip.video.height) == (1920, 1080)
        still = probe(images / f"{name}.png")
        assert (still.video.width, still.video.height) == (1920, 1080)
        credit = json.loads(credit_path(images / f"{name}.png").read_text("utf-8"))
        assert credit["author"] == author and credit["url"].startswith("https://www.pexels.com/")


def test_no_result_tries_the_next_term_then_the_fallback(
    server: FakePexels, tmp_path: Path
) -> None:
    footage, images = maker(server, tmp_path), tmp_path / "p1" / "images"
    footage.make("tea", 1, images / "segment_001.png", terms=["mountain tea", "tea garden"])
    assert [r.query["query"] for r in server.requests_to("/videos/search")] == [
        "mountain tea",
        "tea garden",
    ]
    assert json.loads(credit_path(images / "segment_001.png").read_text())["id"] == 4

    footage.make("夜市的燈", 2, images / "segment_002.png", terms=["nothing at all"])
    assert server.requests_to("/v1/search")[-1].query["query"] == "nothing at all"  # photos next
    credit = json.loads(credit_path(images / "segment_002.png").read_text())
    assert credit == {"provider": "pillow", "fallback": True, "terms": ["nothing at all"]}
    assert not clip_path(images / "segment_002.png").exists()
    assert probe(images / "segment_002.png").video.width == 1920


def test_a_short_gets_portrait_clips(server: FakePexels, tmp_path: Path) -> None:
    server.library["night market"] = [1, 9]
    footage = maker(server, tmp_path, size=(1080, 1920))
    out = tmp_path / "p" / "images" / "segment_001.png"
    footage.make("x", 1, out, terms=["night market"])
    assert server.requests_to("/videos/search")[0].query["orientation"] == "portrait"
    assert downloads(server) == ["video-9-hd.mp4"]
    clip = probe(clip_path(out))
    assert (clip.video.width, clip.video.height) == (1080, 1920)


def test_photos_mode_uses_the_photo_search(server: FakePexels, tmp_path: Path) -> None:
    server.photos = {"night market": [7]}
    footage = maker(server, tmp_path, visuals="photos")
    out = tmp_path / "p" / "images" / "segment_001.png"
    footage.make("x", 1, out, terms=["night market"])
    assert server.requests_to("/videos/search") == []
    assert downloads(server) == ["photo-7.jpg"] and not clip_path(out).exists()
    assert probe(out).video.width == 1920
    assert json.loads(credit_path(out).read_text())["author"] == "Photographer 7"


def test_a_download_cut_half_way_is_fetched_again_and_then_never_again(
    server: FakePexels, tmp_path: Path
) -> None:
    server.cut_downloads = {"video-4-hd.mp4"}
    footage = maker(server, tmp_path)
    first = tmp_path / "p1" / "images" / "segment_001.png"
    footage.make("x", 1, first, terms=["tea garden"])
    assert downloads(server) == ["video-4-hd.mp4", "video-4-hd.mp4"]  # cut, then whole
    assert probe(clip_path(first)).video.frames == 25
    # another project (or a run after a crash) wanting it: from the cache, no download
    again = maker(server, tmp_path)
    again.make("x", 1, tmp_path / "p2" / "images" / "segment_001.png", terms=["tea garden"])
    assert downloads(server) == ["video-4-hd.mp4", "video-4-hd.mp4"]


def test_racing_segments_download_a_file_once(server: FakePexels, tmp_path: Path) -> None:
    footage = maker(server, tmp_path)
    outs = [tmp_path / f"p{i}" / "images" / "segment_001.png" for i in range(4)]
    threads = [
        threading.Thread(target=footage.make, args=("x", 1, out), kwargs={"terms": ["tea garden"]})
        for out in outs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert downloads(server) == ["video-4-hd.mp4"]
    assert all(clip_path(out).stat().st_size > 0 for out in outs)


def test_rate_limits_are_honoured(server: FakePexels, tmp_path: Path) -> None:
    footage = maker(server, tmp_path)
    out = tmp_path / "p" / "images" / "segment_001.png"
    server.fail_next(429, message="Too Many Requests", headers={"Retry-After": "7"})
    with pytest.raises(ProviderError) as caught:
        footage.make("x", 1, out, terms=["tea garden"])
    assert caught.value.retryable and caught.value.details["retry_after"] == 7.0
    assert "429" in str(caught.value) and KEY not in str(caught.value)

    server.remaining = 1  # the next answer says none are left, until the reset in an hour
    footage.make("x", 1, out, terms=["tea garden"])
    sent = len(server.requests)
    with pytest.raises(ProviderError) as caught:
        footage.make("x", 2, tmp_path / "p" / "images" / "segment_002.png", terms=["night market"])
    assert caught.value.retryable and caught.value.details["retry_after"] > 3000
    assert len(server.requests) == sent  # nothing sent while the quota is used up


# --- search terms in the script, credits in the summary and the description ------------------


def test_scripts_carry_one_to_three_english_search_terms() -> None:
    from ytmaker.prompts import script_prompt
    from ytmaker.providers.local.script_writer import search_terms
    from ytmaker.script import ScriptRules, WireScript, from_wire

    zh = search_terms("台灣夜市", "夜市的攤位上有香腸和雞排，還有珍珠奶茶。")
    assert sorted(zh) == ["bubble tea", "night market", "street food"]
    assert zh[-1] == "bubble tea"  # named once: last
    assert search_terms("Tea", "We walked up the tea garden on the mountain.")[0] == "tea garden"
    assert "search_terms" in script_prompt(None, "x", "en", ScriptRules())
    wire = WireScript.model_validate(
        {
            "intro": {"text": "Hi.", "duration": 5},
            "segments": [
                {"index": 1, "text": "A.", "duration": 8, "image_description": "a",
                 "search_terms": [" night  market ", "night market", "food", "tea", "rain"]},
                {"index": 2, "text": "B.", "duration": 8, "image_description": "b"},
            ],
            "outro": {"text": "Bye.", "duration": 5},
            "metadata": {"title": "T", "description": "D", "tags": []},
            "total_duration": 26,
        }
    )  # fmt: skip
    script = from_wire(wire, "en")
    assert script.segments[0].search_terms == ["night market", "food", "tea"]
    assert script.segments[1].search_terms == []  # the image description is searched then


def test_credits_are_in_the_summary_and_the_description(
    server: FakePexels, settings, tmp_path: Path
) -> None:
    from ytmaker.bootstrap import bootstrap
    from ytmaker.layout import piece_paths
    from ytmaker.pipeline.upload import with_credits
    from ytmaker.providers.local.script_writer import LocalScriptWriter
    from ytmaker.script import ScriptRules
    from ytmaker.summary import project_summary

    ctx = bootstrap(settings)
    project = ctx.repo.create_project(name="Markets", content="x", language="en")
    text = "Night markets glow. " * 20 + "\n\n" + "Street food sizzles. " * 20
    script = LocalScriptWriter().write(text, "en", ScriptRules(total_min=5, segment_min=1))
    ctx.repo.update_project(project.id, script=script.model_dump(mode="json"))
    images = piece_paths(ctx, project.id, script)["images"]
    footage = maker(server, tmp_path)
    terms = [["night market"], ["night market"], ["no such thing"]]
    for (index, path), these in zip(sorted(images.items()), terms, strict=False):
        footage.make("x", index, path, terms=these)

    summary = project_summary(ctx, project.id)
    assert [(c["author"], c["segments"]) for c in summary["credits"]] == [
        ("Ann Lee", [1]),
        ("Bo Chen", [2]),
    ]
    assert len(images) >= 3 and summary["fallbacks"] == [
        {"segment_index": 3, "provider": "pillow", "terms": ["no such thing"]}
    ]
    described = with_credits("About markets.", images)
    assert described.startswith("About markets.\n\nStock footage from Pexels")
    assert "- Ann Lee: https://www.pexels.com/video/clip-1/" in described
    assert "- Bo Chen: https://www.pexels.com/video/clip-2/" in described
    long = with_credits("長" * 3000, images)  # 9000 bytes: cut, the credits kept whole
    assert len(long.encode()) <= 5000 and long.endswith("clip-2/")


# --- a batch prefers clips its other videos do not show ---------------------------------------


def test_a_clip_another_video_of_the_batch_shows_is_taken_only_when_nothing_else_is_found(
    server: FakePexels, tmp_path: Path
) -> None:
    footage = maker(server, tmp_path)
    first = tmp_path / "b" / "images" / "segment_001.png"
    footage.make("x", 1, first, terms=["night market"], avoid={"videos-1"})
    assert json.loads(credit_path(first).read_text("utf-8"))["id"] == 2
    both = tmp_path / "c" / "images" / "segment_001.png"
    footage.make("x", 1, both, terms=["night market"], avoid={"videos-1", "videos-2"})
    assert json.loads(credit_path(both).read_text("utf-8"))["id"] == 1  # better than a drawing


def test_the_projects_of_a_batch_show_different_clips(
    server: FakePexels, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_batch import SHORT_ZH
    from ytmaker import batch
    from ytmaker.bootstrap import bootstrap
    from ytmaker.config import reload_settings
    from ytmaker.pipeline.assets import make_image
    from ytmaker.pipeline.script import run as generate_script
    from ytmaker.script import Script

    for name, value in (
        ("YTMAKER_IMAGE_PROVIDER", "pexels"),
        ("PEXELS_API_KEY", KEY),
        ("PEXELS_BASE_URL", server.url),
    ):
        monkeypatch.setenv(name, value)
    ctx = bootstrap(reload_settings())
    plan = batch.BatchPlan("b", [batch.NewProject(n, SHORT_ZH, "zh-TW") for n in "AB"])
    row = batch.create_batch(ctx.repo, plan)
    alone = ctx.repo.create_project(name="C", content=SHORT_ZH, language="zh-TW")
    projects = [*batch.batch_projects(ctx.repo, row.id), alone]
    for project in projects:
        generate_script(ctx, project.id)
    scripts = [Script.model_validate(ctx.repo.get_project(p.id).script) for p in projects]
    segments = [len(s.segments) for s in scripts]
    for video_id in range(10, 10 + sum(segments)):
        server.add_video(video_id, f"Author {video_id}")
    clips = [1, 2, 3, 4, *range(10, 10 + sum(segments))]  # the landscape ones
    for segment in (s for script in scripts for s in script.segments):
        query = (segment.search_terms or [segment.image_description.strip()[:80]])[0]
        server.library[query.lower()] = clips  # any segment's search finds them all

    shown = []
    for project, script in zip(projects, scripts, strict=True):
        for segment in script.segments:
            picture = make_image(ctx, project.id, segment.index)
            shown.append((project.id, json.loads(credit_path(Path(picture)).read_text())["id"]))
    a, b, c = ({clip for owner, clip in shown if owner == p.id} for p in projects)
    assert len(a) == segments[0] and len(b) == segments[1]  # no clip twice in one video
    assert not a & b  # nor twice in the batch
    assert c == set(clips[: segments[2]])  # a video outside the batch may show them again
