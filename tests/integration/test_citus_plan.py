"""The schema holds to the Citus distribution plan (README, Scaling out: Citus), read from a migrated
database's catalog, so that a table or key added later cannot close the path without a test saying so."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

# Distributed tables and their distribution column; the ones on project_id are co-located.
DISTRIBUTED = {
    "events": "project_id",
    "users": "project_id",
    "groups": "project_id",
    "group_members": "project_id",
    "identity_links": "project_id",
    "event_ids": "event_id",  # the idempotency key: unique across projects, so distributed on itself
    # The rollups, co-located with events: a project's numbers are kept and read on one worker.
    **{
        f"rollup_{name}": "project_id"
        for name in (
            "minutes",
            "minute_users",
            "minute_elements",
            "hour_actions",
            "hour_elements",
            "day_elements",
            "day_action_users",
            "day_actions",
            "day_users",
            "days",
            "week_users",
            "totals",
            "users",
            "elements",
            "heatmap",
            "user_sessions",
            "element_users",
            "backfill",
        )
    },
}
REFERENCE = {"projects", "api_keys"}  # small, read on every request: copied to every worker
LOCAL = {"dead_letters", "task_runs", "schema_migrations", "rollup_status", "erasures"}  # the coordinator's own bookkeeping

TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""
UNIQUE_KEYS = """
SELECT t.relname, i.relname, array_agg(a.attname::text ORDER BY a.attname)
FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (x.indkey)
WHERE n.nspname = 'public' AND x.indisunique AND NOT t.relispartition
GROUP BY t.relname, i.relname
"""
FOREIGN_KEYS = """
SELECT t.relname, r.relname, array_agg(a.attname::text ORDER BY a.attname)
FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (k.conkey)
WHERE k.contype = 'f' AND t.relnamespace = 'public'::regnamespace AND NOT t.relispartition
GROUP BY k.oid, t.relname, r.relname
"""


def test_every_table_has_its_place_in_the_plan(conn):
    tables = {name for (name,) in conn.run(TABLES)}
    assert tables == set(DISTRIBUTED) | REFERENCE | LOCAL


def test_every_unique_key_of_a_distributed_table_holds_its_distribution_column(conn):
    for table, index, columns in conn.run(UNIQUE_KEYS):
        if table in DISTRIBUTED:
            assert DISTRIBUTED[table] in columns, f"{index} on {table} lacks {DISTRIBUTED[table]}"


VIEW_SOURCES = "SELECT view_name, table_name FROM information_schema.view_table_usage WHERE view_schema = 'public'"


def test_the_public_views_read_only_co_located_or_reference_tables(conn):
    sources = conn.run(VIEW_SOURCES)
    views = {view for view, _ in sources}
    assert {"user_engagement", "activity_heatmap", "element_rankings", "project_totals"} <= views
    for view, table in sources:
        where = DISTRIBUTED.get(table)
        assert where == "project_id" or table in REFERENCE or table in views, f"{view} reads {table}, which is not co-located"


def test_foreign_keys_point_at_reference_tables_or_along_the_distribution_column(conn):
    for table, referenced, columns in conn.run(FOREIGN_KEYS):
        if table in REFERENCE or table in LOCAL:
            assert referenced in REFERENCE, f"{table} -> {referenced}"
        else:
            co_located = DISTRIBUTED.get(referenced) == DISTRIBUTED[table] and DISTRIBUTED[table] in columns
            assert referenced in REFERENCE or co_located, f"{table} -> {referenced} crosses shards"


def test_distribution_columns_are_never_null(conn):
    for table, column in DISTRIBUTED.items():
        rows = conn.run(
            "SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = CAST(:t AS regclass) AND a.attname = :c", t=table, c=column
        )
        assert rows == [[True]], f"{table}.{column}"
