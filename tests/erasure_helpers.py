"""Helpers for the erasure tests: admin keys, events of a project, and a search of every row."""

from __future__ import annotations

import datetime as dt

from engine.core import apikeys
from engine.core.pipeline import check_batch
from engine.db import keystore
from tests.helpers import append_checked


def admin_key(conn, project_id: int) -> dict[str, str]:
    """A new admin key of the project (created as `make rotate-key KIND=admin` does), as headers."""
    key = apikeys.new_key("admin")
    keystore.insert_api_key(conn, project_id, "admin", apikeys.key_hash(key), apikeys.shown(key))
    return {"Authorization": f"Bearer {key}"}


def project(conn, name: str) -> int:
    return keystore.create_project(conn, name)


def queue_for(settings, project_id: int, events: list[dict]) -> list[str]:
    """Append events to the stream of a project exactly as POST /events does."""
    received_at = dt.datetime.now(dt.UTC)
    checked = check_batch(events, received_at, settings.retention_days)
    assert all(c.errors is None for c in checked), [c.errors for c in checked if c.errors]
    return append_checked(settings, checked, project_id, received_at, "test").event_ids


def rows_mentioning(conn, needle: str) -> dict[str, list]:
    """Every row of every table of the schema whose text, varchar, jsonb or bytea columns contain
    needle, per table: (project_id or None, the column) of each hit."""
    columns = conn.run(
        "SELECT c.table_name, c.column_name, c.data_type, "
        "EXISTS (SELECT 1 FROM information_schema.columns p WHERE p.table_schema = c.table_schema "
        "AND p.table_name = c.table_name AND p.column_name = 'project_id') "
        "FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')"
    )
    found: dict[str, list] = {}
    for table, column, kind, has_project in columns:
        if kind == "bytea":
            test = f"position(convert_to(:n, 'UTF8') IN \"{column}\") > 0"
        else:
            test = f'strpos("{column}"::text, :n) > 0'
        owner = "project_id" if has_project else "NULL"
        for (project_id,) in conn.run(f'SELECT {owner} FROM "{table}" WHERE {test}', n=needle):
            found.setdefault(table, []).append((project_id, column))
    return found
