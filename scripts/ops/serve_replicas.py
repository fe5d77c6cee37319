"""Serve the studio from N app processes on one data dir, behind nginx on one port, with
sticky sessions: more requests at once than one process serves, nothing lost on disk.

    python -m scripts.ops.serve_replicas --replicas 2 --port 7860 --data-dir D [-- APP FLAGS...]

Each replica is `python app.py --port P_i --data-dir D APP FLAGS` on 127.0.0.1 and a free
port. Gradio keeps a session and its queue in the memory of the process that opened it, so
every request of one visitor must reach the same process: nginx sends a visitor's first
request round-robin and sets a cookie (`mms_replica`) naming the replica that answered; later
requests with the cookie go there (to another replica only if that one is down: that
visitor's session starts again, their items on disk are all there). gradio_client keeps the
cookie from its first response, as a browser does. Everything on disk is shared and safe for
several processes (model_zoo.core.storage locks; see docs/replicas.md). Ctrl-C (or SIGTERM)
stops nginx and the replicas. Needs nginx (apt-get install nginx-light)."""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.network import free_port, wait_until_answers

REPO = Path(__file__).resolve().parents[2]
COOKIE = "mms_replica"
NGINX_CONF = """\
{user}worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {run}/nginx-access.log;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    client_max_body_size {max_body_mb}m;
    # a new visitor: round-robin over all; a returning one: the replica its cookie names,
    # or another if that one is down (then the cookie names the new one)
    upstream pool {{ {pool} }}
{pinned}
    map $cookie_{cookie} $replica {{
{routes}
        default pool;
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://$replica;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;  # server-sent events (the queue's progress) pass at once
            proxy_read_timeout 1h;
            add_header Set-Cookie "{cookie}=$upstream_addr; Path=/; HttpOnly; SameSite=Lax" always;
        }}
    }}
}}
"""


def nginx_conf(ports: list[int], port: int, run: Path, host: str = "127.0.0.1", max_body_mb: int = 1024) -> str:
    """nginx's configuration for replicas on 127.0.0.1:`ports`, listening on host:port."""
    addresses = [f"127.0.0.1:{p}" for p in ports]
    pinned = "\n".join(
        f"    upstream r{n} {{ server {address}; "
        + " ".join(f"server {other} backup;" for other in addresses if other != address) + " }"
        for n, address in enumerate(addresses))
    routes = "\n".join(f'        "{address}" r{n};' for n, address in enumerate(addresses))
    user = "user root;\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""  # workers must reach run/
    return NGINX_CONF.format(user=user, run=run, max_body_mb=max_body_mb, cookie=COOKIE, host=host, port=port,
                             pool=" ".join(f"server {a};" for a in addresses), pinned=pinned, routes=routes)


@dataclass
class Cluster:
    """N replicas and the balancer in front of them."""

    url: str
    replicas: list[subprocess.Popen]
    ports: list[int]
    balancer: subprocess.Popen
    run: Path
    logs: list[Path] = field(default_factory=list)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the balancer, then the replicas (SIGTERM: each closes as on `docker stop`)."""
        for process in (self.balancer, *self.replicas):
            if process.poll() is None:
                process.terminate()
        for process in (self.balancer, *self.replicas):
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)


def start(replicas: int, data_dir: Path, port: int = 0, app_args: list[str] | None = None,
          host: str = "127.0.0.1", env: dict | None = None, timeout_s: float = 180.0) -> Cluster:
    """Start `replicas` app processes on `data_dir` and nginx on host:port (0: a free port);
    returns once the balancer answers and every replica's page does."""
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx-light")
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    run = Path(tempfile.mkdtemp(prefix="mms-replicas-"))
    ports = [free_port() for _ in range(replicas)]
    port = port or free_port()
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    processes, logs = [], []
    for n, replica_port in enumerate(ports):
        logs.append(run / f"replica-{n}.log")
        with open(logs[-1], "w") as log:
            processes.append(subprocess.Popen(
                [sys.executable, str(REPO / "app.py"), "--port", str(replica_port), "--data-dir", str(data_dir),
                 *(app_args or [])], cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT))
    (run / "nginx.conf").write_text(nginx_conf(ports, port, run, host))
    balancer = subprocess.Popen([nginx, "-p", str(run), "-c", str(run / "nginx.conf"), "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=open(run / "nginx-start.log", "w"))
    cluster = Cluster(f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/", processes, ports, balancer,
                      run, logs)
    try:
        for replica_port in ports:
            wait_until_answers(f"http://127.0.0.1:{replica_port}/", processes, logs, timeout_s, poll_s=0.3)
        wait_until_answers(cluster.url, [balancer], [run / "nginx-start.log"], 30, poll_s=0.3)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    app_args = argv[argv.index("--") + 1:] if "--" in argv else []
    parser = argparse.ArgumentParser(prog="python -m scripts.ops.serve_replicas", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="app processes [2]")
    parser.add_argument("--port", type=int, default=7860, help="the balancer's port [7860]")
    parser.add_argument("--host", default="127.0.0.1", help="the balancer's address [127.0.0.1]; 0.0.0.0 for all")
    parser.add_argument("--data-dir", type=Path, required=True, help="the data dir all replicas share")
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    cluster = start(args.replicas, args.data_dir, args.port, app_args, args.host)
    print(f"Multimodal Studio: {cluster.url} ({args.replicas} replicas on ports "
          f"{', '.join(map(str, cluster.ports))}; logs in {cluster.run}). Ctrl-C stops them.", flush=True)
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C even when started in the background;
        signal.signal(signum, _interrupt)  # `kill`, `docker stop`: the same
    try:
        while all(p.poll() is None for p in (cluster.balancer, *cluster.replicas)):
            time.sleep(1)  # supervising: a replica or nginx that exits ends the whole
        print("a replica or the balancer exited; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
