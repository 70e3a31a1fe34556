"""Retry and cache rules shared by every task: only errors a retry can fix are retried."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, ParamSpec, TypeVar

from prefect import Task
from prefect.cache_policies import INPUTS, TASK_SOURCE
from prefect.context import FlowRunContext, TaskRunContext
from prefect.transactions import IsolationLevel

from tasks.locks import LOCKS, shared_results
from ytmaker.attempt import Attempt
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings, get_settings
from ytmaker.context import Context
from ytmaker.providers import Providers

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def resumable_policy() -> Any:
    """Resume across runs (the default policy includes the run id and never hits in a new
    run). With results shared in Redis (several workers), two racers for one key take turns:
    the second reads the first's result instead of paying again (tasks/locks.py)."""
    policy = INPUTS + TASK_SOURCE
    if shared_results() is None:
        return policy
    return policy.configure(isolation_level=IsolationLevel.SERIALIZABLE, lock_manager=LOCKS)


RESUMABLE = {"cache_policy": resumable_policy(), "persist_result": True}


def current_attempt() -> Attempt:
    """This task run's try and its retry plan, from Prefect's run context."""
    run = TaskRunContext.get()
    if run is None:
        return Attempt()
    return Attempt(run.task_run.run_count, run.task.retries + 1, tuple(_delays(run.task)))


def task_context() -> Context:
    """The context of a task: a failure it will retry is then reported as a retry; the
    providers are the flow run's, built once for all its tasks."""
    settings = get_settings()
    return bootstrap(settings, attempt=current_attempt(), providers=run_providers(settings))


_run_providers: OrderedDict[Any, Providers] = OrderedDict()
_run_providers_lock = threading.Lock()
KEPT_RUNS = 16  # a worker process runs one flow run; in-process batches run a few at once


def run_providers(settings: Settings) -> Providers:
    """The providers of the flow run this task belongs to (a fresh set outside a flow run)."""
    run = FlowRunContext.get()
    if run is None or run.flow_run is None:
        return Providers(settings)
    with _run_providers_lock:
        key = run.flow_run.id
        if key not in _run_providers:
            _run_providers[key] = Providers(settings)
            while len(_run_providers) > KEPT_RUNS:
                _run_providers.popitem(last=False)
        return _run_providers[key]


def _delays(task: Task) -> list[float]:
    delays = task.retry_delay_seconds or [0]
    return [float(d) for d in (delays if isinstance(delays, list) else [delays])]


def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn (a plain function, as Prefect requires).

    When the provider's Retry-After is longer than our next delay, wait the difference here.
    """
    exc = state.result(raise_on_failure=False)
    attempt = Attempt(task_run.run_count, task.retries + 1, tuple(_delays(task)))
    retry_in = attempt.retry_in(exc) if isinstance(exc, BaseException) else None
    if retry_in is None:
        return False
    planned = attempt.planned_delay
    extra = retry_in - planned
    if extra > 0:
        log.info(
            "Provider asked to wait %.1f s; waiting %.1f s more than planned",
            extra + planned,
            extra,
        )
        time.sleep(extra)
    return True


def configured(task: Task[P, R], settings: Settings, **options: Any) -> Task[P, R]:
    """The task with the retry settings in force now (decorators run at import time)."""
    return task.with_options(
        retries=settings.retries,
        retry_delay_seconds=list(settings.retry_delays),
        retry_jitter_factor=settings.retry_jitter,
        retry_condition_fn=retry_condition,
        **options,
    )
