import base64

import pytest

from engine.config import Settings
from engine.core import auth
from engine.core.errors import Unauthorized

S = Settings(write_key="w" * 16, read_key="r" * 16, task_token="t" * 16)


def basic(user, password=""):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    ("headers", "args"),
    [({"X-Write-Key": "w" * 16}, {}), (basic("w" * 16), {}), ({}, {"key": "w" * 16})],
)
def test_write_key_ways(headers, args):
    assert auth.project_for_write_key(S.write_key, headers, args) == 1


@pytest.mark.parametrize(
    ("headers", "args", "message"),
    [
        ({}, {}, "missing write key"),
        ({"X-Write-Key": "nope"}, {}, "invalid write key"),
        (basic("r" * 16), {}, "invalid write key"),
        ({"Authorization": "Basic !!!"}, {}, "missing write key"),
        ({"Authorization": f"Bearer {'w' * 16}"}, {}, "missing write key"),
    ],
)
def test_write_key_refused(headers, args, message):
    with pytest.raises(Unauthorized) as caught:
        auth.project_for_write_key(S.write_key, headers, args)
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(
    ("headers", "ok"),
    [
        ({"Authorization": f"Bearer {'r' * 16}"}, True),
        ({"Authorization": f"bearer {'r' * 16}"}, True),
        ({"Authorization": f"Bearer {'w' * 16}"}, False),
        ({"Authorization": f"Bearer {'t' * 16}"}, False),
        ({}, False),
    ],
)
def test_read_key(headers, ok):
    if ok:
        assert auth.project_for_read_key(S.read_key, headers) == 1
    else:
        with pytest.raises(Unauthorized) as caught:
            auth.project_for_read_key(S.read_key, headers)
        assert caught.value.headers == {"WWW-Authenticate": 'Bearer realm="analytics"'}


@pytest.mark.parametrize(("token", "ok"), [("t" * 16, True), ("r" * 16, False), ("w" * 16, False), ("", False)])
def test_task_token(token, ok):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if ok:
        assert auth.require_task_token(S.task_token, headers) is None
    else:
        with pytest.raises(Unauthorized):
            auth.require_task_token(S.task_token, headers)


def test_unset_keys_open_nothing():
    with pytest.raises(Unauthorized):
        auth.project_for_write_key(None, {"X-Write-Key": ""}, {})
