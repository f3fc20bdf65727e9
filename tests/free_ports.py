"""Listening sockets for the test servers, on the first free port of a reserved range.

The socket is bound here and handed to uvicorn, so no other process can take the port
between the choice and the start: two test runs on one machine each get their own ports.
"""

from __future__ import annotations

import os
import socket

# RESURCOR_TEST_PORTS="first-last" sets another range.
_RANGE = os.environ.get("RESURCOR_TEST_PORTS", "8450-8499")
PORTS = range(int(_RANGE.split("-")[0]), int(_RANGE.split("-")[1]) + 1)


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """Return a socket listening on the first free port of ``PORTS``; raise RuntimeError when every port is taken."""
    for port in PORTS:
        candidate = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # As uvicorn does: a port in TIME_WAIT after an earlier server is free to listen on.
        candidate.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            candidate.bind((host, port))
        except OSError:
            candidate.close()
            continue
        candidate.listen(128)
        return candidate
    raise RuntimeError(f"every port of {host} {PORTS.start}-{PORTS.stop - 1} is taken; set RESURCOR_TEST_PORTS to a free range")
