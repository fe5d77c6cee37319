"""What a backend's load() gets. Its own module, below both the manager (which makes
requests) and the backends (which take them), so imports only point down."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from model_zoo.core.batching import BatchPolicy
from model_zoo.core.checkpoints import WHISPER_HOME
from model_zoo.core.registry import ModelSpec


@dataclass(frozen=True)
class LoadRequest:
    """What a backend's load() gets: the resolved spec and where/how to run it."""

    spec: ModelSpec
    device: str
    dtype: str
    cache_dir: Path
    offline: bool
    whisper_dir: Path = WHISPER_HOME  # openai-whisper's own checkpoint folder
    batch: BatchPolicy | None = None  # how the built model micro-batches concurrent calls (None: it does not)
