"""A tiny random Whisper in CTranslate2's format, made the way faster-whisper's models are
made: a random transformers WhisperForConditionalGeneration saved to disk, then
ctranslate2's own TransformersConverter. The tokenizer is the offline pack's (Whisper's
real multilingual vocabulary), so the CT2 folder looks like a real one in every file."""
from __future__ import annotations

import shutil
from pathlib import Path

TINY = dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
            encoder_ffn_dim=128, decoder_ffn_dim=128, num_mel_bins=80, vocab_size=51865,
            max_source_positions=1500, max_target_positions=448)


def save_tiny_hf_whisper(folder: Path, tokenizer_dir: Path) -> Path:
    """A random WhisperForConditionalGeneration (float32) with the real tokenizer files."""
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(0)
    config = WhisperConfig(**TINY, decoder_start_token_id=50258, pad_token_id=50257, bos_token_id=50257,
                           eos_token_id=50257, suppress_tokens=[1, 2, 7], begin_suppress_tokens=[220, 50257])
    model = WhisperForConditionalGeneration(config).eval()
    with torch.no_grad():  # random biases everywhere (init leaves them at zero), so a dropped one shows
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.normal_(0, 0.05)
    hf_dir = Path(folder) / "hf"
    model.save_pretrained(hf_dir)
    for name in ("tokenizer.json",):
        shutil.copy(Path(tokenizer_dir) / name, hf_dir / name)
    return hf_dir


def save_tiny_ct2_whisper(folder: Path, tokenizer_dir: Path, quantization: str = "float16") -> tuple[Path, Path]:
    """(the transformers folder, the CTranslate2 folder converted from it)."""
    from ctranslate2.converters import TransformersConverter

    hf_dir = save_tiny_hf_whisper(folder, tokenizer_dir)
    ct2_dir = Path(folder) / f"ct2-{quantization}"
    TransformersConverter(str(hf_dir)).convert(str(ct2_dir), quantization=quantization, force=True)
    return hf_dir, ct2_dir
