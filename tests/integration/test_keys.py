"""Projects and keys against real PostgreSQL: creation, rotation with a grace period, the ring."""

import datetime as dt

import pytest

from engine import keycli, keyring
from engine.core import apikeys
from engine.core.errors import EngineError
from engine.db import keystore

pytestmark = pytest.mark.integration
NOW = dt.datetime.now(dt.UTC)


def ring(conn):
    return keyring.KeyRing(lambda: keystore.active_api_keys(conn))


@pytest.fixture(autouse=True)
def no_extra_projects(conn):
    yield
    conn.run("DELETE FROM api_keys WHERE project_id <> 1")
    conn.run("DELETE FROM projects WHERE id <> 1")


def test_a_new_project_gets_a_key_of_each_kind_stored_only_as_hashes(conn):
    project_id, keys = keycli.create_project_keys(conn, "shop")
    assert project_id >= 2
    stored = conn.run("SELECT kind, key_hash, key_prefix FROM api_keys WHERE project_id = :p ORDER BY kind", p=project_id)
    assert [(k, bytes(h), p) for k, h, p in stored] == [
        ("read", apikeys.key_hash(keys["read"]), keys["read"][:8]),
        ("write", apikeys.key_hash(keys["write"]), keys["write"][:8]),
    ]
    assert not conn.run("SELECT 1 FROM api_keys WHERE key_prefix = :k", k=keys["write"])  # never the key itself
    lookups = ring(conn)
    assert lookups.lookup(apikeys.key_hash(keys["write"]), "write", NOW) == project_id
    assert lookups.lookup(apikeys.key_hash(keys["read"]), "read", NOW) == project_id
    assert lookups.lookup(apikeys.key_hash(keys["read"]), "write", NOW) is None


def test_a_name_is_taken_once(conn):
    keycli.create_project_keys(conn, "twice")
    with pytest.raises(EngineError, match="exists already"):
        keycli.create_project_keys(conn, "twice")


def test_rotation_keeps_the_old_key_through_its_grace_period(conn):
    project_id, keys = keycli.create_project_keys(conn, "rotating")
    new_key = keycli.rotate_key(conn, project_id, "write", dt.timedelta(hours=1), NOW)
    lookups = ring(conn)
    assert lookups.lookup(apikeys.key_hash(new_key), "write", NOW) == project_id
    assert lookups.lookup(apikeys.key_hash(keys["write"]), "write", NOW) == project_id  # still in grace
    later = NOW + dt.timedelta(hours=2)
    assert lookups.lookup(apikeys.key_hash(keys["write"]), "write", later) is None
    assert lookups.lookup(apikeys.key_hash(new_key), "write", later) == project_id
    assert lookups.lookup(apikeys.key_hash(keys["read"]), "read", later) == project_id  # the other kind untouched


def test_rotation_with_no_grace_ends_the_old_key_now(conn):
    project_id, keys = keycli.create_project_keys(conn, "abrupt")
    keycli.rotate_key(conn, project_id, "read", dt.timedelta(0), NOW - dt.timedelta(seconds=1))
    assert ring(conn).lookup(apikeys.key_hash(keys["read"]), "read", NOW) is None


def test_rotating_an_unknown_project_is_refused(conn):
    with pytest.raises(EngineError, match="no project 999"):
        keycli.rotate_key(conn, 999, "write", dt.timedelta(0), NOW)


def test_configured_keys_register_once(conn):
    keycli.register_configured_keys(conn, "w" * 20, "r" * 20)
    keycli.register_configured_keys(conn, "w" * 20, "r" * 20)
    rows = conn.run(
        "SELECT kind FROM api_keys WHERE project_id = 1 AND key_hash IN (:a, :b) ORDER BY kind",
        a=apikeys.key_hash("w" * 20),
        b=apikeys.key_hash("r" * 20),
    )
    assert rows == [["read"], ["write"]]
    conn.run("DELETE FROM api_keys WHERE project_id = 1")


def test_the_reader_role_cannot_see_key_hashes(conn):
    conn.run("SET ROLE analytics_reader")
    try:
        with pytest.raises(Exception, match="permission denied"):
            conn.run("SELECT key_hash FROM api_keys")
        assert conn.run("SELECT count(*) FROM projects")[0][0] >= 1
    finally:
        conn.run("RESET ROLE")


def test_an_admin_key_is_made_only_by_rotation_and_opens_nothing_but_erasure(conn):
    project_id, keys = keycli.create_project_keys(conn, "erasing")
    assert set(keys) == {"write", "read"}  # make key hands out no admin key
    admin = keycli.rotate_key(conn, project_id, "admin", dt.timedelta(0), NOW)
    assert admin.startswith("ak_")
    from engine.db import erasure

    [key_id] = conn.run("SELECT id FROM api_keys WHERE project_id = :p AND kind = 'admin'", p=project_id)[0]
    assert erasure.key_grant(conn, apikeys.key_hash(admin)) == (key_id, project_id, "admin")
    lookups = ring(conn)
    assert [lookups.lookup(apikeys.key_hash(admin), kind, NOW) for kind in ("write", "read")] == [None, None]


def test_the_reader_role_cannot_read_the_erasure_records(conn):
    conn.run("SET ROLE analytics_reader")
    try:
        with pytest.raises(Exception, match="permission denied"):
            conn.run("SELECT salt FROM erasures")
    finally:
        conn.run("RESET ROLE")
