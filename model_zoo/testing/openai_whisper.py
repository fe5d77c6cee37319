"""A tiny random openai-whisper checkpoint in the package's own format ({"dims",
"model_state_dict"}), so the openai-whisper backend loads it through whisper.load_model
exactly as it loads base.pt. Output is gibberish; shapes and code paths are real."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path


def save_tiny_openai_whisper(folder: Path) -> Path:
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    dims = ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=16, n_audio_head=2, n_audio_layer=1,
        n_vocab=51865, n_text_ctx=448, n_text_state=16, n_text_head=2, n_text_layer=1,
    )
    model = Whisper(dims)
    with torch.no_grad():  # whisper allocates this one with torch.empty (checkpoints fill it)
        model.decoder.positional_embedding.normal_(0, 0.02)
    path = Path(folder) / "tiny.pt"
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path
