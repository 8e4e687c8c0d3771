"""The one-shot migrate service (infra/migrate.sh), run for real against PostgreSQL: migrations,
then a login for analytics_reader with the password from the environment, and nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shutil
import subprocess
import sys

import pytest

from engine.db import postgres
from tests.conftest import ROOT
from tests.helpers import missing

SCRIPT = ROOT / "infra" / "migrate.sh"


@pytest.fixture(autouse=True)
def needs_psql():
    if shutil.which("psql") is None:
        missing("psql is not installed (the migrate image installs postgresql-client): apt-get install postgresql-client")


def run_script(database_url: str | None, password: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"  # `python` is the project's, as in the image
    env["PYTHONPATH"] = f"{ROOT / 'functions'}{os.pathsep}{ROOT}"
    if database_url is not None:
        env["ANALYTICS_DATABASE_URL"] = database_url
    if password is not None:
        env["ANALYTICS_READER_PASSWORD"] = password
    return subprocess.run(["sh", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier (RFC 5802/7677, as PostgreSQL stores it) is this password's."""
    scheme, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return (
        scheme == "SCRAM-SHA-256"
        and hashlib.sha256(client_key).digest() == stored_key
        and hmac.new(salted, b"Server Key", "sha256").digest() == server_key
    )


@pytest.fixture
def reader_restored(conn):
    """The role is cluster-wide: put it back as migration 004 left it, NOLOGIN and without a password."""
    yield
    conn.run("ALTER ROLE analytics_reader WITH NOLOGIN PASSWORD NULL CONNECTION LIMIT -1")
    database = conn.run("SELECT current_database()")[0][0]
    conn.run(f'ALTER ROLE analytics_reader IN DATABASE "{database}" RESET ALL')


def test_migrate_applies_the_schema_and_gives_the_reader_its_login(settings, conn, reader_restored):
    password = secrets.token_hex(32)
    result = run_script(settings.database_url, password)
    assert result.returncode == 0, result.stderr
    assert "schema is current" in result.stdout and "analytics_reader may log in" in result.stdout
    assert password not in result.stdout + result.stderr
    login, limit, verifier = conn.run("SELECT rolcanlogin, rolconnlimit, rolpassword FROM pg_authid WHERE rolname = 'analytics_reader'")[0]
    assert (login, limit) == (True, 20)
    assert scram_matches(verifier, password) and not scram_matches(verifier, password + "x")
    (settings_row,) = conn.run(
        "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
        "JOIN pg_database d ON d.oid = s.setdatabase WHERE r.rolname = 'analytics_reader' AND d.datname = current_database()"
    )
    assert sorted(settings_row[0]) == ["default_transaction_read_only=on", "statement_timeout=30s"]


def test_running_it_again_rotates_the_password_and_changes_nothing_else(settings, conn, reader_restored):
    first, second = secrets.token_hex(32), secrets.token_hex(32)
    assert run_script(settings.database_url, first).returncode == 0
    applied = conn.run("SELECT count(*) FROM schema_migrations")[0][0]
    assert run_script(settings.database_url, second).returncode == 0
    assert conn.run("SELECT count(*) FROM schema_migrations")[0][0] == applied
    verifier = conn.run("SELECT rolpassword FROM pg_authid WHERE rolname = 'analytics_reader'")[0][0]
    assert scram_matches(verifier, second) and not scram_matches(verifier, first)


def test_a_session_of_the_reader_is_read_only(settings, conn, reader_restored):
    password = secrets.token_hex(32)
    assert run_script(settings.database_url, password).returncode == 0
    target = postgres.parse_database_url(settings.database_url)
    host = target.unix_sock.rsplit("/", 1)[0] if target.unix_sock else target.host
    # A new session of the role, logging in with the password just set, gets its per-database settings.
    result = subprocess.run(
        ["psql", "--no-psqlrc", "-h", host, "-p", str(target.port), "-U", "analytics_reader", "-d", target.database, "-tA",
         "-c", "SHOW default_transaction_read_only", "-c", "CREATE TABLE written (x int)"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "PGPASSWORD": password},
    )  # fmt: skip
    assert result.stdout.strip() == "on"
    assert "cannot execute CREATE TABLE in a read-only transaction" in result.stderr


@pytest.mark.parametrize(
    ("password", "message"),
    [(None, "ANALYTICS_READER_PASSWORD must be set"), ("", "ANALYTICS_READER_PASSWORD must be set"), ("short", "at least 16 characters")],
)
def test_without_a_usable_password_it_stops_before_touching_anything(settings, conn, password, message):
    result = run_script(settings.database_url, password)
    assert result.returncode != 0 and message in result.stderr
    assert conn.run("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'analytics_reader'")[0][0] is False
