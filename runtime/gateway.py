"""The gateway: routes the public paths (README, "How it fits together") to the function processes and serves static/.

Built on Werkzeug's ProxyMiddleware (which streams request bodies through and passes status
and headers back); static/ is served by runtime.static (gzip for text, compressed once).
It adds nothing a function should decide: no auth, no validation. Served by gunicorn: `gunicorn 'runtime.gateway:create_app()'`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.middleware.http_proxy import ProxyMiddleware
from werkzeug.wrappers import Request, Response

from engine import config, logs, openapi, opsmetrics
from engine.core import auth
from engine.core.errors import AppError
from runtime.static import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
PROXY_TIMEOUT_SECONDS = 120
LOCAL_CONFIG_PATH = "/local-config"
NO_STORE = {"Cache-Control": "no-store"}


def routes(settings: config.Settings) -> dict[str, tuple[str, str]]:
    """Path (and everything below it) -> (function name, its URL)."""
    settings.require("ingest_url", "metrics_url", "drain_url", "refresh_url")
    return {
        "/event": ("ingest", settings.ingest_url),
        "/events": ("ingest", settings.ingest_url),
        "/metrics": ("metrics", settings.metrics_url),
        "/export": ("metrics", settings.metrics_url),  # streamed through: ProxyMiddleware yields as it reads
        "/people": ("metrics", settings.metrics_url),  # DELETE /people/{user_id}: erasure
        "/tasks/stream-drain": ("stream-drain", settings.drain_url),
        "/tasks/view-refresh": ("view-refresh", settings.refresh_url),
        "/v1": ("ingest", settings.ingest_url),  # Segment's tracking API
    }


OWN_ROUTES = {("get", "/healthz"), ("get", "/openapi.json")}
INTERNAL_METRICS_PATH = "/internal/metrics"


def served_routes(table: dict[str, tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """The documented routes this gateway serves: its own, and every path it proxies."""
    proxied = {
        (method, path)
        for method, path, *_ in openapi.OPERATIONS
        if any(path == prefix or path.startswith(prefix + "/") for prefix in table)
    }
    return frozenset(proxied | OWN_ROUTES)


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers or {})


class FunctionProxy(ProxyMiddleware):
    """ProxyMiddleware that says which function is down, in the API's JSON error shape."""

    def __init__(self, app, table: dict[str, tuple[str, str]]):
        super().__init__(app, {prefix: {"target": url} for prefix, (_, url) in table.items()}, timeout=PROXY_TIMEOUT_SECONDS)
        # ProxyMiddleware matches only "directory" prefixes ("/event/"); the API's paths are
        # exact ("/event"), so routing is by the path itself or anything below it.
        self.exact = {prefix: self.targets[f"{prefix}/"] for prefix in table}
        self.names = {prefix: name for prefix, (name, _) in table.items()}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for prefix, opts in self.exact.items():
            if path == prefix or path.startswith(prefix + "/"):
                # PATH_INFO is percent-decoded and ProxyMiddleware re-quotes it leaving "%" alone, so
                # a literal "%" (a user id in DELETE /people/{user_id}) would be decoded twice.
                return self.proxy_to(opts, path.replace("%", "%25"), prefix)(environ, start_response)
        return self.app(environ, start_response)

    def proxy_to(self, opts, path, prefix):
        inner = super().proxy_to(opts, path, prefix)
        name = self.names[prefix]

        def application(environ, start_response):
            # Tell the function who the client is (rate limits and privacy work on it).
            forwarded = environ.get("HTTP_X_FORWARDED_FOR")
            client = environ.get("REMOTE_ADDR", "")
            environ["HTTP_X_FORWARDED_FOR"] = f"{forwarded}, {client}" if forwarded else client
            answered = {}

            def capture(status, headers, exc_info=None):
                answered["status"], answered["headers"] = status, headers
                return lambda data: None

            body = inner(environ, capture)
            content_type = dict((k.lower(), v) for k, v in answered["headers"]).get("content-type", "")
            if answered["status"].startswith("502") and content_type.startswith("text/html"):
                # ProxyMiddleware's own page: the function did not answer at all.
                error = {
                    "error": {
                        "code": "function_unavailable",
                        "message": f"the {name} function is not answering at {opts['target']}; it may be restarting",
                        "details": {"function": name},
                    }
                }
                return _json(502, error, {"Retry-After": "2"})(environ, start_response)
            start_response(answered["status"], answered["headers"])
            return body

        return application


def make_app(settings: config.Settings):
    table = routes(settings)

    @Request.application
    def own(request: Request) -> Response:
        if request.path == "/healthz":
            return health(table)
        if request.path == "/openapi.json":
            return _json(200, openapi.document(served_routes(table)))
        if request.path == LOCAL_CONFIG_PATH:
            return local_config(settings, request)
        if request.path == INTERNAL_METRICS_PATH and (counts := edge_metrics(settings, request)) is not None:
            return counts
        return _json(404, {"error": {"code": "not_found", "message": f"no route {request.method} {request.path}", "details": None}})

    served = StaticFiles(STATIC_DIR, own)
    return FunctionProxy(served, table)


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def local_config(settings: config.Settings, request: Request) -> Response:
    """The dashboard's keys, for a browser on this machine under `make run` only.

    A production page has no such endpoint: it asks for the keys and keeps them in
    localStorage. Keys go only to loopback clients in development, so a gateway bound to
    another address (ANALYTICS_HTTP_HOST) never hands them to the network; the Host must be
    a loopback name too, so a page on another site cannot reach them by DNS rebinding.
    """
    host = urlsplit(f"//{request.host}").hostname or ""
    local = is_loopback(request.remote_addr) and (host == "localhost" or is_loopback(host))
    if settings.env != "development" or not local or not (settings.read_key and settings.write_key):
        message = "no local config here: enter the read key (and the write key for the generator) on the page"
        return _json(404, {"error": {"code": "not_found", "message": message, "details": None}}, NO_STORE)
    body = {"mode": "local", "read_key": settings.read_key, "write_key": settings.write_key}
    return _json(200, body, NO_STORE)


def edge_metrics(settings: config.Settings, request: Request) -> Response | None:
    """The gateway's own connection counts, for the task token only; None (a 404) for anyone else.

    The gateway routes nothing under /internal/ to the public: without the token the path does
    not exist, as before; with it, the operator sees what each function's /internal/metrics shows.
    """
    try:
        auth.require_task_token(settings.task_token, request.headers)
    except AppError:
        return None
    return Response(opsmetrics.edge_metrics(), mimetype=opsmetrics.PROMETHEUS_TEXT)


def health(table: dict[str, tuple[str, str]]) -> Response:
    """Each function's own /healthz, gathered: 200 only when all four answer ok."""
    functions = {}
    for name, url in {name: url for name, url in table.values()}.items():
        try:
            base = urlsplit(url)
            with urllib.request.urlopen(f"{base.scheme}://{base.netloc}/healthz", timeout=5) as answer:  # noqa: S310 (our own URLs)
                functions[name] = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            functions[name] = {"status": "degraded", "http_status": exc.code}
        except (urllib.error.URLError, OSError, ValueError) as exc:
            functions[name] = {"status": "unreachable", "error": str(getattr(exc, "reason", exc))}
    healthy = all(f.get("status") == "ok" for f in functions.values())
    return _json(200 if healthy else 503, {"status": "ok" if healthy else "degraded", "functions": functions})


def create_app():
    """gunicorn's entry point: `gunicorn 'runtime.gateway:create_app()'`."""
    logs.configure()
    settings = config.get_settings()
    app = make_app(settings)
    # One line per start: the gateway's log says when it (re)started and where it routes.
    routed = {prefix: name for prefix, (name, _) in routes(settings).items()}
    logs.get_logger("runtime.gateway").info("gateway started", extra={"pid": os.getpid(), "routes": routed})
    return app
