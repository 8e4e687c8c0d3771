"""DELETE /people/{user_id}: authenticate an admin key -> check the id -> erase -> answer.

The answer is 200 with the counts whether or not anything was found: an erasure is idempotent,
so a repeat (a retry after a lost answer, say) must not look like a failure; "status" says
"erased" or "nothing_found" (README, "Erasing a person").
"""

from __future__ import annotations

import flask

from engine import clients, erase, web
from engine.config import Settings
from engine.core import auth, erasure
from engine.core import constants as c
from engine.core.errors import ValidationFailed
from engine.db import erasure as db_erasure

ROLE = "erasure"
KEYS_ROLE = "erasure-keys"


def delete_person(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    def grant(key_hash: bytes):
        return clients.read(settings, KEYS_ROLE, lambda conn: db_erasure.key_grant(conn, key_hash))

    key_id, project_id = auth.admin_grant((settings.read_key, settings.write_key), request.headers, grant)
    user_id = (request.view_args or {}).get("user_id", "")
    problem = erasure.check_user_id(user_id)
    if problem:
        raise ValidationFailed(problem, {"user_id": [problem]})
    rclient = clients.redis_client(settings)
    with clients.pg(settings, ROLE, c.ERASURE_STATEMENT_TIMEOUT_MS) as conn:
        body = erase.erase_person(rclient, conn, clients.stream_shards(settings), project_id, user_id, f"key:{key_id}")
    return web.json_response(200, body, {"Cache-Control": "no-store"})
