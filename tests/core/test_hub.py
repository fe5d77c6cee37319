"""model_zoo.core.hub and app.settings.resolve_offline: the app started with no flags on a
machine where no model hub answers runs offline (and tells its libraries so), instead of
letting the first search retry a CLIP download for most of a minute and fail."""
from __future__ import annotations

import os
import socket
import threading

import pytest

from app.settings import load_settings, resolve_offline
from model_zoo.core import hub


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def online_env(monkeypatch):
    """No offline variable set, and whatever resolve_offline sets is undone afterwards."""
    for name in hub.OFFLINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    for name in hub.OFFLINE_VARIABLES:
        os.environ[name] = "1"  # the test session's own setting (tests/conftest.py)


def test_the_probe_sees_a_listening_hub_and_a_closed_port(online_env):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert hub.hub_answers(f"http://127.0.0.1:{server.getsockname()[1]}")
    assert not hub.hub_answers(f"http://127.0.0.1:{closed_port()}", timeout_s=1)  # refused at once
    assert not hub.hub_answers("https://no-such-host.invalid", timeout_s=1)  # no such name


def test_the_probe_gives_up_on_a_connect_that_never_returns(online_env):
    """A name lookup or connect that hangs (a socket timeout does not bound the lookup) still
    ends in 'no hub' after the probe's own timeout: the connect runs in a thread it stops
    waiting for. The fake connect blocks on an event set only after the probe has answered."""
    release = threading.Event()

    def hanging_connect(*args, **kwargs):
        release.wait()
        raise OSError("released")

    online_env.setattr(hub.socket, "create_connection", hanging_connect)
    try:
        assert not hub.hub_answers("https://huggingface.co", timeout_s=0.05)
    finally:
        release.set()


def test_the_probe_asks_the_proxy_where_one_is_set(online_env):
    assert hub.probe_address("https://huggingface.co") == ("huggingface.co", 443)
    assert hub.probe_address("http://127.0.0.1:9") == ("127.0.0.1", 9)
    online_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    online_env.setenv("https_proxy", "http://proxy.example:3128")
    assert hub.probe_address("https://huggingface.co") == ("proxy.example", 3128)
    online_env.setenv("HF_ENDPOINT", "https://mirror.example/")
    assert hub.hub_endpoint() == "https://mirror.example/"


def test_no_hub_means_offline_for_the_app_and_its_libraries(online_env):
    settings = resolve_offline(load_settings([], environ={}), hub_answers=lambda: False)
    assert settings.offline
    assert all(os.environ[name] == "1" for name in hub.OFFLINE_VARIABLES)
    assert settings.manager_config().offline


def test_a_hub_that_answers_and_the_explicit_choices(online_env):
    asked = []

    def answers() -> bool:
        asked.append(True)
        return True

    assert not resolve_offline(load_settings([], environ={}), answers).offline
    assert asked and "HF_HUB_OFFLINE" not in os.environ
    asked.clear()
    assert not resolve_offline(load_settings(["--hub-check", "false"], environ={}), lambda: False).offline
    assert resolve_offline(load_settings(["--offline"], environ={}), answers).offline  # never asks
    assert not asked and os.environ["HF_HUB_OFFLINE"] == "1"


@pytest.mark.slow
def test_the_app_as_the_readme_starts_it_runs_offline_where_no_hub_answers(shipped_app):
    """`python app.py` with no flag and no HF_HUB_OFFLINE (tests.conftest.start_app) on a
    machine with no hub: it says so in its log and a zero-shot call answers on the label
    bridge at once, where it used to retry a CLIP download for ~45 s and then fail."""
    from gradio_client import Client, handle_file

    from tests.conftest import REPO

    result = Client(shipped_app.url, verbose=False).predict(
        handle_file(str(REPO / "assets" / "gallery" / "cat.jpg")), "cat, rocket, cup of coffee",
        api_name="/classify_image")
    # No download was retried (the ~45 s of backoff the probe exists to prevent), so no time bound is needed.
    log = shipped_app.log()
    assert "does not answer: running offline" in log and "Retrying in" not in log
    assert result["engine"] == "labels" and next(iter(result["scores"])) == "cat", result
