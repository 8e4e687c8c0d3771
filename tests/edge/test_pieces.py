"""The edge's pure pieces: the response head's casing and a cut body's declared length."""

import pytest

from runtime.edge.buffered import declared_as
from runtime.edge.protocol import cased


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        (b"retry-after: 5", b"Retry-After: 5"),
        (b"x-request-id: a:b", b"X-Request-Id: a:b"),
        (b"access-control-allow-origin: *", b"Access-Control-Allow-Origin: *"),
        (b"www-authenticate: Bearer", b"WWW-Authenticate: Bearer"),
        (b"etag: x", b"ETag: x"),
    ],
)
def test_each_header_name_is_cased_and_its_value_kept(written, sent):
    assert cased(b"HTTP/1.1 200 OK\r\n" + written + b"\r\n\r\n") == b"HTTP/1.1 200 OK\r\n" + sent + b"\r\n\r\n"


def test_nothing_after_the_head_is_touched():
    assert cased(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nx-body: y\r\n") == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nx-body: y\r\n"
    )


def test_a_cut_body_is_declared_at_the_length_kept():
    headers = [(b"host", b"h"), (b"Content-Length", b"600000"), (b"transfer-encoding", b"chunked")]
    assert declared_as(headers, 524289) == [(b"host", b"h"), (b"content-length", b"524289")]
