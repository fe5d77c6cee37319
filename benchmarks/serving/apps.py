"""Shared by the benchmarks: `python app.py` in a subprocess, and the CPU a figure ran on."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.network import free_port, wait_until_answers

REPO = Path(__file__).resolve().parents[2]


def start_app(data: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 300,
              shipped_defaults: bool = False, poll_s: float = 0.5) -> tuple[subprocess.Popen, str]:
    """`python app.py` on a free local port with its own data dir (plus `extra` options and
    `env` over this process's environment), logging to data/server.log; returns (process, url)
    once the page answers, polled every `poll_s` seconds. `shipped_defaults` drops this
    environment's MMS_* variables, so only `extra` and `env` change the app as shipped. Raises
    RuntimeError (the process stopped) if the app exits or does not answer within `timeout` s."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = data / "server.log"
    inherited = {k: v for k, v in os.environ.items() if not (shipped_defaults and k.startswith("MMS_"))}
    command = [sys.executable, "app.py", "--port", str(port), "--data-dir", str(data), *extra]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=REPO, env={**inherited, "PYTHONUNBUFFERED": "1", **(env or {})},
                                  stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_answers(url, [server], [log_path], timeout=timeout, poll_s=poll_s)
    except BaseException:
        stop_app(server)
        raise
    return server, url


def stop_app(server: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM (the app closes as on `docker stop`), then SIGKILL if it takes over `timeout` s."""
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=timeout)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"
