import flask
import jsonschema
import pytest

from engine import metrics as metrics_pipeline
from engine import openapi
from engine.config import Settings
from tests.conftest import READ, WRITE
from tests.factories import make_event

pytestmark = pytest.mark.integration


def route_tables() -> dict[str, dict]:
    import importlib.util
    import sys
    from pathlib import Path

    main = sys.modules.get("main")
    if main is None:
        spec = importlib.util.spec_from_file_location("main", Path(__file__).resolve().parents[2] / "functions" / "main.py")
        main = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(main)
    return {
        "ingest": main.INGEST_ROUTES,
        "metrics": main.METRICS_ROUTES,
        "stream_drain": main.DRAIN_ROUTES,
        "view_refresh": main.REFRESH_ROUTES,
    }


def documented(document: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, operations in document["paths"].items() for method in operations}


@pytest.mark.parametrize("target", ["ingest", "metrics", "stream_drain", "view_refresh"])
def test_each_function_documents_exactly_the_routes_it_serves(apps, target):
    response = apps[target].get("/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"] == "3.1.0"
    table = {(method.lower(), path) for method, path in route_tables()[target]}
    assert documented(response.json) == table
    for method, path in table - {("get", "/openapi.json")}:
        assert getattr(apps[target], method)(path).status_code != 404, (method, path)


def test_every_served_route_is_documented_by_some_function():
    every = {(method.lower(), path) for table in route_tables().values() for method, path in table}
    assert documented(openapi.document()) == every


def test_the_gateway_documents_exactly_the_routes_it_serves():
    from werkzeug.test import Client

    from runtime import gateway

    settings = Settings(
        ingest_url="http://127.0.0.1:9",
        metrics_url="http://127.0.0.1:9",
        drain_url="http://127.0.0.1:9/t",
        refresh_url="http://127.0.0.1:9/r",
    )
    table = gateway.routes(settings)
    document = Client(gateway.make_app(settings)).get("/openapi.json").json
    every = {(method.lower(), path) for routes in route_tables().values() for method, path in routes}
    proxied = {(m, p) for m, p in every if any(p == prefix or p.startswith(prefix + "/") for prefix in table)}
    assert documented(document) == proxied | {("get", "/healthz"), ("get", "/openapi.json")}
    assert ("get", "/internal/metrics") not in documented(document)
    assert ("post", "/event") in documented(document) and ("post", "/v1/track") in documented(document)


def test_the_event_schema_in_the_document_is_the_marshmallow_one():
    event = openapi.document()["components"]["schemas"]["Event"]
    assert event["required"] == ["action", "user_id"]
    assert event["properties"]["user_id"]["maxLength"] == 255
    assert event["properties"]["duration"]["maximum"] == 86400.0
    assert event["additionalProperties"] is False
    assert event["properties"]["properties"]["maxProperties"] == 100


def test_real_answers_validate_against_the_document(apps):
    document = openapi.document()

    def check(body, name):
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)

    check(apps["ingest"].post("/event", json=make_event(), headers=WRITE).json, "Accepted")
    check(apps["ingest"].post("/events", json=[make_event(), {"user_id": "u"}], headers=WRITE).json, "BatchResult")
    check(apps["ingest"].post("/event", json={"user_id": "u"}, headers=WRITE).json, "Error")
    check(apps["metrics"].get("/metrics", headers=READ).json, "Metrics")


@pytest.fixture
def request_from():
    app = flask.Flask(__name__)

    def make(origin):
        context = app.test_request_context("/metrics", headers={"Origin": origin} if origin else {})
        context.push()
        return context

    contexts = []
    yield lambda origin: contexts.append(make(origin)) or flask.request
    for context in reversed(contexts):
        context.pop()


def test_metrics_cors_allows_only_listed_origins(request_from):
    settings = Settings(metrics_allowed_origins=("https://app.example.com",))
    allowed = metrics_pipeline.cors_headers(settings, request_from("https://app.example.com"))
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Authorization" in allowed["Access-Control-Allow-Headers"]
    assert metrics_pipeline.cors_headers(settings, request_from("https://evil.example")) == {"Vary": "Origin"}
    assert metrics_pipeline.cors_headers(Settings(), request_from("https://app.example.com")) == {"Vary": "Origin"}


def test_metrics_preflight_from_an_unknown_origin_gets_no_permission(apps):
    response = apps["metrics"].options("/metrics", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert response.status_code == 204
    assert "Access-Control-Allow-Origin" not in response.headers
    answer = apps["metrics"].get("/metrics", headers={**READ, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_ingest_answers_any_origin(apps):
    response = apps["ingest"].post("/event", json=make_event(), headers={**WRITE, "Origin": "https://shop.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
