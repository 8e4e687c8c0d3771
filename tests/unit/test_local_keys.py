import base64
import json
import stat

from engine.config import Settings
from local.keys import ensure_keys


def random_bytes(text: str) -> int:
    return len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def test_generated_keys_have_their_kind_prefix_and_32_random_bytes(tmp_path):
    secrets = ensure_keys(Settings(), tmp_path)
    write, read, token = secrets["ANALYTICS_WRITE_KEY"], secrets["ANALYTICS_READ_KEY"], secrets["ANALYTICS_TASK_TOKEN"]
    assert write.startswith("wk_") and random_bytes(write.removeprefix("wk_")) == 32
    assert read.startswith("rk_") and random_bytes(read.removeprefix("rk_")) == 32
    assert random_bytes(token) == 32
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    assert ensure_keys(Settings(), tmp_path) == secrets


def test_stored_and_configured_keys_are_kept(tmp_path):
    (tmp_path / "keys.json").write_text(json.dumps({"write_key": "old-write-key-0123456789", "read_key": "old-read-key-0123456789"}))
    secrets = ensure_keys(Settings(read_key="configured-read-key-0123"), tmp_path)
    assert secrets["ANALYTICS_WRITE_KEY"] == "old-write-key-0123456789"
    assert secrets["ANALYTICS_READ_KEY"] == "configured-read-key-0123"
    assert json.loads((tmp_path / "keys.json").read_text())["read_key"] == "old-read-key-0123456789"
