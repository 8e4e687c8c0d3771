import socket

import pytest
from werkzeug.test import Client

from engine.config import Settings
from runtime import gateway


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
