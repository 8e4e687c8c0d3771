"""Projects and their API keys (stored only as hashes)."""

from __future__ import annotations

from engine.db.queries import run


def active_api_keys(conn) -> list[tuple[bytes, int, str, object]]:
    """(key_hash, project_id, kind, expires_at) of every key that is or will be valid."""
    return [(bytes(h), int(p), k, e) for h, p, k, e in run(conn, "active_api_keys")]


def create_project(conn, name: str) -> int:
    return int(run(conn, "insert_project", name=name)[0][0])


def project_id_named(conn, name: str) -> int | None:
    rows = run(conn, "project_named", name=name)
    return int(rows[0][0]) if rows else None


def project_exists(conn, project_id: int) -> bool:
    return bool(run(conn, "project_exists", id=project_id))


def insert_api_key(conn, project_id: int, kind: str, key_hash: bytes, key_prefix: str) -> None:
    run(conn, "insert_api_key", project_id=project_id, kind=kind, key_hash=key_hash, key_prefix=key_prefix)


def expire_api_keys(conn, project_id: int, kind: str, expires_at) -> int:
    run(conn, "expire_api_keys", project_id=project_id, kind=kind, expires_at=expires_at)
    return max(conn.row_count, 0)


def list_api_keys(conn) -> list[tuple]:
    return run(conn, "list_api_keys")
