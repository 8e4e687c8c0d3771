"""The floor of POST /event: a hello-world functions-framework function, served exactly like ingest
(an async function, as ingest is: local.bench.processes serves it with ingest's own command)."""

import functions_framework.aio


@functions_framework.aio.http
async def hello(request):
    """Hello, World: no key, no parsing, no store."""
    return "Hello, World!\n"
