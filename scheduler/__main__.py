"""python -m scheduler: run the job table on an APScheduler BlockingScheduler until SIGTERM."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from engine import config, logs
from engine.core.errors import ConfigError
from scheduler.jobs import Backoff, call, job_table


def build(settings: config.Settings) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=dt.UTC)
    for job in job_table(settings):
        scheduler.add_job(
            call,
            IntervalTrigger(seconds=job.interval_seconds),
            args=(job, settings.task_token, Backoff()),
            id=job.id,
            name=job.id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(job.misfire_grace_seconds),
            next_run_time=dt.datetime.now(dt.UTC),
        )
    return scheduler


def main() -> int:
    logs.configure()
    # APScheduler warns on every tick skipped while a run is still going; that is by design here.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    try:
        scheduler = build(config.get_settings())
    except ConfigError as exc:
        print(f"scheduler: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
