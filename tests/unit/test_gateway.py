import gzip
import hashlib
import socket

import pytest
from werkzeug.test import Client

from engine.config import Settings
from runtime import gateway, static


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def client():
    port = closed_port()  # nothing listens there: every function is "down"
    settings = Settings(
        ingest_url=f"http://127.0.0.1:{port}",
        metrics_url=f"http://127.0.0.1:{port}",
        drain_url=f"http://127.0.0.1:{port}/tasks/stream-drain",
        refresh_url=f"http://127.0.0.1:{port}/tasks/view-refresh",
    )
    return Client(gateway.make_app(settings))


@pytest.mark.parametrize(
    ("path", "function"),
    [
        ("/event", "ingest"),
        ("/events", "ingest"),
        ("/metrics", "metrics"),
        ("/metrics/heatmap", "metrics"),
        ("/tasks/stream-drain", "stream-drain"),
    ],
)
def test_routes_reach_their_function_and_say_when_it_is_down(client, path, function):
    response = client.post(path, json={})
    assert response.status_code == 502
    assert response.headers["Retry-After"] == "2"
    assert response.json["error"]["code"] == "function_unavailable"
    assert response.json["error"]["details"] == {"function": function}


@pytest.mark.parametrize("path", ["/eventsx", "/metricsfoo", "/tasks", "/nope"])
def test_other_paths_are_not_proxied(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_health_gathers_the_functions(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert set(response.json["functions"]) == {"ingest", "metrics", "stream-drain", "view-refresh"}
    assert all(f["status"] == "unreachable" for f in response.json["functions"].values())


def test_static_files_are_served(client):
    response = client.get("/README.md")
    assert response.status_code == 200
    assert b"gateway serves" in response.data
    response.close()


def test_routes_need_the_function_urls():
    with pytest.raises(Exception, match="ANALYTICS_INGEST_URL"):
        gateway.routes(Settings())


STATIC = gateway.STATIC_DIR


@pytest.mark.parametrize("path", ["/", "/js/main.js", "/dist/app.css", "/vendor/uplot/uPlot.iife.min.js"])
def test_static_text_is_gzipped_for_a_client_that_accepts_it(client, path):
    file = STATIC / ("index.html" if path == "/" else path.lstrip("/"))
    response = client.get(path, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) == len(response.data) < file.stat().st_size
    assert gzip.decompress(response.data) == file.read_bytes()


@pytest.mark.parametrize("accept", [None, "identity", "br", "gzip;q=0"])
def test_static_text_is_sent_plain_without_gzip_in_accept_encoding(client, accept):
    response = client.get("/js/main.js", headers={"Accept-Encoding": accept} if accept else {})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.data == (STATIC / "js" / "main.js").read_bytes()
    assert int(response.headers["Content-Length"]) == len(response.data)


def test_the_gzip_and_plain_forms_have_their_own_etags_and_each_revalidates(client):
    plain = client.get("/js/main.js")
    packed = client.get("/js/main.js", headers={"Accept-Encoding": "gzip"})
    assert plain.headers["ETag"] != packed.headers["ETag"]
    assert plain.headers["ETag"] == f'"{hashlib.sha256(plain.data).hexdigest()[:32]}"'
    again = client.get("/js/main.js", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == packed.headers["ETag"] and again.headers["Vary"] == "Accept-Encoding"
    other = client.get("/js/main.js", headers={"If-None-Match": packed.headers["ETag"]})  # the gzip tag does not match the plain form
    assert other.status_code == 200 and other.data == plain.data


def test_a_file_is_compressed_once_and_again_when_it_changes(tmp_path):
    (tmp_path / "app.js").write_text("console.log('one');\n" * 50)
    files = static.StaticFiles(tmp_path, lambda environ, start_response: [])
    served = Client(files)
    first = served.get("/app.js", headers={"Accept-Encoding": "gzip"})
    cached = files.version(tmp_path / "app.js")
    assert files.version(tmp_path / "app.js") is cached  # the same bytes, not compressed again
    (tmp_path / "app.js").write_text("console.log('two, longer');\n" * 50)
    second = served.get("/app.js", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(second.data) == (tmp_path / "app.js").read_bytes()
    assert first.headers["ETag"] != second.headers["ETag"]


def test_small_and_binary_files_are_not_gzipped(tmp_path):
    (tmp_path / "tiny.js").write_text("x=1\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG" + bytes(1000))
    served = Client(static.StaticFiles(tmp_path, lambda environ, start_response: []))
    tiny = served.get("/tiny.js", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in tiny.headers and tiny.data == b"x=1\n"
    logo = served.get("/logo.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in logo.headers and "Vary" not in logo.headers and len(logo.data) == 1004


@pytest.mark.parametrize("path", ["/../README.md", "/js/../../README.md", "/%2e%2e/README.md"])
def test_static_paths_cannot_leave_static(client, path):
    response = client.get(path)
    assert response.status_code == 404 or b"gateway serves" in response.data
    assert b"# Analytics Engine" not in response.data


def test_delete_people_reaches_metrics_with_the_user_id_decoded_once():
    """DELETE /people/{user_id} goes to the metrics function; "%" and "/" in the id arrive as sent."""
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    seen = []

    @Request.application
    def metrics(request):
        seen.append((request.method, request.path))
        return Response("{}", mimetype="application/json")

    server = make_server("127.0.0.1", 0, metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        settings = Settings(ingest_url=url, metrics_url=url, drain_url=url, refresh_url=url)
        response = Client(gateway.make_app(settings)).delete("/people/a%2541%2Fb%20c")
        assert response.status_code == 200
        assert seen == [("DELETE", "/people/a%41/b c")]
    finally:
        server.shutdown()
