"""Shared limits (Prefect global concurrency limits), so projects running at once share them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency, rate_limit

from ytmaker.config import Settings

IMAGES_IN_FLIGHT = "ytmaker-images-in-flight"
# Stability AI allows 150 requests in 10 s: 150 slots that drain at 15 a second.
PROVIDER_RATES = {"StabilityImages": ("stability-requests", 150, 15.0)}


def ensure_limits(settings: Settings) -> None:
    """Create or resize the limits; `strict=True` below fails loudly if they are missing."""
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(IMAGES_IN_FLIGHT, settings.image_concurrency)
        for name, limit, decay in PROVIDER_RATES.values():
            client.upsert_global_concurrency_limit_by_name(name, limit, decay)


@contextlib.contextmanager
def image_slot(provider: str) -> Iterator[None]:
    """Hold one of the image slots, after taking a token from the provider's rate limit."""
    if provider in PROVIDER_RATES:
        rate_limit(PROVIDER_RATES[provider][0], strict=True)
    # A short lease: the slot of a worker that died comes back within a minute.
    with concurrency(IMAGES_IN_FLIGHT, occupy=1, strict=True, lease_duration=60):
        yield
