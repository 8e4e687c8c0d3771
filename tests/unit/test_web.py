import gzip

import flask
import pytest

from engine import web
from engine.core.errors import PayloadTooLarge, UnsupportedMediaType

app = flask.Flask(__name__)


def body_of(data: bytes, content_type="application/json", encoding=None, limit=1000):
    headers = {"Content-Encoding": encoding} if encoding else {}
    with app.test_request_context("/", method="POST", data=data, content_type=content_type, headers=headers):
        return web.read_body(flask.request, limit)


def test_plain_and_text_bodies():
    assert body_of(b'{"a":1}') == b'{"a":1}'
    assert body_of(b'{"a":1}', content_type="text/plain;charset=UTF-8") == b'{"a":1}'


def test_gzip_body():
    assert body_of(gzip.compress(b'{"a":1}'), encoding="gzip") == b'{"a":1}'


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "message"),
    [
        (b"{}", {"content_type": "application/xml"}, UnsupportedMediaType, "not application/xml"),
        (b"{}", {"encoding": "br"}, UnsupportedMediaType, "Content-Encoding 'br'"),
        (b"x" * 1001, {}, PayloadTooLarge, "larger than 1000 bytes"),
        (gzip.compress(b" " * 100_000), {"encoding": "gzip"}, PayloadTooLarge, "decompressed body is larger than 1000 bytes"),
    ],
)
def test_refused_bodies(data, kwargs, error, message):
    with pytest.raises(error) as caught:
        body_of(data, **kwargs)
    assert message in caught.value.message


def test_bad_gzip_is_a_400():
    with pytest.raises(web.AppError) as caught:
        body_of(b"not gzip at all", encoding="gzip")
    assert caught.value.status == 400 and "not valid gzip" in caught.value.message


def test_dispatch_unknown_route_and_method():
    routes = {("POST", "/event"): lambda request, rid: web.json_response(202, {})}
    with app.test_request_context("/nope", method="GET"):
        response = web.dispatch(flask.request, routes, "ingest")
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    with app.test_request_context("/event", method="GET"):
        response = web.dispatch(flask.request, routes, "ingest")
        assert response.status_code == 405
        assert response.headers["Allow"] == "POST"


def test_dispatch_turns_crashes_into_json_500_with_request_id():
    def boom(request, rid):
        raise RuntimeError("bug")

    with app.test_request_context("/x", method="GET", headers={"X-Request-Id": "abc-123"}):
        response = web.dispatch(flask.request, {("GET", "/x"): boom}, "metrics")
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal", "message": "internal error; quote request id abc-123", "details": None}}
    assert response.headers["X-Request-Id"] == "abc-123"
