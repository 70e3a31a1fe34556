"""pytest plugin for bench/suite.py: each test's wall-clock span (its set-up and tear-down
included) and the pid of the process that ran it, appended to $BENCH_SUITE_TIMELINE."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

# not YTMAKER_*: the suite's conftest clears those before pytest-xdist starts its workers
TIMELINE = os.environ.get("BENCH_SUITE_TIMELINE")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    started = time.time()
    yield
    if TIMELINE:
        with open(TIMELINE, "a", encoding="utf-8") as timeline:
            timeline.write(f"{os.getpid()}\t{started:.2f}\t{time.time():.2f}\t{item.nodeid}\n")
