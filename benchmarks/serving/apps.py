"""Shared by the benchmarks: `python app.py` in a subprocess, and the CPU a figure ran on."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from app.network import free_port

REPO = Path(__file__).resolve().parents[2]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy


def page_answers(url: str) -> bool:
    try:
        with NO_PROXY.open(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_app(data: Path, *extra: str, env: dict[str, str] | None = None,
              timeout: float = 300) -> tuple[subprocess.Popen, str]:
    """`python app.py` on a free local port with its own data dir (plus `extra` options),
    logging to data/server.log; returns (process, url) once the page answers."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = data / "server.log"
    command = [sys.executable, "app.py", "--port", str(port), "--data-dir", str(data), *extra]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                                  stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        if page_answers(url):
            return server, url
        time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"the app did not answer within {timeout:.0f} s: see {log_path}")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"
