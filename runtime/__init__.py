"""The production runtime: how each process of the stack is started, checked and routed to.

The container images run `python -m runtime exec NAME`; `make run` (local/) starts the same
command lines from the same table (runtime/processes.py). Nothing here imports local/.
"""
