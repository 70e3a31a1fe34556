"""Infrastructure faults injected for real: Redis and databases that go away, full or read-only
disks, corrupt files, failing FFmpeg. Each must end in a clear error, never a crash or a leak."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy.engine import make_url

from tests.helpers import FAST_RULES, postgres_url
from ytmaker import db, progress
from ytmaker.bookkeeping import project_state, run_stage
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.context import Context
from ytmaker.errors import MediaError, StorageError
from ytmaker.media.runner import run_args
from ytmaker.models import AssetStatus, AssetType, ProjectStatus
from ytmaker.pipeline import assets, render, script
from ytmaker.state import state_path

ROOT = Path(__file__).resolve().parent.parent
# Random, so no other test has registered it with the log scrubber (ytmaker.redaction): these
# tests check that our code never writes the password in the first place.
SECRET = f"pw{uuid.uuid4().hex[:12]}"
CONTENT = "夜市\n夜市的燈光亮起來了。\n攤販開始準備小吃。"


# --- helpers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def no_secret(*texts: object, secret: str = SECRET) -> None:
    """The password appears nowhere the user or a log collector could read."""
    for text in texts:
        assert secret not in json.dumps(text, default=str, ensure_ascii=False)


def warnings_from(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelname == "WARNING"]


def new_project(ctx: Context) -> int:
    return ctx.repo.create_project(name="夜市", content=CONTENT, language="zh-TW").id


def make_assets(ctx: Context, project_id: int, *, pictures: bool = True) -> None:
    """The asset stage without Prefect: voices, then (optionally) images and avatars."""
    with run_stage(ctx, project_id, "assets") as report:
        jobs = assets.voice_jobs(ctx, project_id)
        seconds = [assets.synthesize_piece(ctx, project_id, job.index) for job in jobs]
        report(40, "voices done")
        assets.record_durations(ctx, project_id, seconds)
        if pictures:
            for job in assets.image_jobs(ctx, project_id):
                assets.make_image(ctx, project_id, int(job.index))
            for role in ("intro", "outro"):
                assets.make_avatar(ctx, project_id, role)


def use_redis(monkeypatch: pytest.MonkeyPatch, url: str) -> Settings:
    """Settings built directly: get_settings() would hand the password to the log scrubber."""
    monkeypatch.setenv("REDIS_URL", url)
    return Settings()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """chmod a-w; as root, whom chmod does not stop, the immutable flag as well."""
    folder.chmod(0o555)
    root = os.geteuid() == 0
    if root and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        folder.chmod(0o755)
        pytest.skip("running as root without chattr: cannot make a folder read-only")
    try:
        yield
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


class RedisServer:
    """A second, password-protected redis-server we may kill and start again on its port."""

    def __init__(self, workdir: Path, password: str = SECRET) -> None:
        self.workdir, self.password, self.port = workdir, password, free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        cmd += ["--appendonly", "no", "--dir", str(self.workdir), "--requirepass", self.password]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, socket_timeout=5)


@pytest.fixture
def spare_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


class Listener:
    """Collects a project's progress messages from the channel, as `ytmaker watch` would."""

    def __init__(self, server: RedisServer, project_id: int) -> None:
        self.pubsub = server.client().pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(progress.channel(project_id))

    def drain(self, seconds: float = 0.5) -> list[dict]:
        found, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=0.1)
            if message is not None:
                found.append(json.loads(message["data"]))
        return found


class FlakyPostgres:
    """A TCP hop to PostgreSQL that can drop every connection and come back: a DB restart."""

    def __init__(self, host: str, port: int) -> None:
        self.target, self.port = (host, port), free_port()
        self.stop = threading.Event()
        self.conns: list[socket.socket] = []

    def up(self) -> None:
        self.stop.clear()
        server = socket.create_server(("127.0.0.1", self.port))
        server.settimeout(0.05)
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def down(self) -> None:
        self.stop.set()
        time.sleep(0.1)  # the accept loop sees the flag and closes the port
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns.clear()

    def _accept(self, server: socket.socket) -> None:
        with server:
            while not self.stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(self.target)
                self.conns += [client, upstream]
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


# --- a. Redis down at start, down mid-run, back again; passwords never shown ------------------


@pytest.mark.parametrize(
    "scheme",
    ["redis", "rediss"],
    ids=["nothing-listening", "rediss-nothing-listening"],
)
def test_redis_down_at_start_warns_once_and_stages_complete(
    scheme: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = use_redis(monkeypatch, f"{scheme}://:{SECRET}@127.0.0.1:{free_port()}/0")
    first, second = bootstrap(settings), bootstrap(settings)  # as two tasks would
    project_id = new_project(first)
    script.run(first, project_id)
    make_assets(second, project_id, pictures=False)
    stored = first.repo.get_project(project_id)
    assert stored.status is ProjectStatus.ASSETS_GENERATED
    warned = warnings_from(caplog, "ytmaker.progress")
    assert len(warned) == 1, warned  # not one per message, nor one per task
    assert f"{scheme}://127.0.0.1:" in warned[0]
    no_secret(caplog.text, stored.error_info, project_state(first, project_id))


def test_redis_wrong_password_warns_once_without_the_password(
    spare_redis: RedisServer, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = SECRET[::-1]
    ctx = bootstrap(use_redis(monkeypatch, f"redis://:{wrong}@127.0.0.1:{spare_redis.port}"))
    project_id = new_project(ctx)
    script.run(ctx, project_id)
    assert ctx.repo.get_project(project_id).status is ProjectStatus.SCRIPT_GENERATED
    assert len(warnings_from(caplog, "ytmaker.progress")) == 1
    no_secret(caplog.text, secret=wrong)


def test_redis_dying_mid_run_warns_once_and_progress_resumes_when_it_is_back(
    spare_redis: RedisServer, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(progress, "RETRY_AFTER", 0.3)  # the breaker's pause, shortened
    ctx = bootstrap(use_redis(monkeypatch, spare_redis.url))
    project_id = new_project(ctx)
    listener = Listener(spare_redis, project_id)
    script.run(ctx, project_id)
    assert listener.drain()[-1]["progress"] == 100

    with run_stage(ctx, project_id, "assets") as report:
        report(10, "before the outage")
        spare_redis.kill()
        for step in range(20, 100, 10):
            report(step, "during the outage")
            time.sleep(0.05)  # spans several breaker pauses: each retry fails again
        jobs = assets.voice_jobs(ctx, project_id)
        seconds = [assets.synthesize_piece(ctx, project_id, job.index) for job in jobs]
        assets.record_durations(ctx, project_id, seconds)
    assert ctx.repo.get_project(project_id).status is ProjectStatus.ASSETS_GENERATED
    assert len(warnings_from(caplog, "ytmaker.progress")) == 1

    spare_redis.start()  # same port, empty
    listener = Listener(spare_redis, project_id)
    time.sleep(0.4)
    script.run(ctx, project_id)  # reuses the script; reports as usual
    messages = listener.drain()
    assert [m["stage"] for m in messages][-1] == "script_generation"
    assert messages[-1]["progress"] == 100
    bus = progress.ProgressBus(
        spare_redis.client(), installation=ctx.settings.installation_id
    )  # each installation keeps its own latest message
    assert bus.latest(project_id)["progress"] == 100
    assert "Progress published again" in caplog.text
    assert len(warnings_from(caplog, "ytmaker.progress")) == 1
    no_secret(caplog.text, ctx.repo.get_project(project_id).error_info)


# --- b. database unavailable ----------------------------------------------------------------


def test_postgres_nothing_listening_retries_then_names_the_database_without_password(
    caplog,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    repo = db.Repository(f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/test")
    started = time.monotonic()
    with pytest.raises(StorageError) as err:
        repo.get_project(1)
    elapsed = time.monotonic() - started
    assert sum(db.RETRY_DELAYS) <= elapsed < sum(db.RETRY_DELAYS) + 5  # brief, then gives up
    info = err.value.to_info()
    assert info["code"] == "DATABASE_UNAVAILABLE" and info["retryable"] is True
    assert f"postgresql+psycopg://postgres:***@127.0.0.1:{port}/test" in info["message"]
    assert "Check that it is running" in info["message"]
    assert caplog.text.count("retrying") == len(db.RETRY_DELAYS)
    no_secret(info, str(err.value), caplog.text)


def test_postgres_gone_for_a_moment_is_retried_and_nothing_is_lost(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    real = make_url(postgres_url())
    flaky = FlakyPostgres(real.host or "127.0.0.1", real.port or 5432)
    url = real.set(host="127.0.0.1", port=flaky.port).render_as_string(hide_password=False)
    repo = db.Repository(url)
    try:
        threading.Timer(0.3, flaky.up).start()  # not up yet when the first query runs
        project = repo.create_project(name="夜市", content=CONTENT, language="zh-TW")
        flaky.down()  # a restart: every open connection is dropped
        threading.Timer(0.3, flaky.up).start()
        repo.update_project(project.id, status=ProjectStatus.SCRIPT_GENERATED)
        stored = repo.get_project(project.id)
        assert stored.status is ProjectStatus.SCRIPT_GENERATED and stored.content == CONTENT
        assert len(repo.list_projects()) == 1  # the retried insert did not run twice
        assert "retrying" in caplog.text
    finally:
        flaky.down()
        db.dispose_engines()


def test_sqlite_in_an_unwritable_folder_is_a_clear_storage_error(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    with read_only(folder), pytest.raises(StorageError) as err:
        db.Repository(f"sqlite:///{folder / 'ytmaker.db'}").create_project(name="x", content="y")
    assert err.value.code == "DATABASE_UNAVAILABLE"
    assert str(folder / "ytmaker.db") in err.value.message
    assert "folder is readable and writable" in err.value.message
    db.dispose_engines()


def test_sqlite_file_of_garbage_is_a_clear_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "ytmaker.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(StorageError) as err:
        db.Repository(f"sqlite:///{path}").list_projects()
    assert "not a database" in err.value.message and str(path) in err.value.message
    assert err.value.retryable is False  # no waiting on a file no retry can mend
    db.dispose_engines()


# --- c, e. the render stage: unwritable output, full disk, FFmpeg failures --------------------


def build_once(
    factory: pytest.TempPathFactory, make: Callable[[Context, int], None] | None = None
) -> tuple[Path, int]:
    """One offline project made (its assets by `make`) and rendered, for a module's tests to
    copy: its clips are then cached."""
    data = factory.mktemp("built") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YTMAKER_DATA_DIR", str(data))
        for name, value in FAST_RULES.items():
            patch.setenv(name, value)
        ctx = bootstrap(reload_settings())
        project_id = new_project(ctx)
        script.run(ctx, project_id)
        (make or make_assets)(ctx, project_id)
        render.run(ctx, project_id)
        db.dispose_engines()
    reload_settings()
    return data, project_id


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """One project rendered once (about 20 s): tests copy it."""
    return build_once(tmp_path_factory)


@pytest.fixture
def project(built: tuple[Path, int], settings: Settings) -> tuple[Context, int]:
    """A copy of the built project, ready to render again, without its final video."""
    source, project_id = built
    shutil.copytree(source, settings.data_dir)
    for name in ("video.mp4", "video.srt"):
        (settings.project_dir(project_id) / "output" / name).unlink()
    return bootstrap(settings), project_id


def failed_render(ctx: Context, project_id: int) -> tuple[BaseException, dict]:
    """Render, which must fail; the project must say FAILED and why."""
    with pytest.raises(Exception) as err:  # noqa: B017 - what it is, is checked by the caller
        render.run(ctx, project_id)
    stored = ctx.repo.get_project(project_id)
    assert stored.status is ProjectStatus.FAILED
    assert stored.error_info["stage"] == "render"
    return err.value, stored.error_info


def no_final_video(ctx: Context, project_id: int) -> None:
    """Neither the video nor a half-written temp of it is left in output/."""
    output = ctx.project_dir(project_id) / "output"
    assert not (output / "video.mp4").exists()
    assert not [p.name for p in output.iterdir() if "video" in p.name]


def test_read_only_output_folder_fails_the_render_clearly(project: tuple[Context, int]) -> None:
    ctx, project_id = project
    output = ctx.project_dir(project_id) / "output"
    with read_only(output):
        error, info = failed_render(ctx, project_id)
    assert isinstance(error, OSError)
    assert info["code"] == "NOT_WRITABLE" and str(output) in info["message"]
    no_final_video(ctx, project_id)
    final = [a for a in ctx.repo.assets(project_id) if a.type is AssetType.FINAL_VIDEO]
    assert final[-1].status is AssetStatus.FAILED


def test_read_only_project_folder_fails_before_any_work(project: tuple[Context, int]) -> None:
    ctx, project_id = project
    with read_only(ctx.project_dir(project_id)):
        error, info = failed_render(ctx, project_id)
    assert isinstance(error, StorageError) and info["code"] == "DATA_DIR_UNWRITABLE"
    assert "YTMAKER_DATA_DIR" in info["message"]
    no_final_video(ctx, project_id)


def test_disk_full_during_the_final_mux_leaves_no_truncated_video(
    project: tuple[Context, int],
) -> None:
    """RLIMIT_FSIZE in a child process: every file may grow to `limit`, the video needs more."""
    ctx, project_id = project
    folder = ctx.project_dir(project_id)
    clips = [p.stat().st_size for p in (folder / "work" / "clips").glob("*.mp4")]
    written = [*clips, *(p.stat().st_size for p in (folder / "work" / "audio").glob("*.m4a"))]
    limit, whole = max(written) + (256 << 10), sum(clips)
    assert limit < whole  # the clips fit one by one, the joined video does not
    code = (
        "import resource, sys\n"
        "limit = int(sys.argv[2])\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
        "from ytmaker.pipeline import render\n"
        "from ytmaker.bootstrap import bootstrap\n"
        "render.run(bootstrap(), int(sys.argv[1]))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code, str(project_id), str(limit)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 1 and "MediaError" in child.stderr, child.stderr[-2000:]
    stored = ctx.repo.get_project(project_id)
    assert stored.status is ProjectStatus.FAILED
    assert stored.error_info["step"] == "mux" and "SIGXFSZ" in stored.error_info["message"]
    assert "disk or quota is full" in stored.error_info["message"]
    no_final_video(ctx, project_id)


def test_corrupt_input_image_puts_ffmpeg_stderr_in_error_info(
    project: tuple[Context, int],
) -> None:
    ctx, project_id = project
    image = ctx.project_dir(project_id) / "images" / "segment_001.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))  # a PNG signature, then noise
    error, info = failed_render(ctx, project_id)
    assert isinstance(error, MediaError) and info["code"] == "MEDIA_ERROR"
    assert info["step"].startswith("piece ") and info["ffmpeg_stderr"].strip()
    assert len(info["ffmpeg_stderr"].splitlines()) <= 15
    no_final_video(ctx, project_id)


def test_truncated_avatar_fails_the_render_instead_of_freezing_the_presenter(
    project: tuple[Context, int],
) -> None:
    ctx, project_id = project
    avatar = ctx.project_dir(project_id) / "avatar" / "intro.mp4"
    avatar.write_bytes(avatar.read_bytes()[: avatar.stat().st_size // 3])  # headers intact
    clips_dir = ctx.project_dir(project_id) / "work" / "clips"
    clips = set(clips_dir.glob("*.mp4"))
    error, info = failed_render(ctx, project_id)
    assert isinstance(error, MediaError) and "truncated" in info["message"]
    assert info["piece_index"] == 0 and "partial file" in info["ffmpeg_stderr"]
    assert set(clips_dir.glob("*.mp4")) == clips  # the frozen clip is not cached
    no_final_video(ctx, project_id)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            [
                "-f",
                "lavfi",
                "-i",
                "testsrc=d=1:s=320x240",
                "-vf",
                "nosuchfilter",
                "-f",
                "null",
                "-",
            ],
            "No such filter",
        ),
        (
            ["-f", "lavfi", "-i", "testsrc=d=2:s=320x240", "-f", "mpegts", "-y", "/dev/full"],
            "No space left on device",
        ),
    ],
    ids=["impossible-filter", "dev-full"],
)
def test_ffmpeg_failure_in_a_stage_keeps_the_stderr_tail(
    args: list[str], expected: str, settings: Settings
) -> None:
    ctx = bootstrap(settings)
    project_id = new_project(ctx)
    with pytest.raises((MediaError, StorageError)), run_stage(ctx, project_id, "render"):
        run_args(args, "probe step", media_seconds=1.0)
    info = ctx.repo.get_project(project_id).error_info
    assert expected in info["ffmpeg_stderr"] and info["step"] == "probe step"
    full = expected == "No space left on device"  # a full disk is said as one (issue 28)
    assert (info["code"] == "DISK_FULL") is full
    assert project_state(ctx, project_id)["error"]["ffmpeg_stderr"] == info["ffmpeg_stderr"]


# --- d. a corrupt project_state.json ---------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [os.urandom(64) + b"\xff\xfe", b'{"project_id": 1, "status": "scr', b"[1, 2, 3]"],
    ids=["garbage-bytes", "truncated-json", "json-list"],
)
def test_corrupt_state_file_is_rebuilt_from_the_database_with_one_warning(
    garbage: bytes, settings: Settings, caplog
) -> None:
    ctx = bootstrap(settings)
    project_id = new_project(ctx)
    script.run(ctx, project_id)
    path = state_path(ctx.project_dir(project_id))
    path.write_bytes(garbage)

    make_assets(ctx, project_id, pictures=False)  # updating: rebuilt, then merged
    assert len(warnings_from(caplog, "ytmaker.state")) == 1
    state = json.loads(path.read_text("utf-8"))
    assert state["project_id"] == project_id and state["status"] == "assets_generated"
    assert state["script"]["title"] == "夜市" and state["script"]["segments"] == 2
    assert state["stages"] == {"script": {"status": "completed"}, "assets": {"status": "completed"}}
    assert state["assets"]["audio:0"]["status"] == "completed"

    path.write_bytes(garbage)  # reading: rebuilt too
    again = project_state(ctx, project_id)
    assert again["status"] == "assets_generated" and set(again["assets"]) == set(state["assets"])
    assert len(warnings_from(caplog, "ytmaker.state")) == 2  # one per corruption
    assert json.loads(path.read_text("utf-8"))["project_id"] == project_id
