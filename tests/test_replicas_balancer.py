"""Two replicas of the app behind nginx (scripts/ops/serve_replicas.py), one data dir: three
gradio_client visitors spread over both, every call succeeds (no "session not found": the
balancer keeps each visitor's requests on one replica), two of them hold one owner key on
different replicas and add a photo each to one gallery at the same time, and after
reconnecting (a fresh client, wherever the balancer sends it) both photos are there. On the
label bridge over tiny random models, warm start off: the test is about processes, not models."""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import PATIENT

GALLERY = Path(__file__).resolve().parent.parent / "assets" / "gallery"
PHOTOS = [GALLERY / name for name in ("cat.jpg", "coffee.jpg", "rocket.jpg")]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_two_replicas_behind_the_balancer_keep_sessions_and_share_galleries(tmp_path, tiny_bridge_overrides):
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (apt-get install nginx-light; packages-test.txt lists it)")
    from gradio_client import handle_file

    from model_zoo.core.ownership import OwnerSpace
    from scripts.ops import serve_replicas

    models = [part for key, source in tiny_bridge_overrides.items() for part in ("--models", f"{key}={source}")]
    flags = ["--offline", "--vision", "labels", "--device", "cpu", "--warm", "none", *models]
    cluster = serve_replicas.start(2, tmp_path / "data", app_args=flags,
                                   env={"GRADIO_TEMP_DIR": str(tmp_path / "gradio-cache")})
    clients = []  # closed before the cluster stops: a client's heartbeat thread must not outlive its server
    try:
        shared_key, own_key = OwnerSpace.new_key(), OwnerSpace.new_key()
        keys = [shared_key, shared_key, own_key]
        visitors = [visitor_client_with_key(cluster.url, key) for key in keys]  # one after another: round-robin
        clients += visitors
        replicas = [client.cookies.get(serve_replicas.COOKIE) for client in visitors]
        assert set(replicas) == {f"127.0.0.1:{port}" for port in cluster.ports}, replicas

        def add(n: int) -> dict:
            return visitors[n].predict([handle_file(str(PHOTOS[n]))], "trip", api_name="/index_images")

        with ThreadPoolExecutor(3) as pool:  # at once: two replicas write one gallery
            added = list(pool.map(add, range(3)))
        assert [report["added"] for report in added] == [1, 1, 1], added
        for n, client in enumerate(visitors):  # every later call of a visitor still finds its session
            assert client.predict("", handle_file(str(PHOTOS[n])), 3, "trip", api_name="/search")["results"]
        landed = set()
        for _ in range(2):  # reconnecting: fresh clients, sent round-robin to each replica in turn
            again = visitor_client_with_key(cluster.url, shared_key)
            clients.append(again)
            names = sorted(r["name"] for r in again.predict("a photo", None, 8, "trip", api_name="/search")["results"])
            assert names == ["cat.jpg", "coffee.jpg"], (again.cookies, names)  # both additions, on either replica
            landed.add(again.cookies.get(serve_replicas.COOKIE))
        assert len(landed) == 2, landed
        stranger = visitor_client_with_key(cluster.url, own_key)
        clients.append(stranger)
        found = stranger.predict("a photo", None, 8, "trip", api_name="/search")["results"]
        assert [r["name"] for r in found] == ["rocket.jpg"]  # another owner's gallery of the same name
    finally:
        for client in clients:
            client.close()
        cluster.stop()


def visitor_client_with_key(url: str, key: str):
    """A gradio_client session holding an owner key (the same items wherever it lands)."""
    from gradio_client import Client

    return Client(url, verbose=False, headers={"X-Studio-Key": key}, httpx_kwargs=dict(PATIENT))
