"""The pure rules of erasure: hashes, which entries are a person's, ids, the admin key, path parameters."""

import orjson
import pytest

from engine import web
from engine.core import auth, erasure
from engine.core.apikeys import key_hash
from engine.core.errors import Forbidden, ServiceUnavailable, Unauthorized


def entry(project_id=1, **fields) -> dict:
    return {"v": 1, "project_id": project_id, **fields}


def test_a_hash_depends_on_salt_project_and_id_and_only_its_record_recognises_it():
    salt, other_salt = b"s" * 16, b"t" * 16
    digest = erasure.subject_hash(salt, 1, "ada")
    assert len(digest) == 32
    assert digest == erasure.subject_hash(salt, 1, "ada")
    assert (
        len(
            {digest, erasure.subject_hash(other_salt, 1, "ada"), erasure.subject_hash(salt, 2, "ada"), erasure.subject_hash(salt, 1, "adb")}
        )
        == 4
    )
    assert erasure.was_erased(salt, [b"x" * 32, digest], 1, "ada")
    assert not erasure.was_erased(other_salt, [digest], 1, "ada")
    assert len(erasure.new_salt()) == erasure.SALT_BYTES and erasure.new_salt() != erasure.new_salt()


@pytest.mark.parametrize(
    ("event", "belongs"),
    [
        (entry(user_id="ada"), True),
        (entry(user_id="bob", anonymous_id="ada"), True),
        (entry(kind="alias", links=[["old", "ada"]]), True),
        (entry(user_id="bob", links=[["x", "y"]]), False),
        (entry(project_id=2, user_id="ada"), False),
        (None, False),
    ],
)
def test_an_entry_belongs_to_the_person_when_it_names_one_of_their_ids_in_their_project(event, belongs):
    assert erasure.belongs(event, 1, {"ada", "anon"}) is belongs


def test_links_still_in_the_stream_grow_the_ids_through_chains_of_this_project_only():
    events = [
        entry(links=[["anon-2", "anon-1"]]),
        entry(links=[["anon-1", "ada"]]),
        entry(project_id=2, links=[["p2", "ada"]]),
        entry(links=[["x", "y"]]),
        None,
    ]
    assert erasure.linked_ids(events, 1, {"ada"}) == {"ada", "anon-1", "anon-2"}


def test_a_dead_letter_payload_is_theirs_when_it_decodes_to_their_project_or_cannot_decode_but_names_them():
    ids = {'a"da'}
    assert erasure.payload_belongs(orjson.dumps(entry(user_id='a"da', action="x", event_id="e", timestamp="t", received_at="r")), 1, ids)
    assert not erasure.payload_belongs(
        orjson.dumps(entry(2, user_id='a"da', action="x", event_id="e", timestamp="t", received_at="r")), 1, ids
    )
    assert erasure.payload_belongs(b'{"broken": "a\\"da', 1, ids)
    assert not erasure.payload_belongs(b"not json at all", 1, ids)
    assert erasure.needles(ids) == [b'a\\"da']


@pytest.mark.parametrize(
    ("user_id", "problem"),
    [
        ("ada", None),
        ("", "user_id is empty"),
        ("x" * 256, "user_id is longer than 255 characters"),
        ("a\x00", "user_id contains a NUL character"),
    ],
)
def test_user_ids_from_the_path_are_checked(user_id, problem):
    assert erasure.check_user_id(user_id) == problem


GRANTS = {key_hash("ak_good"): (7, 3, "admin"), key_hash("rk_stored"): (8, 3, "read")}


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        ({"Authorization": "Bearer ak_good"}, (7, 3)),
        ({}, Unauthorized),
        ({"X-Write-Key": "wk_conf"}, Unauthorized),
        ({"Authorization": "Bearer nope"}, Unauthorized),
        ({"Authorization": "Bearer rk_stored"}, Forbidden),
        ({"Authorization": "Bearer rk_conf"}, Forbidden),
        ({"Authorization": "Bearer wk_conf"}, Forbidden),
    ],
)
def test_only_an_admin_key_opens_erasure(headers, outcome):
    def grant():
        return auth.admin_grant(("rk_conf", "wk_conf"), headers, GRANTS.get)

    if isinstance(outcome, tuple):
        assert grant() == outcome
    else:
        with pytest.raises(outcome):
            grant()


def test_an_admin_key_that_cannot_be_checked_is_a_503_not_a_401():
    def broken(_hash):
        raise OSError("database down")

    with pytest.raises(ServiceUnavailable):
        auth.admin_grant((None, None), {"Authorization": "Bearer ak_x"}, broken)


@pytest.mark.parametrize(
    ("route", "path", "params"),
    [
        ("/people/{user_id}", "/people/ada", {"user_id": "ada"}),
        ("/people/{user_id}", "/people/a/b/", {"user_id": "a/b/"}),
        ("/people/{user_id}", "/people/", None),
        ("/people/{user_id}", "/people", None),
        ("/people/{user_id}", "/peoplex/ada", None),
        ("/metrics", "/metrics/ada", None),
    ],
)
def test_a_route_ending_in_a_parameter_takes_the_rest_of_the_path(route, path, params):
    assert web._parameters(route, path) == params
