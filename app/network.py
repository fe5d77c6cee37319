"""Where a local server can listen."""
from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the OS picks it), for a test's or a benchmark's app."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
