"""What each process of the stack serves, as an ASGI application for runtime.edge.worker.

    gunicorn "runtime.edge.apps:function_app('functions/main.py', 'metrics', 4, False)" ...  # 4 threads per worker
    gunicorn "runtime.edge.apps:gateway_app(16)" ...             # the gateway, 16 threads

A function is loaded through functions-framework, as a deploy of it would be: an async
target (functions_framework.aio) is its ASGI application as it is; a Flask target runs behind
BufferedWSGI, so that its threads only ever hold whole requests.
"""

from __future__ import annotations

import functions_framework
from functions_framework.aio import create_asgi_app

from engine.core import constants as c
from runtime import gateway
from runtime.edge.buffered import BufferedWSGI


def function_app(source: str, target: str, threads: int, asgi: bool):
    """The ASGI application of one functions-framework target (runtime.processes.function_app)."""
    if asgi:
        return create_asgi_app(target, source)
    return BufferedWSGI(functions_framework.create_app(target, source), threads, c.MAX_BODY_BYTES)


def gateway_app(threads: int):
    return BufferedWSGI(gateway.create_app(), threads, c.MAX_BODY_BYTES, refuse_oversized=True)
