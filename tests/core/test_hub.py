"""model_zoo.core.hub and app.settings.resolve_offline: the app started with no flags on a
machine where no model hub answers runs offline (and tells its libraries so), instead of
letting the first search retry a CLIP download for most of a minute and fail."""
from __future__ import annotations

import os
import socket
import time

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
    started = time.perf_counter()
    assert not hub.hub_answers(f"http://127.0.0.1:{closed_port()}")
    assert not hub.hub_answers("https://no-such-host.invalid")
    assert time.perf_counter() - started < 2 * hub.PROBE_TIMEOUT_S + 1


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
def test_the_app_as_the_readme_starts_it_runs_offline_where_no_hub_answers(tmp_path):
    """`python app.py` with no flag and no HF_HUB_OFFLINE (tests.conftest.start_app) on a
    machine with no hub: it says so in its log and the first zero-shot call answers on the
    label bridge at once, where it used to retry a CLIP download for ~45 s and then fail."""
    from gradio_client import Client, handle_file

    from tests.conftest import REPO, start_app, stop_app

    server, url = start_app(tmp_path, "--warm", "none")
    try:
        started = time.perf_counter()
        result = Client(url, verbose=False).predict(handle_file(str(REPO / "assets" / "gallery" / "cat.jpg")),
                                                    "cat, rocket, cup of coffee", api_name="/classify_image")
        seconds = time.perf_counter() - started
    finally:
        stop_app(server)
    log = (tmp_path / "server.log").read_text()
    assert "does not answer: running offline" in log and "Retrying in" not in log
    assert result["engine"] == "labels" and next(iter(result["scores"])) == "cat", result
    assert seconds < 40, seconds
