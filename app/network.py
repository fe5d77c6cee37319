"""Where a local server can listen, and whether it answers yet: what the tests, the benchmarks
and scripts/ops/serve_replicas.py need to start `python app.py` and wait for it."""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

# Loopback never goes through a proxy (an http_proxy in the environment would otherwise get it).
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the OS picks it), for a test's or a benchmark's app."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether `url` answers HTTP 200 now."""
    try:
        with NO_PROXY.open(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:  # refused, reset, timed out, or an HTTP error status
        return False


def _tail(log: Path | None) -> str:
    if log is None:
        return ""
    try:
        return ":\n" + log.read_text(errors="replace")[-3000:]
    except OSError:
        return f" (no log at {log})"


def wait_until_answers(url: str, processes: Sequence[subprocess.Popen] = (), logs: Sequence[Path | None] = (),
                       timeout: float = 300.0, poll_s: float = 0.5) -> None:
    """Return once `url` answers HTTP 200 (polled every `poll_s` seconds). Raises RuntimeError,
    with the tail of its log (`logs[i]` belongs to `processes[i]`), as soon as one of
    `processes` exits, or with the first log's tail when `timeout` seconds pass. The processes
    are left as they are: stopping them is the caller's."""
    logs = list(logs) + [None] * (len(processes) - len(logs))
    deadline = time.monotonic() + timeout
    while True:
        for process, log in zip(processes, logs):
            if process.poll() is not None:
                name = log.name if log is not None else f"process {process.pid}"
                raise RuntimeError(f"{name}: exited with {process.returncode} before {url} answered{_tail(log)}")
        if answers(url):
            return
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s{_tail(logs[0] if logs else None)}")
        time.sleep(poll_s)
