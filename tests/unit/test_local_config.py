"""The gateway's /local-config: the dashboard's keys, only for a loopback browser in development."""

import pytest
from werkzeug.test import Client

from engine.config import Settings
from runtime import gateway

KEYS = {"write_key": "local-write-key-0123456789", "read_key": "local-read-key-0123456789"}
URLS = {
    "ingest_url": "http://127.0.0.1:9",
    "metrics_url": "http://127.0.0.1:9",
    "drain_url": "http://127.0.0.1:9/tasks/stream-drain",
    "refresh_url": "http://127.0.0.1:9/tasks/view-refresh",
}


def get(settings: Settings, remote: str = "127.0.0.1", host: str = "127.0.0.1:8080"):
    client = Client(gateway.make_app(settings))
    return client.get("/local-config", environ_base={"REMOTE_ADDR": remote}, headers={"Host": host})


@pytest.mark.parametrize(("remote", "host"), [("127.0.0.1", "127.0.0.1:8080"), ("::1", "localhost:8080"), ("127.0.0.1", "[::1]:8080")])
def test_keys_for_a_loopback_browser_in_development(remote, host):
    response = get(Settings(**URLS, **KEYS), remote, host)
    assert response.status_code == 200
    assert response.json == {"mode": "local", "read_key": KEYS["read_key"], "write_key": KEYS["write_key"]}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("given", "remote", "host"),
    [
        (Settings(**URLS, **KEYS, env="production"), "127.0.0.1", "127.0.0.1:8080"),
        (Settings(**URLS, **KEYS, env="test"), "127.0.0.1", "127.0.0.1:8080"),
        (Settings(**URLS, **KEYS), "192.168.1.20", "192.168.1.10:8080"),  # gateway bound to the network
        (Settings(**URLS, **KEYS), "127.0.0.1", "attacker.example:8080"),  # DNS rebinding
        (Settings(**URLS), "127.0.0.1", "127.0.0.1:8080"),  # no keys configured
    ],
)
def test_no_keys_anywhere_else(given, remote, host):
    response = get(given, remote, host)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert "enter the read key" in response.json["error"]["message"]
    assert b"local-read-key" not in response.data
