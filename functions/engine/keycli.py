"""Projects and their keys, from the command line (make key, make rotate-key, make keys).

    python -m engine.keycli create NAME                  # a project with a new write and read key
    python -m engine.keycli rotate PROJECT write|read|admin [--grace-hours 24]
    python -m engine.keycli list

Keys are printed once and stored only as hashes: a lost key is replaced by rotating it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from engine import config, logs
from engine.core import apikeys
from engine.core import constants as c
from engine.core.errors import EngineError
from engine.db import keystore, postgres


def create_project_keys(conn, name: str) -> tuple[int, dict[str, str]]:
    """A new project with one key of each kind; returns its id and the keys (shown once)."""
    with postgres.transaction(conn):
        if keystore.project_id_named(conn, name) is not None:
            raise EngineError(f"a project named {name!r} exists already; rotate its keys instead")
        project_id = keystore.create_project(conn, name)
        keys = {kind: apikeys.new_key(kind) for kind in apikeys.PROJECT_KINDS}
        for kind, key in keys.items():
            keystore.insert_api_key(conn, project_id, kind, apikeys.key_hash(key), apikeys.shown(key))
    return project_id, keys


def rotate_key(conn, project_id: int, kind: str, grace: dt.timedelta, now: dt.datetime) -> str:
    """A new key of this kind; the project's current ones stop working after the grace period."""
    if kind not in apikeys.KINDS:
        raise EngineError(f"kind must be one of {', '.join(apikeys.KINDS)}")
    key = apikeys.new_key(kind)
    with postgres.transaction(conn):
        if not keystore.project_exists(conn, project_id):
            raise EngineError(f"no project {project_id}")
        keystore.expire_api_keys(conn, project_id, kind, now + grace)
        keystore.insert_api_key(conn, project_id, kind, apikeys.key_hash(key), apikeys.shown(key))
    return key


def register_configured_keys(conn, write_key: str | None, read_key: str | None) -> None:
    """Record the default project's configured keys (hashed), so that listings show them."""
    for kind, key in (("write", write_key), ("read", read_key)):
        if key:
            keystore.insert_api_key(conn, c.DEFAULT_PROJECT_ID, kind, apikeys.key_hash(key), apikeys.shown(key))


LIST_HEADER = f"{'id':>4}  {'project':<20} {'kind':<6} {'key':<12} {'created':<25} state"


def key_lines(rows, now: dt.datetime) -> list[str]:
    """`make keys`: a header, then a line per key saying whether it works, ends, or has ended."""
    lines = [LIST_HEADER]
    for project_id, name, kind, prefix, created, expires in rows:
        if kind is None:
            state = "no keys"
        elif expires is None:
            state = "active"
        else:
            state = f"{'expired' if expires <= now else 'expires'} {expires.isoformat(timespec='seconds')}"
        made = created.isoformat(timespec="seconds") if created else "-"
        lines.append(f"{project_id:>4}  {name:<20} {kind or '-':<6} {(prefix + '…') if prefix else '-':<12} {made:<25} {state}")
    return lines


def main(argv: list[str] | None = None, database_url: str | None = None) -> int:
    """The command line; database_url, when given, is used instead of ANALYTICS_DATABASE_URL."""
    logs.configure()
    parser = argparse.ArgumentParser(prog="python -m engine.keycli", description="Projects and their API keys")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a project with a write key and a read key")
    create.add_argument("name")
    rotate = sub.add_parser("rotate", help="replace a project's key of one kind")
    rotate.add_argument("project", type=int)
    rotate.add_argument("kind", choices=apikeys.KINDS)
    rotate.add_argument("--grace-hours", type=float, default=24.0, help="how long the old key keeps working (default 24)")
    sub.add_parser("list", help="projects and their keys (first characters only)")
    args = parser.parse_args(argv)
    try:
        database_url = database_url or config.get_settings().require("database_url").database_url
        conn = postgres.connect(database_url, application_name="analytics-keys", statement_timeout_ms=10_000, io_timeout_seconds=10)
    except EngineError as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 1
    except (postgres.InterfaceError, postgres.DatabaseError) as exc:
        print(f"keys: {postgres.failure(exc)}", file=sys.stderr)
        return 1
    try:
        now = dt.datetime.now(dt.UTC)
        if args.command == "create":
            project_id, keys = create_project_keys(conn, args.name)
            print(f"project {project_id} ({args.name}) created. Keep these; they are not shown again.")
            print(f"  write key  {keys['write']}   (X-Write-Key; may appear in web pages)")
            print(f"  read key   {keys['read']}   (Authorization: Bearer; secret)")
        elif args.command == "rotate":
            key = rotate_key(conn, args.project, args.kind, dt.timedelta(hours=args.grace_hours), now)
            until = (now + dt.timedelta(hours=args.grace_hours)).isoformat(timespec="seconds")
            print(f"new {args.kind} key for project {args.project}: {key}")
            print(f"  the previous {args.kind} key(s) keep working until {until}")
        else:
            print("\n".join(key_lines(keystore.list_api_keys(conn), now)))
    except (EngineError, postgres.DatabaseError) as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
