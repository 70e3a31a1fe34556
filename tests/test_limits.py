"""Image slots: a bound on images in flight shared with other workers through the Prefect API,
and slot calls that ride out a busy Prefect server within milliseconds."""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from prefect import flow
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.settings import PREFECT_API_URL, temporary_settings

from tasks import limits
from tasks.assets import Window, generate_image
from tasks.limits import IMAGES_IN_FLIGHT, ensure_limits, image_slot, slot_client
from tests.servers import FakeServer, Reply, Request
from tests.servers.stability import FakeStability
from tests.test_resilience import IMAGES, content, prompts, stability  # noqa: F401 - fixture
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, reload_settings
from ytmaker.pipeline.assets import image_jobs
from ytmaker.pipeline.script import run as generate_script


@flow(name="images-only")
def make_images(project_id: int) -> None:
    ctx = bootstrap()
    ensure_limits(ctx.settings)
    jobs = image_jobs(ctx, project_id)
    for _job, future in Window(
        generate_image, ctx, project_id, jobs, ctx.settings.image_concurrency
    ).finished():
        future.result()


@pytest.mark.slow
def test_images_in_flight_stay_within_the_limit_shared_with_another_worker(
    stability: FakeStability,  # noqa: F811 - the fixture
    prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YTMAKER_IMAGE_CONCURRENCY", "2")
    ctx = bootstrap(reload_settings())
    ensure_limits(ctx.settings)
    project = ctx.repo.create_project(name="夜市", content=content(), language="zh-TW")
    generate_script(ctx, project.id)
    stability.slow(1.0, path_contains=IMAGES)  # long enough for both slots to overlap
    # Another worker's image holds one of the two slots until this project's images have been
    # drawing for 1.5 s (counted from the first request: a loaded machine starts tasks late).
    lease = slot_client().increment_concurrency_slots_with_lease(
        [IMAGES_IN_FLIGHT], 1, "concurrency", 60
    )
    seen_while_held: list[int] = []

    def give_back() -> None:
        deadline = time.monotonic() + 120
        while stability.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(1.5)
        seen_while_held.append(stability.most_in_flight)
        slot_client().release_concurrency_slots_with_lease(lease.json()["lease_id"])

    holder = threading.Thread(target=contextvars.copy_context().run, args=(give_back,))
    holder.start()
    make_images(project.id)
    holder.join()

    assert seen_while_held == [1]  # one slot was left to this project
    assert stability.most_in_flight == 2  # then both, never more
    assert sorted(prompts(stability).values()) == [1] * 6


class FakePrefectSlots(FakeServer):
    """The lease endpoints of the Prefect API, as a SQLite-backed server answers them."""

    name = "prefect"

    def route(self, request: Request) -> Reply:
        limit = {"id": str(uuid.uuid4()), "name": IMAGES_IN_FLIGHT, "limit": 2}
        if request.path.endswith("/v2/concurrency_limits/increment-with-lease"):
            return Reply(200, {"lease_id": str(uuid.uuid4()), "limits": [limit]})
        if request.path.endswith("/v2/concurrency_limits/decrement-with-lease"):
            return Reply(204)
        if request.path.endswith("/renew"):
            return Reply(204)
        return Reply(404, {"detail": "Not Found"})

    def error(self, status: int, reason: str | None = None, message: str | None = None) -> Reply:
        return Reply(status, {"exception_message": message or "Service Unavailable"})


@pytest.fixture
def prefect_api(settings: Settings) -> Iterator[FakePrefectSlots]:
    with FakePrefectSlots() as server, temporary_settings({PREFECT_API_URL: f"{server.url}/api"}):
        yield server


def test_a_busy_prefect_server_is_asked_again_within_milliseconds(
    prefect_api: FakePrefectSlots,
) -> None:
    lease = "/increment-with-lease"
    prefect_api.fail_next(503, times=2, path_contains=lease)  # "database is locked"
    prefect_api.drop_next(path_contains=lease)  # the connection the server closed after a 503
    with image_slot("PillowImages", 2):
        pass
    tries = prefect_api.requests_to(lease)
    assert len(tries) == 4
    gaps = [b.received - a.received for a, b in zip(tries, tries[1:], strict=False)]
    assert max(gaps) < 1.0  # the Prefect client on its own waits 2 s or more after each
    assert len(prefect_api.requests_to("/decrement-with-lease")) == 1


def test_a_slot_that_cannot_be_given_back_does_not_fail_the_image(
    prefect_api: FakePrefectSlots, caplog: pytest.LogCaptureFixture
) -> None:
    prefect_api.fail_next(500, "server bug", times=1, path_contains="/decrement-with-lease")
    made = []
    with image_slot("PillowImages", 2):
        made.append("image")
    assert made == ["image"]
    assert "not released" in caplog.text and "frees itself within 60 s" in caplog.text


def test_a_slot_held_long_keeps_its_lease_alive(
    prefect_api: FakePrefectSlots, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "LEASE_SECONDS", 0.6)
    with image_slot("PillowImages", 2):
        time.sleep(0.9)
    taken = prefect_api.requests_to("/increment-with-lease")[0]
    lease_id = None
    for request in prefect_api.requests_to("/decrement-with-lease"):
        lease_id = request.json()["lease_id"]
    renewals = prefect_api.requests_to("/renew")
    assert len(renewals) >= 2 and all(lease_id in r.path for r in renewals)
    assert taken.json()["lease_duration"] == pytest.approx(0.6)


@pytest.mark.slow
def test_pexels_requests_wait_for_the_rate_limit_every_worker_shares(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """PEXELS_REQUESTS_PER_HOUR tokens for all workers together: once another worker has spent
    them, a request here is not sent until one comes back (N/3600 a second)."""
    from functools import partial

    from tests.servers.pexels import FakePexels
    from tests.test_provider_pexels import KEY, maker
    from ytmaker.providers.base import gated

    monkeypatch.setenv("PEXELS_REQUESTS_PER_HOUR", "1800")  # a token back every 2 s
    ensure_limits(reload_settings())
    found = slot_client().read_global_concurrency_limit_by_name(limits.RATE_LIMITS["pexels"])
    assert (found.limit, found.slot_decay_per_second) == (1800, 0.5)
    (tmp_path / "served").mkdir()
    pexels = FakePexels(tmp_path / "served", KEY)
    pexels.add_video(1, "Ann Lee")
    pexels.library = {"tea garden": [1]}
    with pexels:
        # another worker's burst has spent the hour's quota. Set as the limit's state, not
        # spent from a read of it: a read gives active_slots as last written, before the decay
        # since (earlier tests on this session's API spent some), so "what is left" was stale.
        spent = time.monotonic()
        slot_client().update_global_concurrency_limit(
            found.name, GlobalConcurrencyLimitUpdate(active_slots=found.limit)
        )
        with gated(partial(image_slot, "pexels", 4)):
            maker(pexels, tmp_path).make(
                "x", 1, tmp_path / "p" / "images" / "s1.png", ["tea garden"]
            )
        first = min(request.received for request in pexels.requests)
    assert first - spent >= 1.0, first - spent  # it waited for a token to come back
    assert [r.path for r in pexels.requests][0].startswith("/videos/search")
