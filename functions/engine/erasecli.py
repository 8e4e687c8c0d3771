"""`make erase-person USER=... PROJECT=...`: erase a person from the command line.

    python -m engine.erasecli PROJECT USER_ID          # erase, print progress and the counts
    python -m engine.erasecli PROJECT USER_ID --check  # only say which erasures covered this id
    python -m engine.erasecli PROJECT --replay         # after a restore: erase again every id the
                                                       # project's erasure records cover

Uses ANALYTICS_DATABASE_URL and ANALYTICS_REDIS_URL (or the cluster's nodes); the erasure is
recorded as asked by "cli:<os user>".
"""

from __future__ import annotations

import argparse
import getpass
import sys

from engine import clients, config, erase, logs
from engine.core import constants as c
from engine.core import erasure
from engine.core.errors import AppError, EngineError
from engine.db import erasure as db_erasure
from engine.db import keystore, postgres


def _check(conn, project_id: int, user_id: str, say) -> int:
    records = db_erasure.records_of(conn, project_id, user_id)
    if not records:
        say(f"no erasure of project {project_id} covers this id")
    for record in records:
        when = record["requested_at"].isoformat(timespec="seconds")
        say(f"erasure {record['id']} at {when} by {record['requested_by']}: {record['counts']}")
    return 0


def _erase(settings: config.Settings, conn, project_id: int, user_id: str, requested_by: str, say) -> None:
    say(f"erasing {user_id!r} from project {project_id}: pausing the drains, then erasing rows, rollup counts and stream entries")
    rclient = clients.redis_client(settings)
    body = erase.erase_person(rclient, conn, clients.stream_shards(settings), project_id, user_id, requested_by)
    say(f"{body['status']}: {body['ids']} id(s), erasure {body['erasure_id']}, {body['seconds']} s")
    for kind, count in body["erased"].items():
        say(f"  {kind:<20} {count}")


def _replay(settings: config.Settings, conn, project_id: int, say) -> int:
    matches = db_erasure.replay_matches(conn, project_id)
    if not matches:
        say(f"no id of project {project_id} is covered by its erasure records: nothing to erase again")
    for record, user_id in matches:
        say(f"erasure {record} covers an id still present")
        _erase(settings, conn, project_id, user_id, f"cli:{getpass.getuser()} replaying erasure {record}", say)
    return 0


def run(settings: config.Settings, project_id: int, user_id: str | None, check: bool, say) -> int:
    problem = erasure.check_user_id(user_id) if user_id is not None else None
    if problem:
        say(f"erase: {problem}")
        return 2
    conn = postgres.connect(
        settings.database_url,
        application_name="analytics-erasure",
        statement_timeout_ms=c.ERASURE_STATEMENT_TIMEOUT_MS,
        io_timeout_seconds=60,
    )
    try:
        if not keystore.project_exists(conn, project_id):
            say(f"erase: no project {project_id}")
            return 1
        if user_id is None:
            return _replay(settings, conn, project_id, say)
        if check:
            return _check(conn, project_id, user_id, say)
        _erase(settings, conn, project_id, user_id, f"cli:{getpass.getuser()}", say)
    finally:
        conn.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    parser = argparse.ArgumentParser(prog="python -m engine.erasecli", description="Erase a person from a project")
    parser.add_argument("project", type=int)
    parser.add_argument("user_id", nargs="?")
    parser.add_argument("--check", action="store_true", help="only list the erasures that covered this id")
    parser.add_argument("--replay", action="store_true", help="erase again every id the project's erasure records cover")
    args = parser.parse_args(argv)
    if (args.user_id is None) != args.replay:
        parser.error("give a user id, or --replay without one")
    try:
        settings = config.get_settings().require("database_url", "redis_url")
        return run(settings, args.project, args.user_id, args.check, print)
    except (AppError, EngineError) as exc:
        print(f"erase: {exc}", file=sys.stderr)
        return 1
    except (postgres.InterfaceError, postgres.DatabaseError) as exc:
        print(f"erase: {postgres.failure(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
