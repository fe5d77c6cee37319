"""Settings: CLI flags > MMS_* environment > defaults; every option described once, in its field."""
import ast
import re
from dataclasses import fields
from pathlib import Path
from textwrap import dedent

import pytest

from app import settings as settings_module
from app.settings import (README, REPO_ROOT as REPO, Settings, build_parser, load_settings, options_markdown,
                          readme_with_options)


def test_defaults():
    settings = load_settings([], environ={})
    assert (settings.host, settings.port, settings.device, settings.offline) == ("127.0.0.1", 7860, "auto", False)


def test_the_platform_variables_come_after_the_app_s_own():
    """Spaces (and gradio) name the address GRADIO_SERVER_*: read where MMS_* and the flag are not given."""
    spaces = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7861"}
    assert (load_settings([], environ=spaces).host, load_settings([], environ=spaces).port) == ("0.0.0.0", 7861)
    assert load_settings([], environ={**spaces, "MMS_PORT": "9000"}).port == 9000
    assert load_settings(["--port", "9100"], environ={**spaces, "MMS_PORT": "9000"}).port == 9100


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


# -- one place: each field carries its help, choices and variable ----------------------------
def test_every_field_says_what_it_is():
    for f in fields(Settings):
        assert f.metadata["env"] == "MMS_" + f.name.upper(), f.name
        assert len(f.metadata["help"]) > 10, f"{f.name} has no help"
        if f.metadata["choices"]:
            assert getattr(Settings(), f.name) in f.metadata["choices"], f"{f.name}'s default is not a choice"


def test_help_lists_every_option_with_its_variable():
    text = " ".join(build_parser().format_help().split())  # argparse wraps lines anywhere
    for f in fields(Settings):
        assert "--" + f.name.replace("_", "-") in text and f.metadata["env"] in text, f.name
    assert set(vars(build_parser(only=("port", "warm")).parse_args([]))) == {"port", "warm"}


def test_the_readme_table_is_the_generated_one():
    """Regenerate with `python -m app.settings --readme`."""
    text = README.read_text()
    table = re.search(r"<!-- options:start -->\n(.*?)<!-- options:end -->", text, re.S)
    assert table is not None, "README.md lost its options markers"
    assert table.group(1) == options_markdown(), "stale: run python -m app.settings --readme"
    assert readme_with_options(text) == text
    rows = options_markdown().splitlines()[2:]
    assert len(rows) == len(fields(Settings)) and all(row.startswith("| `--") for row in rows)


def test_the_table_writer_needs_its_markers(tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match="markers"):
        readme_with_options("# no table here\n")
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- options:start -->\nold\n<!-- options:end -->\nrest\n")
    monkeypatch.setattr(settings_module, "README", readme)
    assert settings_module.main(["--readme"]) == 0
    assert readme.read_text() == f"intro\n<!-- options:start -->\n{options_markdown()}<!-- options:end -->\nrest\n"
    assert settings_module.main(["--markdown"]) == 0 and capsys.readouterr().out == options_markdown()


def test_the_manager_s_defaults_are_the_settings_defaults(monkeypatch):
    """One source (model_zoo.core.manager): a script's ManagerConfig() uses the app's budget and cache."""
    from model_zoo.core.manager import ManagerConfig

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    config, default = load_settings([], environ={}).manager_config(), ManagerConfig()
    assert (config.budget_mb, config.cache_dir) == (dict(default.budget_mb), default.cache_dir)
    cpu_only = load_settings(["--memory-budget-mb", "cpu=1000"], environ={}).manager_config()
    assert cpu_only.budget_bytes("cpu") == 1000 * 2**20
    assert cpu_only.budget_bytes("cuda:0") == default.budget_bytes("cuda:0")  # left out: its default


def test_a_model_s_own_variable_overrides_its_source_and_the_flag_wins(monkeypatch):
    from model_zoo.core.manager import ModelManager
    from model_zoo.core.registry import REGISTRY, resolve

    env = {"MMS_MODEL_CLIP": "/env/clip", "MMS_MODEL_CAPTIONER_GIT": " microsoft/git-large ", "MMS_MODEL_NOPE": "x"}
    settings = load_settings([], environ=env)
    assert settings.model_overrides == {"clip": "/env/clip", "captioner-git": "microsoft/git-large"}
    assert ModelManager(settings.manager_config()).spec("clip").source == "/env/clip"
    assert load_settings(["--models", "clip=/flag"], environ=env).model_overrides["clip"] == "/flag"
    assert load_settings([], environ={**env, "MMS_MODELS": "clip=/list"}).model_overrides["clip"] == "/list"
    monkeypatch.setenv("MMS_MODEL_CLIP", "/not/read/here")  # the registry reads what it is handed, only
    assert resolve("clip").source == REGISTRY["clip"].source


def test_openai_whisper_s_folder_is_a_setting_handed_to_the_manager(monkeypatch, tmp_path):
    from model_zoo.core.checkpoints import WHISPER_HOME, checkpoint_dirs

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert load_settings([], environ={}).whisper_dir == WHISPER_HOME
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # openai-whisper's own rule
    assert load_settings([], environ={}).manager_config().whisper_dir == tmp_path / "whisper"
    chosen = load_settings(["--whisper-dir", str(tmp_path / "pt")], environ={}).manager_config()
    assert checkpoint_dirs(chosen.cache_dir, chosen.whisper_dir)[-1] == tmp_path / "pt"


def test_sign_in_follows_the_space_s_oauth_unless_told():
    assert load_settings([], environ={}).oauth is False
    assert load_settings([], environ={"OAUTH_CLIENT_ID": "abc-123"}).oauth is True  # hf_oauth: true
    assert load_settings([], environ={"OAUTH_CLIENT_ID": "abc-123", "MMS_OAUTH": "false"}).oauth is False
    assert load_settings(["--oauth"], environ={}).oauth is True


def test_the_visitor_asks_the_settings_about_sign_in(tmp_path, monkeypatch):
    from components import visitor
    from components.context import StudioContext

    monkeypatch.delenv("OAUTH_CLIENT_ID", raising=False)
    on = load_settings(["--data-dir", str(tmp_path)], environ={"OAUTH_CLIENT_ID": "abc-123"})
    assert visitor.oauth_enabled(StudioContext(manager=None, settings=on))
    off = load_settings(["--data-dir", str(tmp_path)], environ={})
    monkeypatch.setenv("OAUTH_CLIENT_ID", "abc-123")  # read by the settings, not here
    assert not visitor.oauth_enabled(StudioContext(manager=None, settings=off))


def test_the_limits_are_settings(tmp_path):
    """What was hard-coded in app/blocks.py, components/sentiment.py and app/zerogpu.py."""
    assert load_settings([], environ={}).delete_cache == (900, 3600)  # an hour, swept every 15 min
    assert load_settings(["--file-ttl-minutes", "10"], environ={}).delete_cache == (150, 600)
    assert load_settings([], environ={"MMS_QUEUE_SIZE": "8"}).queue_size == 8
    assert load_settings([], environ={}).zerogpu_durations["*"] == 60


def test_the_sentiment_batch_takes_at_most_its_setting_s_rows(tmp_path):
    from components import sentiment
    from components.context import StudioContext
    from model_zoo.core.errors import InputError

    table = tmp_path / "three.csv"
    table.write_text("text\nfine\ngood\nbad\n")
    settings = load_settings(["--data-dir", str(tmp_path), "--sentiment-max-rows", "2"], environ={})
    with pytest.raises(InputError, match="3 rows; batch mode takes up to 2"):
        sentiment.batch_predict(StudioContext(manager=None, settings=settings), str(table), "text", "")


# -- who reads the environment -----------------------------------------------------------------
# A setting is read in app/settings.py and handed down (Settings, ManagerConfig, StudioContext).
# These alone may touch os.environ, each for a reason that is not a setting of ours:
ENVIRON_READERS = {
    "app.settings": "the settings: MMS_*, and the platforms' variables they stand for (GRADIO_SERVER_*, ...)",
    "app.zerogpu": "ZeroGPU's detection, SPACES_ZERO_GPU, read as the spaces package and gradio read it",
    "model_zoo.core.hub": "the hub probe (HF_ENDPOINT) and the offline variables it sets for every library",
    "model_zoo": "OMP_WAIT_POLICY, set for OpenMP before torch and faiss load (in scripts and tests too)",
    "model_zoo.core.devices": "oneDNN's own ISA cap (ONEDNN_MAX_CPU_ISA): bf16 is emulated under an AVX2 cap",
    "model_zoo.speech.faster_whisper_backend": "OMP_NUM_THREADS, honoured for CTranslate2 as torch honours it",
}
RUNTIME = ("app", "components", "model_zoo", "app.py")  # no os.environ but in ENVIRON_READERS
EVERYWHERE = (*RUNTIME, "scripts", "benchmarks")  # no MMS_* read but in app.settings
ENVIRON_API = {"environ", "environb", "getenv", "putenv", "unsetenv"}


def python_modules(root: Path, sources=EVERYWHERE) -> dict[str, ast.Module]:
    """module name ('app.settings', 'model_zoo', 'app.py') -> its syntax tree."""
    modules = {}
    for name in sources:
        top = root / name
        for path in [top] if top.is_file() else sorted(top.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            module = path.name if path.parent == root else ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[module] = ast.parse(path.read_text(), str(path))
    return modules


def _is_os(node: ast.AST, os_names: set[str]) -> bool:
    return (isinstance(node, ast.Name) and node.id in os_names) or (  # os, or `import os as _os`
        isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__")  # __import__("os")


def environ_uses(tree: ast.Module) -> list[int]:
    """Lines that touch the process environment: os.environ, os.getenv, `from os import environ`."""
    os_names = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
                if a.name == "os"}
    return sorted(node.lineno for node in ast.walk(tree)
                  if (isinstance(node, ast.ImportFrom) and node.module == "os"
                      and any(a.name in ENVIRON_API for a in node.names))
                  or (isinstance(node, ast.Attribute) and node.attr in ENVIRON_API and _is_os(node.value, os_names)))


def _names_mms(node: ast.AST) -> bool:
    """'MMS_PORT', f'MMS_{name}', 'MMS_' + name."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.startswith("MMS_")
    if isinstance(node, ast.JoinedStr):
        return bool(node.values) and _names_mms(node.values[0])
    return isinstance(node, ast.BinOp) and _names_mms(node.left)


def mms_reads(tree: ast.Module) -> list[int]:
    """Lines that look an MMS_* variable up in an environment (os.environ or a mapping named so)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            where, keys = node.func, node.args[:1]
        elif isinstance(node, ast.Subscript):
            where, keys = node.value, [node.slice]
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            where, keys = node.comparators[0], [node.left]
        else:
            continue
        if any(word in ast.unparse(where) for word in ("environ", "getenv")) and any(map(_names_mms, keys)):
            lines.append(node.lineno)
    return lines


def environ_breaches(root: Path) -> dict[str, list[int]]:
    modules = python_modules(root, RUNTIME)
    return {m: lines for m, tree in modules.items() if m not in ENVIRON_READERS and (lines := environ_uses(tree))}


def mms_breaches(root: Path) -> dict[str, list[int]]:
    modules = python_modules(root, EVERYWHERE)
    return {m: lines for m, tree in modules.items() if m != "app.settings" and (lines := mms_reads(tree))}


def test_only_the_settings_read_the_environment():
    assert environ_breaches(REPO) == {}, "read it in app/settings.py and pass it down (or say why in ENVIRON_READERS)"
    assert mms_breaches(REPO) == {}, "an MMS_* variable is a setting: a field of app.settings.Settings"
    readers = python_modules(REPO, RUNTIME)
    assert all(environ_uses(readers[m]) for m in ENVIRON_READERS), "an allowance no longer needed: drop it"


BROKEN_ENV = {
    "app/settings.py": "import os\nPORT = os.environ.get('MMS_PORT')\n",  # the one place: fine
    "app/blocks.py": "from .settings import PORT\nfrom os import path\n",
    "model_zoo/__init__.py": "import os as _os\n_os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')\n",  # allowed
    "model_zoo/core/hub.py": "import os\nos.environ['HF_HUB_OFFLINE'] = '1'\n",  # allowed
    "model_zoo/core/registry.py": """
        import os as _os
        def source(key, environ=None):
            environ = _os.environ if environ is None else environ
            return environ.get(f"MMS_MODEL_{key.upper()}")
        """,
    "model_zoo/core/checkpoints.py": "import os\nHOME = os.getenv('XDG_CACHE_HOME')\n",
    "components/visitor.py": "from os import environ\nON = bool(environ.get('OAUTH_CLIENT_ID'))\n",
    "components/other.py": "def told(settings):\n    return settings.environ_name == 'MMS_X'\n",  # no lookup
    "scripts/job.py": "import os\nWARM = 'MMS_WARM' in os.environ or __import__('os').environ['MMS_' + 'X']\n",
    "benchmarks/run.py": "import os\nENV = {k: v for k, v in os.environ.items() if not k.startswith('MMS_')}\n",
}


def test_the_environment_checker_sees_what_it_must(tmp_path):
    for name, text in BROKEN_ENV.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip())
    assert environ_breaches(tmp_path) == {"model_zoo.core.registry": [3], "model_zoo.core.checkpoints": [2],
                                          "components.visitor": [1]}
    assert mms_breaches(tmp_path) == {"model_zoo.core.registry": [4], "scripts.job": [2, 2]}  # `in`, then [...]


def test_micro_batching_is_a_setting_handed_to_the_manager():
    from model_zoo.core.loading import BatchPolicy

    settings = load_settings(["--batch-size", "mpnet=16,efficientnet-lite0=4", "--batch-wait-ms", "3,mpnet=5"],
                             environ={})
    wanted = {"mpnet": BatchPolicy(16, 5.0), "efficientnet-lite0": BatchPolicy(4, 3.0)}
    assert settings.manager_config().batching == wanted
    assert load_settings([], environ={"MMS_BATCH_SIZE": "minilm=1"}).batching == {"minilm": BatchPolicy(1, 2.0)}
