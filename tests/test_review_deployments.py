"""The review step on `make up`'s kind of stack: a real Prefect server, the deployments of
prefect.yaml and a process worker, uploads going to the local YouTube server
(tests/servers/youtube.py). A run waiting for review is suspended (the worker is free); it is
resumed through the API the UI's Resume button calls, or by `ytmaker review ID`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.servers.stability import FakeStability
from tests.servers.youtube import FakeYouTube
from tests.stack import (
    POOL,
    PREFECT,
    ROOT,
    RUN_TIMEOUT,
    Server,
    Stack,
    paused,
    running_stack,
    start,
    stop,
    wait,
)
from tests.test_batch import SHORT_EN, SHORT_ZH
from tests.test_ui_deployments import _api, _artifacts, _children, _submit
from ytmaker.db import Repository
from ytmaker.models import ProjectStatus

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
UPLOADS = "/upload/youtube/v3/videos"


@pytest.fixture
def youtube() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


@pytest.fixture
def stability() -> Iterator[FakeStability]:
    with FakeStability() as fake:
        yield fake


def _upload_env(tmp: Path, youtube: FakeYouTube, **extra: str) -> dict[str, str]:
    """Settings uploading to the local YouTube server, with a render slot of this stack's own
    (other test runs on the machine render meanwhile)."""
    token = tmp / "token.json"
    expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token.write_text(
        json.dumps(
            {"token": youtube.access_token, "refresh_token": "r", "client_id": "c",
             "client_secret": "s", "expiry": expiry}
        ),
        encoding="utf-8",
    )  # fmt: skip
    env = {
        "YTMAKER_PUBLISHER": "youtube",
        "YOUTUBE_TOKEN_FILE": str(token),
        "YOUTUBE_API_ENDPOINT": youtube.url,
        "YOUTUBE_UPLOAD_CHUNK_SIZE": str(256 * 1024),
        "YTMAKER_MACHINE_DIR": str(tmp / "machine"),
        **extra,
    }
    if os.environ.get("REDIS_URL"):  # the test session's own Redis, if it has one
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


@pytest.fixture
def stack(
    prefect_server: Server, tmp_path: Path, youtube: FakeYouTube, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """make up's stack uploading to the local YouTube server; `request.param`: more settings
    (YTMAKER_IMAGE_PROVIDER=stability: pictures from the local Stability server)."""
    env = _upload_env(tmp_path, youtube, **getattr(request, "param", {}))
    if env.get("YTMAKER_IMAGE_PROVIDER") == "stability":
        images: FakeStability = request.getfixturevalue("stability")
        env.update(STABILITY_API_KEY=images.api_key, STABILITY_BASE_URL=images.url)
    with running_stack(prefect_server, tmp_path, **env) as running:  # zombie automation on
        yield running


@dataclass
class Held:
    """A video with review on, submitted on a stack of its own when this module starts."""

    stack: Stack
    youtube: FakeYouTube
    project: Any
    run: Any


@pytest.fixture(scope="module", autouse=True)
def held(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Held | None]:
    """Started before the module's first test when the last one (which needs its run suspended
    past the zombie automation's 90 s) is selected: that wait passes while the others run."""
    wanted = "test_suspended_run_approved_through_the_api_uploads_the_edited_title_once"
    if not any(item.name == wanted for item in request.session.items):
        yield None
        return
    server: Server = request.getfixturevalue("prefect_server")
    tmp = tmp_path_factory.mktemp("held")
    with FakeYouTube() as youtube, running_stack(server, tmp, **_upload_env(tmp, youtube)) as on:
        repo = Repository(on.database_url)
        project = repo.create_project(
            name="早餐店審核", content=SHORT_ZH, language="zh-TW", review_required=True
        )
        with _api(on.api_url) as client:
            run = _submit(client, on.queue, "video-generation", {"project_id": project.id})
        yield Held(on, youtube, project, run)


def _waiting_video(
    repo: Repository, client, queue: str, name: str, content: str, language: str
) -> tuple:
    """A project with review on, made by a video-generation run until it waits:
    (project, run, the run as it waits)."""
    project = repo.create_project(
        name=name, content=content, language=language, review_required=True
    )
    run = _submit(client, queue, "video-generation", {"project_id": project.id})
    return project, run, paused(client, run.id)


def _ytmaker(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ytmaker_cli", *args],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def test_new_videos_with_review_approved_and_rejected_from_the_command_line(
    stack: Stack, youtube: FakeYouTube
) -> None:
    repo = Repository(stack.database_url)
    form = {"content": SHORT_EN, "language": "en", "review": "upload"}
    with _api(stack.api_url) as client:
        runs = {
            verdict: _submit(
                client, stack.queue, "new-video", {"video": {**form, "name": f"Tea {verdict}"}}
            )
            for verdict in ("approve", "reject")
        }
        projects = {}
        for verdict, run in runs.items():
            paused(client, run.id)  # the new-video run itself waits: its video is a sub-flow
            (child,) = _children(client, run.id)
            assert child.state.is_completed()
            projects[verdict] = repo.get_project(child.parameters["project_id"])
            assert projects[verdict].status is ProjectStatus.AWAITING_REVIEW
            assert projects[verdict].review_required is True

        approve = _ytmaker(
            stack, "review", str(projects["approve"].id), "--approve", "--title", "Tea, approved"
        )
        reject = _ytmaker(
            stack, "review", str(projects["reject"].id), "--reject", "--reason", "Wrong tone"
        )
        for verdict, said in (("approve", approve), ("reject", reject)):
            assert said.returncode == 0, said.stderr
            assert f"its run {runs[verdict].id} was resumed" in " ".join(said.stderr.split())
        done = wait(client, [run.id for run in runs.values()], RUN_TIMEOUT)
        assert all(run.state.is_completed() for run in done.values()), done
    published = repo.get_project(projects["approve"].id)
    assert published.status is ProjectStatus.COMPLETED and published.youtube_video_id
    (metadata,) = youtube.metadata_json()
    assert metadata["snippet"]["title"] == "Tea, approved"
    rejected = repo.get_project(projects["reject"].id)
    assert rejected.status is ProjectStatus.REJECTED
    assert rejected.review["decision"]["reason"] == "Wrong tone"
    assert len(youtube.requests_to(UPLOADS, "POST")) == 1


@pytest.mark.parametrize("stack", [{"YTMAKER_REVIEW_TIMEOUT": "5"}], indirect=True)
def test_an_unanswered_review_expires_and_can_still_be_approved(
    stack: Stack, youtube: FakeYouTube
) -> None:
    repo = Repository(stack.database_url)
    with _api(stack.api_url) as client:
        project, run, _ = _waiting_video(repo, client, stack.queue, "Tea, late", SHORT_EN, "en")
        expired = wait(client, [run.id], 120)[run.id]  # the server's pause-expiration service
        assert expired.state.is_failed() and "never resumed" in expired.state.message
    listed = _ytmaker(stack, "review", "--json")
    assert [row["status"] for row in json.loads(listed.stdout)] == ["REVIEW_EXPIRED"]
    late = _ytmaker(stack, "review", str(project.id), "--approve")
    assert late.returncode == 0, late.stderr
    assert f"Run {run.id} is not waiting any more" in " ".join(late.stderr.split())
    assert repo.get_project(project.id).status is ProjectStatus.COMPLETED
    assert len(youtube.requests_to(UPLOADS, "POST")) == 1


IMAGES = "/v2beta/stable-image/generate"


def _kill_worker(stack: Stack) -> None:
    """SIGKILL this stack's worker and everything in its process group (found by its name, of
    the stack's own queue: no other stack's worker is touched)."""
    name = f"worker-{stack.queue}".encode()
    killed = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in command and name in command:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(proc.name), signal.SIGKILL)
                killed += 1
    assert killed, "the stack's worker was not found"


@pytest.mark.timeout(1500)
@pytest.mark.parametrize("stack", [{"YTMAKER_IMAGE_PROVIDER": "stability"}], indirect=True)
def test_a_script_edited_in_the_resume_form_reaches_the_voice_and_the_subtitles(
    stack: Stack, youtube: FakeYouTube, stability: FakeStability, tmp_path: Path
) -> None:
    from ytmaker.providers.local.voice import EspeakVoice
    from ytmaker.script import Script

    repo = Repository(stack.database_url)
    edited = "老闆娘的蘿蔔糕煎得金黃酥脆。"
    with _api(stack.api_url) as client:
        project = repo.create_project(
            name="早餐店腳本", content=SHORT_ZH * 3, language="zh-TW", review_mode="script"
        )
        run = _submit(client, stack.queue, "video-generation", {"project_id": project.id})
        waiting = paused(client, run.id)
        assert waiting.state.name == "Suspended"  # the worker is free while a person reads
        held = repo.get_project(project.id)
        assert held.status is ProjectStatus.AWAITING_REVIEW and held.review["reason"] == "script"
        assert stability.requests_to(IMAGES) == [] and repo.assets(project.id) == []
        script = Script.model_validate(held.script)
        (artifact,) = _artifacts(client, run.id, f"video-{project.id}-script")
        assert "| piece | text | image description | planned seconds |" in artifact
        assert f"| segments[2] | {script.segments[1].text} |" in artifact
        # the form the UI draws: every piece prefilled, with its limits
        key = f"suspended-{held.review['pause_key']}-schema"
        schema = json.loads(client.read_flow_run_input(run.id, key))
        second = schema["properties"]["segment_2_text"]
        assert (second["default"], second["maxLength"]) == (script.segments[1].text, 500)
        assert schema["properties"]["intro"]["default"] == script.intro.text
        assert "segment_2_image_description" in schema["properties"]

        # the server refuses what the form says; a script rule refuses the rest, and it waits
        refused = client.resume_flow_run(
            run.id, run_input={"decision": "approve", "segment_2_text": "字" * 501}
        )
        assert refused.status.value == "REJECT" and "segment_2_text" in refused.details.reason
        too_long = client.resume_flow_run(
            run.id, run_input={"decision": "approve", "segment_2_text": "很長很長的句子，" * 14}
        )
        assert too_long.status.value == "ACCEPT", too_long.details
        paused(client, run.id)
        again = repo.get_project(project.id)
        assert again.review["pause_key"] == f"review-{project.id}-2"
        assert "segments[2].text: takes about 26s to say" in again.review["refused"]
        assert stability.requests_to(IMAGES) == []  # still nothing paid for
        (artifact,) = _artifacts(client, run.id, f"video-{project.id}-script")
        assert "Your last edit was refused" in artifact

        # the machine dies while the run waits; another worker takes it up when it is resumed
        _kill_worker(stack)
        second = start(
            [PREFECT, "worker", "start", "--pool", POOL, "--work-queue", stack.queue,
             "--name", f"second-{stack.queue}"],
            stack.env,
            stack.logs / "second-worker.log",
        )  # fmt: skip
        try:
            assert client.read_flow_run(run.id).state.is_paused()
            form = {"decision": "approve", "segment_2_text": edited, "title": "早餐店，改過"}
            approved = client.resume_flow_run(run.id, run_input=form)
            assert approved.status.value == "ACCEPT", approved.details
            done = wait(client, [run.id], 3 * RUN_TIMEOUT)[run.id]  # a whole video; busy machine
        finally:
            stop(second)
        assert done.state.is_completed(), done.state
        twice = client.resume_flow_run(run.id, run_input={"decision": "approve"})
        assert twice.status.value == "ABORT"  # not waiting any more: approving twice goes once
    made = repo.get_project(project.id)
    assert made.status is ProjectStatus.COMPLETED
    assert made.review["script"]["decided_by"] == "prefect-ui"
    assert made.review["script"]["decision"]["changed"] == ["segments[2].text"]
    final = Script.model_validate(made.script)
    assert final.segments[1].text == edited and final.metadata.title == "早餐店，改過"
    # each picture drawn once, from the script as approved
    prompts = [r.form["prompt"] for r in stability.requests_to(IMAGES, "POST")]
    assert sorted(prompts) == sorted(s.image_description for s in final.segments)
    # the voice said the edited words: as long as the offline voice takes to say them
    voice = EspeakVoice()
    spoken = voice.synthesize(edited, "zh-TW", tmp_path / "edited.wav")
    written = voice.synthesize(script.segments[1].text, "zh-TW", tmp_path / "written.wav")
    assert abs(spoken - written) > 0.2  # the two texts take audibly different times to say
    assert final.segments[1].audio_duration == pytest.approx(spoken, abs=0.05)
    srt = stack.data_dir / "projects" / str(project.id) / "output" / "video.srt"
    assert edited.rstrip("。") in srt.read_text(encoding="utf-8").replace("\n", "")
    (metadata,) = youtube.metadata_json()
    assert metadata["snippet"]["title"] == "早餐店，改過"
    assert len(youtube.requests_to(UPLOADS, "POST")) == 1


def test_suspended_run_approved_through_the_api_uploads_the_edited_title_once(
    held: Held,
) -> None:
    from prefect.client.schemas.filters import FlowRunFilter

    stack, youtube, project, run = held.stack, held.youtube, held.project, held.run
    repo = Repository(stack.database_url)
    with _api(stack.api_url) as client:
        waiting = paused(client, run.id)  # made while the module's other tests ran
        assert waiting.state.name == "Suspended"  # the process ended: the worker is free
        # no heartbeat comes from a suspended run: the zombie automation (90 s) leaves it be
        time.sleep(max(0.0, 100 - (datetime.now(UTC) - waiting.state.timestamp).total_seconds()))
        assert client.read_flow_run(run.id).state.is_paused()
        kept = repo.get_project(project.id)
        assert kept.status is ProjectStatus.AWAITING_REVIEW
        assert kept.review["flow_run_id"] == str(run.id) and kept.review["reason"] == "review"
        assert youtube.requests_to(UPLOADS, "POST") == []  # nothing published while it waits
        thumbnail = stack.data_dir / "projects" / str(project.id) / "output" / "thumbnail.jpg"
        before_review = thumbnail.read_bytes()
        (artifact,) = _artifacts(client, run.id, f"video-{project.id}-review")
        assert "data:image/jpeg;base64," in artifact and "video length" in artifact
        assert "## Subtitles" in artifact and "| images | pillow |" in artifact

        # the form Prefect shows: a field it refuses keeps the run waiting
        refused = client.resume_flow_run(
            run.id, run_input={"decision": "approve", "title": "x" * 101}
        )
        assert refused.status.value == "REJECT" and "title" in refused.details.reason
        assert client.read_flow_run(run.id).state.is_paused()
        # a rule the form cannot express: the run goes on, then waits again saying why
        past = client.resume_flow_run(
            run.id,
            run_input={"decision": "approve", "title": "x", "publish_at": "2020-01-01 08:00"},
        )
        assert past.status.value == "ACCEPT", past.details
        paused(client, run.id)
        again = repo.get_project(project.id)
        assert again.status is ProjectStatus.AWAITING_REVIEW
        assert again.review["pause_key"] == f"review-{project.id}-2"
        assert "publish_at: 2020-01-01T08:00:00+08:00 is in the past" in again.review["refused"]

        approved = client.resume_flow_run(
            run.id,
            run_input={"decision": "approve", "title": "UI 核准的標題", "privacy": "unlisted"},
        )
        assert approved.status.value == "ACCEPT", approved.details
        done = wait(client, [run.id], RUN_TIMEOUT)[run.id]
        assert done.state.is_completed(), done.state

        again = client.resume_flow_run(run.id, run_input={"decision": "approve", "title": "2"})
        assert again.status.value == "ABORT"  # not waiting any more
        # one review card, rewritten when it waited again; no two runs share a name
        assert len(_artifacts(client, run.id, f"video-{project.id}-review")) == 1
        ours = FlowRunFilter(work_queue_name={"any_": [stack.queue]})
        names = [
            r.name
            for r in client.read_flow_runs(flow_run_filter=ours)
            if r.parameters.get("project_id") == project.id or r.id == run.id
        ]
        assert len(names) == len(set(names)), names
    published = repo.get_project(project.id)
    assert published.status is ProjectStatus.COMPLETED
    assert published.review["decided_by"] == "prefect-ui"
    (metadata,) = youtube.metadata_json()
    assert metadata["snippet"]["title"] == "UI 核准的標題"
    assert metadata["status"]["privacyStatus"] == "unlisted"
    # the thumbnail sent with it shows the approved title, not the one drawn before review
    (sent,) = youtube.thumbnails.values()
    assert sent == thumbnail.read_bytes() != before_review
    shown = _ytmaker(stack, "status", str(project.id))
    assert "UI 核准的標題" in shown.stdout, shown.stderr

    twice = _ytmaker(stack, "review", str(project.id), "--approve")
    assert twice.returncode == 0 and "already published" in twice.stdout, twice.stderr
    assert len(youtube.requests_to(UPLOADS, "POST")) == 1  # approving twice uploaded once
