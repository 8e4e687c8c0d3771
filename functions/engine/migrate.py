"""Apply the schema's migrations (make migrate).

python -m engine.migrate            # against ANALYTICS_DATABASE_URL

Then it counts the events stored before the rollups existed (sql/009_rollups.sql) into them,
in chunks, printing its progress, while ingest and the drain may keep running.
"""

from __future__ import annotations

import sys

from engine import aggregates, config, logs
from engine.core.errors import EngineError
from engine.db import postgres
from engine.db.migrate import migrate


def main() -> int:
    logs.configure()
    try:
        settings = config.get_settings().require("database_url")
        applied = migrate(settings.database_url)
    except EngineError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    except (postgres.InterfaceError, postgres.DatabaseError) as exc:
        print(f"migrate: {postgres.failure(exc)}", file=sys.stderr)
        return 1
    print(f"migrate: {len(applied)} migration(s) applied" + (f": {applied}" if applied else "; the schema is current"))
    conn = aggregates.connect(settings)
    try:
        result = aggregates.run_backfill(conn, say=lambda line: print(line, flush=True))
    finally:
        conn.close()
    if result["chunks"]:
        print(f"migrate: backfill counted {result['counted']:,} stored events into the rollups")
    return 0


if __name__ == "__main__":
    sys.exit(main())
