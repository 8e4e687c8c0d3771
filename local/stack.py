"""The stack's processes as `make run` and the benchmark start them: the table itself lives in
runtime/processes.py (what the container images run); this adds the ports a local stack takes.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

from runtime.processes import (  # noqa: F401 (re-exported: local/ and its tests read the table here)
    FUNCTIONS,
    GATEWAY,
    GATEWAY_THREADS,
    PROCESSES,
    ROOT,
    SCHEDULER,
    SOURCE,
    Function,
    edge_command,
    function_app,
    function_command,
    function_env,
    function_named,
    function_urls,
    gateway_command,
    health_port,
    process_command,
    scheduler_command,
)


def ephemeral_ports() -> range:
    """The ports this machine gives outgoing connections (Linux's ip_local_port_range)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port_block(size: int) -> int:
    """A base port whose next size-1 ports are free too, outside the ephemeral range.

    A port picked by binding to 0 comes from the ephemeral range, where any outgoing
    connection (to PostgreSQL, to Redis) may take it before the server binds it.
    """
    ephemeral = ephemeral_ports()
    for _ in range(500):
        base = random.randrange(10_000, 65_000 - size)  # noqa: S311 (not a secret)
        block = range(base, base + size)
        if any(port in ephemeral for port in (block.start, block.stop - 1)):
            continue
        if all(port_free(port) for port in block):
            return base
    raise RuntimeError("no free block of ports on 127.0.0.1 outside the ephemeral range")


def port_free(port: int) -> bool:
    """True when a server could bind 127.0.0.1:port now."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
