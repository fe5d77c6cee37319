"""The app launches on 127.0.0.1, answers HTTP, and serves /models through gradio_client."""
from __future__ import annotations

import urllib.request

import pytest

from app.blocks import build_demo
from app.settings import load_settings
from tests.conftest import serve_in_process


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    with serve_in_process(tmp_path_factory.mktemp("app-data")) as url:
        yield url


def test_page_answers(running_app):
    url = running_app
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert b"Multimodal Studio" in response.read()


def test_models_endpoint_through_client(running_app):
    from gradio_client import Client

    url = running_app
    models = Client(url, verbose=False).predict(api_name="/models")
    keys = {m["key"] for m in models}
    assert {"whisper-base", "minilm", "clip", "captioner"} <= keys
    assert all(m["state"] == "unloaded" for m in models)  # startup stays lazy
    assert set(models[0]) >= {"key", "state", "device", "dtype", "bytes", "load_s", "hits"}


def test_startup_imports_no_heavy_library():
    import subprocess
    import sys

    code = (
        "import sys; from app.blocks import build_demo; from app.settings import load_settings; "
        "build_demo(load_settings([], environ={})); "
        "print(sorted(m for m in ('torch', 'transformers', 'ctranslate2', 'open_clip', 'faiss') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=str(__import__('pathlib').Path(__file__).parent.parent))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_each_heavy_model_has_one_queue_pool(tmp_path):
    """The UI button and the API endpoint of a model share a concurrency pool, so the
    API cannot add jobs beyond --concurrency on top of the page's."""
    settings = load_settings(["--data-dir", str(tmp_path), "--concurrency", "3"], environ={})
    studio = build_demo(settings)
    studio.close()
    fns = studio.demo.fns.values()
    pools = {}
    for fn in fns:
        if fn.concurrency_id and fn.concurrency_id.startswith("model:"):
            pools.setdefault(fn.concurrency_id, set()).add((fn.api_name, fn.concurrency_limit))
    assert {"model:whisper", "model:text-encoder", "model:vision", "model:captioner", "model:training"} <= set(pools)
    speech = pools["model:whisper"]
    assert ("speech_translate", 3) in speech and len(speech) >= 2  # endpoint + the tab's button
    assert all(limit == 1 for _, limit in pools["model:training"])
