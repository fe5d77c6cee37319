"""Whether the model hub answers, asked once when the app starts. On a machine with no network
the app then runs offline (packaged weights and local caches only) instead of letting each
first use of a hub model retry its download for most of a minute and then fail."""
from __future__ import annotations

import os
import socket
import threading
import urllib.request
from urllib.parse import urlsplit

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 3.0
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def hub_offline(offline: bool = False) -> bool:
    """Offline by the app's flag or by the libraries' own variables."""
    flags = (os.environ.get(name, "") for name in OFFLINE_VARIABLES)
    return offline or any(v.strip().lower() in ("1", "true", "yes", "on") for v in flags)


def hub_endpoint() -> str:
    """The hub the libraries would call: HF_ENDPOINT, else huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "").strip() or DEFAULT_ENDPOINT


def probe_address(endpoint: str) -> tuple[str, int] | None:
    """The (host, port) a connection to `endpoint` opens first: its proxy where one is set."""
    parts = urlsplit(endpoint)
    if not parts.hostname:
        return None
    scheme = parts.scheme or "https"
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname):
        proxy_parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if proxy_parts.hostname:
            return proxy_parts.hostname, proxy_parts.port or 8080
    return parts.hostname, parts.port or (443 if scheme == "https" else 80)


def hub_answers(endpoint: str | None = None, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when a TCP connection to the hub (or its proxy) opens within `timeout_s`. The
    connect runs in a thread because a socket timeout does not bound the name lookup."""
    address = probe_address(endpoint or hub_endpoint())
    if address is None:
        return False
    answered = threading.Event()

    def connect() -> None:
        try:
            with socket.create_connection(address, timeout=timeout_s):
                answered.set()
        except OSError:
            pass

    threading.Thread(target=connect, name="hub-probe", daemon=True).start()
    return answered.wait(timeout_s)


def go_offline() -> None:
    """Tell every library in this process to stay local (they read these at import)."""
    for name in OFFLINE_VARIABLES:
        os.environ[name] = "1"
