"""84 hostile requests, each against its function's own port and through the gateway.

Every one must get its exact status and error code (never a 500), and afterwards the events
table must hold exactly the rows the valid ones made: nothing partial, nothing extra.
"""

import pytest

from tests.e2e.stack import call, wait_for
from tests.hostile.conftest import events_in_db, function_port
from tests.hostile.requests import CORPUS, build, send

pytestmark = pytest.mark.integration


def drained(stack) -> bool:
    task = {"Authorization": f"Bearer {stack.credentials['task']}"}
    status, answer = call("POST", f"{stack.url}/tasks/stream-drain", headers=task)
    return status == 200 and answer["backlog"] == 0


def test_corpus_is_big_and_varied():
    assert len(CORPUS) >= 60
    assert {entry["expect"] for entry in CORPUS} >= {202, 400, 401, 404, 405, 413, 415}
    assert sum(entry["stores"] for entry in CORPUS) > 0


def test_every_hostile_request_gets_its_exact_answer(hostile):
    wait_for(lambda: drained(hostile), timeout=30)
    before = events_in_db(hostile)
    wrong = []
    for via in ("function", "gateway"):
        for entry in CORPUS:
            method, path, headers, body = build(entry, hostile.credentials)
            port = function_port(hostile, entry["target"]) if via == "function" else hostile.port
            status, answer, _, _ = send(port, method, path, headers, body)
            code = answer.get("error", {}).get("code") if isinstance(answer.get("error"), dict) else None
            want = entry.get(via, entry)
            if (status, code) != (want["expect"], want["code"]):
                wrong.append(f"{via}: {entry['name']}: got {status} {code} ({answer}), expected {want['expect']} {want['code']}")
    assert wrong == []

    expected = before + 2 * sum(entry["stores"] for entry in CORPUS)
    wait_for(lambda: drained(hostile), timeout=30)
    assert events_in_db(hostile) == expected
