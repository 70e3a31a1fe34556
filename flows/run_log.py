"""What a run's log (the Prefect UI's Logs tab) says when a run fails for a reason the user can
act on: one line, not a traceback.

Prefect logs every failure with its traceback, twice on a worker (the flow's "Encountered
exception" and the engine's "Engine execution exited with unexpected exception", also when the
flow *returned* a Failed state on purpose). For a user's input (InputError, ConfigError) and for
a Failed state a flow returned (FailedRun, whose message is the state's), the traceback says
nothing the message does not: the record keeps its text and the reason, without the traceback.
Anything else keeps its traceback.
"""

from __future__ import annotations

import logging

from prefect.exceptions import FailedRun

from ytmaker.errors import ConfigError, InputError

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
_PLAIN = (FailedRun, InputError, ConfigError)


class OneLineFailures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, _PLAIN):
            text, reason = record.getMessage().rstrip(": "), getattr(exc, "message", str(exc))
            record.msg = text if reason in text else f"{text}: {reason}"
            record.args = ()
            record.exc_info, record.exc_text = None, None
        return True


def install() -> None:
    """On the run loggers of this process (once; flow modules call it when imported)."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLineFailures) for f in logger.filters):
            logger.addFilter(OneLineFailures())
