"""Ports for test and benchmark stacks: free, and never from the range outgoing connections use."""

import socket

from local import stack


def test_a_block_is_free_and_outside_the_ephemeral_range():
    ephemeral = stack.ephemeral_ports()
    for _ in range(50):
        base = stack.free_port_block(5)
        assert all(port not in ephemeral for port in range(base, base + 5))
        assert all(stack.port_free(port) for port in range(base, base + 5))


def test_a_bound_port_is_not_free():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert stack.port_free(server.getsockname()[1]) is False
