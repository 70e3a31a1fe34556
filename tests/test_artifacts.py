"""The progress artifact in the Prefect UI mirrors this run's progress messages only."""

from __future__ import annotations

import time
from uuid import uuid4

from flows.artifacts import ProgressWatcher
from ytmaker.bootstrap import bootstrap
from ytmaker.config import Settings
from ytmaker.progress import Stage


def test_a_message_left_in_redis_before_the_run_is_not_its_progress(settings: Settings) -> None:
    ctx = bootstrap(settings)
    project_id = 900_000 + uuid4().int % 100_000
    ctx.bus.publish(project_id, Stage.UPLOAD, 100, "影片上傳完成")  # an earlier run's last word
    time.sleep(0.002)  # messages are stamped to the millisecond
    watcher = ProgressWatcher(uuid4(), project_id)
    watcher.mirror(ctx.bus.latest(project_id))
    assert watcher.value == 0.0 and watcher.last is None

    ctx.bus.publish(project_id, Stage.SCRIPT, 50, "腳本生成中")
    watcher.mirror(ctx.bus.latest(project_id))
    assert watcher.value == 10.0  # half of the first of five stages
