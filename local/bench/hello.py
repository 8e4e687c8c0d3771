"""The floor of POST /event: a hello-world functions-framework function, served exactly like ingest."""

import functions_framework


@functions_framework.http
def hello(request):
    """Hello, World: no key, no parsing, no store."""
    return "Hello, World!\n"
