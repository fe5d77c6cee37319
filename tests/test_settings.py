"""Settings: CLI flags > MMS_* environment > defaults."""
from pathlib import Path

import pytest

from app.settings import Settings, load_settings


def test_defaults():
    settings = load_settings([], environ={})
    assert settings.port == Settings().port and settings.device == "auto" and settings.offline is False


def test_env_then_cli_precedence():
    env = {"MMS_PORT": "9000", "MMS_DEVICE": "cpu", "MMS_OFFLINE": "1", "MMS_PRELOAD": "minilm,whisper-base"}
    settings = load_settings([], environ=env)
    assert (settings.port, settings.device, settings.offline) == (9000, "cpu", True)
    assert settings.preload == ("minilm", "whisper-base")
    settings = load_settings(["--port", "9100", "--models", "clip=/x/y", "--data-dir", "/tmp/d"], environ=env)
    assert settings.port == 9100 and settings.device == "cpu"
    assert settings.model_overrides == {"clip": "/x/y"} and settings.data_dir == Path("/tmp/d")


def test_budget_and_auth_parsing():
    settings = load_settings(["--memory-budget-mb", "cpu=1000,cuda=2000", "--auth", "ann:pw1,bob:pw:2"], environ={})
    assert settings.budget_mb == {"cpu": 1000, "cuda": 2000}
    assert settings.auth_pairs == [("ann", "pw1"), ("bob", "pw:2")]
    assert load_settings(["--memory-budget-mb", "512"], environ={}).budget_mb == {"cpu": 512, "cuda": 512, "mps": 512}
    config = settings.manager_config()
    assert config.budget_bytes("cuda:0") == 2000 * 2**20


def test_boolean_flags_take_an_optional_value():
    assert load_settings(["--offline"], environ={}).offline is True
    assert load_settings(["--offline", "false"], environ={"MMS_OFFLINE": "1"}).offline is False
    assert load_settings(["--share", "yes"], environ={}).share is True


def test_a_setting_with_choices_refuses_others():
    assert load_settings(["--sentiment-precision", "int8"], environ={}).sentiment_precision == "int8"
    assert load_settings([], environ={"MMS_SENTIMENT_PRECISION": "fp32"}).sentiment_precision == "fp32"
    assert load_settings([], environ={}).sentiment_precision == "auto"
    with pytest.raises(SystemExit):
        load_settings([], environ={"MMS_SENTIMENT_PRECISION": "fp8"})
