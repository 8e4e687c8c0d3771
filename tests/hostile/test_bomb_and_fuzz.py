"""A gzip bomb is refused fast in bounded memory; schemathesis finds nothing against the spec."""

import re
import shutil
import subprocess
import sys

import psutil
import pytest

from tests.e2e.stack import call
from tests.hostile.conftest import function_port
from tests.hostile.requests import gzip_bomb, send

pytestmark = pytest.mark.integration
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def ingest_rss(stack) -> int:
    master = psutil.Process(stack.state()["children"]["ingest"])
    return sum(p.memory_info().rss for p in [master, *master.children(recursive=True)])


@pytest.mark.parametrize(("inflated", "wire_limit"), [(1_000_000, 1100), (400_000_000, 450_000)])
def test_gzip_bomb_is_refused_within_a_second_in_bounded_memory(hostile, inflated, wire_limit):
    bomb = gzip_bomb(inflated)
    assert len(bomb) <= wire_limit  # ~1 KB inflating to 1 MB; ~400 KB inflating to 400 MB
    headers = {"X-Write-Key": hostile.credentials["write"], "Content-Type": "application/json", "Content-Encoding": "gzip"}
    before = ingest_rss(hostile)
    worst = 0.0
    for _ in range(4):  # enough to reach every worker process
        status, answer, _, seconds = send(function_port(hostile, "ingest"), "POST", "/events", headers, bomb)
        assert (status, answer["error"]["code"]) == (413, "payload_too_large")
        assert answer["error"]["details"] == {"limit_bytes": 512 * 1024}
        worst = max(worst, seconds)
    grown = ingest_rss(hostile) - before
    print(f"\ngzip bomb {len(bomb)} B -> {inflated} B: refused in {worst:.3f} s at worst, ingest memory +{grown / 1e6:.1f} MB")
    assert worst < 1.0
    assert grown < 50e6


GROUPS = {
    # Operation paths per function, and the credential each needs.
    "ingest": (r"^/(event|healthz|openapi\.json)$", "write", ()),
    # A batch answers its valid events and rejects the rest per index: no JSON Schema says that,
    # so the input-strictness checks cannot apply to it; every response check does.
    "ingest-batch": (r"^/events$", "write", ("positive_data_acceptance", "negative_data_rejection")),
    # Segment's calls: every response check; one rule ("userId or anonymousId") and the per-index
    # answers of a batch are not JSON Schema, so not the input-strictness checks.
    "segment": (r"^/v1/.*$", "write", ("positive_data_acceptance", "negative_data_rejection")),
    "metrics": (r"^/(metrics.*|healthz)$", "read", ()),
    "stream-drain": (r"^/(tasks/stream-drain|internal/metrics|healthz)$", "task", ()),
    "view-refresh": (r"^/(tasks/view-refresh|healthz)$", "task", ()),
}
ALWAYS_EXCLUDED = ("use_after_free", "ensure_resource_availability", "object_level_authorization")


@pytest.mark.parametrize("group", list(GROUPS))
def test_schemathesis_finds_no_server_error_and_no_contradiction(hostile, group, tmp_path):
    assert call("GET", f"http://127.0.0.1:{function_port(hostile, 'ingest')}/openapi.json")[0] == 200
    regex, credential, excluded = GROUPS[group]
    function = "ingest" if group.startswith("ingest") or group == "segment" else group
    value = hostile.credentials[credential]
    header = f"X-Write-Key: {value}" if credential == "write" else f"Authorization: Bearer {value}"
    st = shutil.which("st", path=str(ROOT / ".venv" / "bin")) or shutil.which("st")
    command = [
        st or sys.executable, "run", f"http://127.0.0.1:{function_port(hostile, 'ingest')}/openapi.json",
        "--url", f"http://127.0.0.1:{function_port(hostile, function)}",
        "--include-path-regex", regex, "-H", header,
        "--checks", "all", "--exclude-checks", ",".join(ALWAYS_EXCLUDED + excluded),
        *(["--phases", "examples,fuzzing,stateful"] if group == "segment" else []),
        "--max-examples", "5" if group == "segment" else "25", "--seed", "20261128", "--no-color",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    summary = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    print(f"\nschemathesis {group}: {summary.group(0) if summary else result.stdout[-500:]}")
    assert result.returncode == 0, result.stdout[-4000:]
    assert summary and summary.group(1) == summary.group(2) and int(summary.group(1)) > 0


def test_everything_the_fuzzer_got_accepted_is_stored(hostile):
    """Ingest accepts nothing PostgreSQL would choke on: every 202 the fuzzer got becomes a row."""
    from tests.e2e.stack import wait_for
    from tests.hostile.conftest import events_in_db

    task = {"Authorization": f"Bearer {hostile.credentials['task']}"}
    answers = []

    def drained():
        status, answer = call("POST", f"{hostile.url}/tasks/stream-drain", headers=task)
        answers.append(answer)
        return status == 200 and answer["backlog"] == 0

    wait_for(drained, timeout=60)
    assert sum(a.get("retry_later", 0) for a in answers) == 0
    assert sum(a.get("dead_lettered", 0) for a in answers) == 0
    assert events_in_db(hostile) > 100  # the fuzzer's accepted events are there
