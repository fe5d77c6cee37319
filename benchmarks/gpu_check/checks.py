"""Every check in the report's order, and picking them by name or alias (`--models`)."""
from __future__ import annotations

from .context import Check
from .imagine_check import DIFFUSION
from .speech_checks import CONVERT, _speech_check
from .text_checks import MPNET, _sentiment_check
from .vision_checks import BRIDGE, _efficientnet_check

ALIASES = {
    "whisper": "whisper-base", "faster-whisper": "whisper-base", "whisper-base": "whisper-base",
    "openai-whisper": "whisper-base-openai", "whisper-openai": "whisper-base-openai",
    "whisper-base-openai": "whisper-base-openai",
    "ct2-convert": "ct2-convert", "conversion": "ct2-convert", "convert": "ct2-convert", "ct2": "ct2-convert",
    "minilm": "minilm", "mpnet": "mpnet",
    "sentiment": "sentiment-default", "sentiment-default": "sentiment-default", "default-head": "sentiment-default",
    "efficientnet": "efficientnet-lite0", "efficientnet-lite0": "efficientnet-lite0",
    "label-bridge": "label-bridge", "bridge": "label-bridge", "labels": "label-bridge",
    "tiny-diffusion": "tiny-diffusion", "diffusion": "tiny-diffusion", "imagine": "tiny-diffusion",
}


def all_checks() -> list[Check]:
    return [
        _speech_check("whisper-base", "whisper-base", "faster-whisper"),
        CONVERT,
        _speech_check("whisper-base-openai", "whisper-base-openai", "openai-whisper"),
        _sentiment_check("minilm", ("minilm",), "fast", budget=True),
        MPNET,
        _sentiment_check("sentiment-default", ("mpnet", "minilm"), "default", budget=False),
        _efficientnet_check(),
        BRIDGE,
        DIFFUSION,
    ]


def select(names: list[str] | None) -> list[Check]:
    checks = all_checks()
    if not names:
        return checks
    wanted: list[str] = []
    tokens = [t.strip() for chunk in names for t in chunk.split(",") if t.strip()]
    for token in tokens:
        key = ALIASES.get(token.lower().replace(" ", "-").replace("_", "-"))
        if key is None:
            raise SystemExit(f"unknown model '{token}': one of {', '.join(c.name for c in checks)}")
        if key not in wanted:
            wanted.append(key)
    return [c for c in checks if c.name in wanted]


CHECKS_BY_NAME = {c.name: c for c in all_checks()}
