"""DELETE /people/{user_id} through functions-framework: keys, answers, idempotence, projects."""

import urllib.parse

import pytest

from tests.conftest import READ, TASK, WRITE, WRITE_KEY
from tests.erasure_helpers import admin_key, project, queue_for
from tests.factories import make_event

pytestmark = pytest.mark.integration


def drain(apps):
    return apps["stream_drain"].post("/tasks/stream-drain", headers=TASK).json


def counts(conn, project_id: int) -> tuple:
    return tuple(
        conn.run(f"SELECT count(*) FROM {table} WHERE project_id = :p", p=project_id)[0][0]
        for table in ("events", "rollup_users", "rollup_minute_users", "rollup_totals")
    )


def test_read_and_write_keys_are_refused_with_403_and_no_key_or_a_wrong_one_with_401(apps, conn):
    people = apps["metrics"]
    for headers in (READ, {"Authorization": f"Bearer {WRITE_KEY}"}):
        answer = people.delete("/people/user_123", headers=headers)
        assert answer.status_code == 403
        assert answer.json["error"]["code"] == "forbidden"
        assert answer.json["error"]["details"] == {"kind_required": "admin"}
    for headers, message in (
        (WRITE, "missing admin key: send an admin key as 'Authorization: Bearer KEY' (make rotate-key PROJECT=id KIND=admin makes one)"),
        ({"Authorization": "Bearer ak_not-a-key"}, "invalid admin key"),
    ):
        answer = people.delete("/people/user_123", headers=headers)
        assert (answer.status_code, answer.json["error"]["message"]) == (401, message)
    assert conn.run("SELECT count(*) FROM erasures")[0][0] == 0


def test_a_stored_read_key_is_refused_like_the_configured_one(apps, conn):
    from engine.core import apikeys
    from engine.db import keystore

    key = apikeys.new_key("read")
    keystore.insert_api_key(conn, 1, "read", apikeys.key_hash(key), apikeys.shown(key))
    answer = apps["metrics"].delete("/people/user_123", headers={"Authorization": f"Bearer {key}"})
    assert (answer.status_code, answer.json["error"]["message"]) == (403, "a read key may not erase: erasing takes an admin key")


def test_routes_around_the_parameter_keep_their_404_and_405(apps, conn):
    admin = admin_key(conn, 1)
    metrics = apps["metrics"]
    assert metrics.delete("/people", headers=admin).status_code == 404
    assert metrics.delete("/people/", headers=admin).status_code == 404
    wrong = metrics.get("/people/user_123", headers=admin)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "DELETE")
    assert metrics.delete("/metrics", headers=admin).status_code == 405
    assert metrics.get("/metrics", headers=READ).status_code == 200


def test_erasing_twice_answers_200_both_times_and_changes_nothing_the_second_time(apps, conn, settings):
    admin = admin_key(conn, 1)
    queue_for(settings, 1, [make_event(user_id="ada"), make_event(user_id="ada"), make_event(user_id="bob")])
    drain(apps)
    first = apps["metrics"].delete("/people/ada", headers=admin)
    assert first.status_code == 200
    assert first.json["status"] == "erased"
    assert first.json["erased"]["events"] == 2
    after_first = counts(conn, 1)
    assert after_first == (1, 1, 1, 1)
    second = apps["metrics"].delete("/people/ada", headers=admin)
    assert second.status_code == 200
    body = dict(second.json)
    assert body.pop("erasure_id") == first.json["erasure_id"] + 1
    body.pop("seconds")
    assert body == {"project_id": 1, "status": "nothing_found", "ids": 1, "erased": dict.fromkeys(first.json["erased"], 0)}
    assert counts(conn, 1) == after_first
    assert conn.run("SELECT requested_by, counts->>'events' FROM erasures ORDER BY id") == [
        [f"key:{key_id}", n] for key_id, n in ((_admin_id(conn), "2"), (_admin_id(conn), "0"))
    ]


def _admin_id(conn) -> int:
    return conn.run("SELECT max(id) FROM api_keys WHERE kind = 'admin'")[0][0]


def test_an_unknown_person_answers_200_nothing_found_and_is_recorded(apps, conn):
    answer = apps["metrics"].delete("/people/never-seen", headers=admin_key(conn, 1))
    assert answer.status_code == 200
    assert (answer.json["status"], answer.json["erased"]["events"]) == ("nothing_found", 0)
    assert conn.run("SELECT count(*) FROM erasures WHERE project_id = 1")[0][0] == 1


def test_an_encoded_user_id_with_a_slash_and_spaces_is_erased(apps, conn, settings):
    odd = "ada/with space+é"
    queue_for(settings, 1, [make_event(user_id=odd), make_event(user_id="bob")])
    drain(apps)
    answer = apps["metrics"].delete("/people/" + urllib.parse.quote(odd, safe=""), headers=admin_key(conn, 1))
    assert (answer.status_code, answer.json["erased"]["events"]) == (200, 1)
    assert conn.run("SELECT user_id FROM events") == [["bob"]]


def test_another_projects_person_with_the_same_id_is_untouched(apps, conn, settings):
    other = project(conn, "other")
    queue_for(settings, 1, [make_event(user_id="ada")])
    queue_for(settings, other, [make_event(user_id="ada"), make_event(user_id="ada")])
    drain(apps)
    before = counts(conn, other)
    answer = apps["metrics"].delete("/people/ada", headers=admin_key(conn, 1))
    assert answer.json["erased"]["events"] == 1
    assert counts(conn, other) == before == (2, 1, 1, 1)
    assert counts(conn, 1) == (0, 0, 0, 0)
    # The other project's admin key erases its own person only.
    assert apps["metrics"].delete("/people/ada", headers=admin_key(conn, other)).json["erased"]["events"] == 2


def test_a_user_id_too_long_is_a_400_naming_it(apps, conn):
    answer = apps["metrics"].delete("/people/" + "x" * 256, headers=admin_key(conn, 1))
    assert answer.status_code == 400
    assert answer.json["error"]["details"] == {"user_id": ["user_id is longer than 255 characters"]}
