"""GET /healthz: liveness and the reachability of each store a function needs; no data."""

from __future__ import annotations

import flask

from engine import clients, db, web
from engine.config import Settings


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:  # any failure is the answer here, not an error
        return f"failed: {type(exc).__name__}: {str(exc)[:200]}"
    return "ok"


def healthz(settings: Settings, function: str, needs: tuple[str, ...]) -> flask.Response:
    checks = {}
    if "redis" in needs:
        checks["redis"] = _check(lambda: clients.redis_client(settings).ping())
    if "postgres" in needs:

        def probe_pg():
            with clients.pg(settings, function) as conn:
                db.ping(conn)

        checks["postgres"] = _check(probe_pg)
    healthy = all(v == "ok" for v in checks.values())
    return web.json_response(200 if healthy else 503, {"status": "ok" if healthy else "degraded", "function": function, "checks": checks})
