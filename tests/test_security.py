"""Security rules of the house, checked over the source and the launch settings."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.blocks import launch_kwargs
from app.settings import REPO_ROOT, load_settings
from tests.conftest import serve_in_process

SOURCE_DIRS = ("app", "components", "model_zoo", "scripts", "benchmarks")


def python_sources() -> list[Path]:
    files = [REPO_ROOT / "app.py"]
    for folder in SOURCE_DIRS:
        files += sorted((REPO_ROOT / folder).rglob("*.py"))
    return files


def test_no_pickle_and_no_remote_code():
    offences = []
    for path in python_sources():
        text = path.read_text()
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\b(import|from) (pickle|joblib|cloudpickle|dill)\b", code):
                offences.append(f"{path.name}:{number}: pickle")
            if re.search(r"trust_remote_code\s*=\s*True", code):
                offences.append(f"{path.name}:{number}: trust_remote_code")
            if "torch.load(" in code and "weights_only=True" not in code:
                offences.append(f"{path.name}:{number}: torch.load without weights_only=True")
    assert offences == []


def test_launch_limits_uploads_and_served_paths():
    kwargs = launch_kwargs(load_settings(["--max-file-size-mb", "25"], environ={}))
    assert kwargs["max_file_size"] == "25mb"
    assert kwargs["allowed_paths"] == [str(REPO_ROOT / "assets")]
    assert kwargs["server_name"] == "127.0.0.1"


def test_auth_from_env_is_enforced(tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with serve_in_process(tmp_path, environ={"MMS_AUTH": "ann:s3cret"}) as url:
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            Client(url, verbose=False).predict(api_name="/models")
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, auth=("ann", "wrong"), verbose=False)
        models = Client(url, auth=("ann", "s3cret"), verbose=False).predict(api_name="/models")
        assert any(m["key"] == "minilm" for m in models)
