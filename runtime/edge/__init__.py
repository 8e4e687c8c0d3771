"""The edge: how every listener a client can reach is served (README, "Slow and idle clients").

gunicorn with uvicorn workers (the way functions-framework serves an ASGI function), each
connection a coroutine rather than a thread, and a guard on the time a client may take:
protocol.py bounds headers, bodies and idle keep-alive connections; buffered.py lets a WSGI
application (Flask, the gateway) run in threads only once its whole request is in memory;
worker.py puts them together; apps.py builds what each process serves.
"""
