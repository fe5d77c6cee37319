"""A tiny random Stable Diffusion pipeline saved like a real one (model_index.json, one
folder per component, safetensors, a CLIP BPE tokenizer's vocab.json + merges.txt), so
the diffusion backend loads it through AutoPipelineForText2Image exactly as it loads
SimianLuo/LCM_Dreamshaper_v7 or stabilityai/sdxl-turbo. Its images are noise; its shapes,
scheduler, VAE scale factor (8, as in SD) and plumbing are real."""
from __future__ import annotations

import json
from pathlib import Path

WORDS = ("a an the of on in with and cat dog red blue green sky sea city street night photo painting "
         "astronaut horse rocket cup coffee tree mountain").split()


def _byte_symbols() -> list[str]:
    """GPT-2/CLIP byte-level alphabet: each of the 256 bytes as a printable character."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols, extra = [], 0
    for byte in range(256):
        if byte in printable:
            symbols.append(chr(byte))
        else:
            symbols.append(chr(256 + extra))
            extra += 1
    return symbols


def clip_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A CLIP BPE vocabulary built here: every byte symbol alone and word-final (`</w>`),
    merges that spell out each of WORDS, and the two special tokens."""
    symbols = _byte_symbols()
    vocab = [*symbols, *(s + "</w>" for s in symbols)]
    merges: list[tuple[str, str]] = []
    for word in WORDS:
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        while len(pieces) > 1:  # merge left to right; each new symbol joins the vocabulary
            pair = (pieces[0], pieces[1])
            if pair not in merges:
                merges.append(pair)
            if "".join(pair) not in vocab:
                vocab.append("".join(pair))
            pieces = ["".join(pair), *pieces[2:]]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return {token: i for i, token in enumerate(vocab)}, merges


def _write_clip_tokenizer(folder: Path, vocab: dict[str, int], merges: list[tuple[str, str]]) -> None:
    """The tokenizer folder as the SD repos lay it out: vocab.json + merges.txt (no
    tokenizer.json), so loading goes through the same files a real repo has."""
    from transformers import CLIPTokenizer

    CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77).save_pretrained(folder)
    (folder / "tokenizer.json").unlink(missing_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")


def save_tiny_diffusion(folder: Path, seed: int = 0, width: int = 8, text_hidden: int = 32,
                        scheduler: str = "euler_a") -> Path:
    """A StableDiffusionPipeline with a two-level UNet (`width` channels), a four-level
    VAE (scale factor 8, as in SD) and a two-layer CLIP text encoder. `scheduler`:
    "euler_a" (ancestral Euler, trailing timesteps: SD-Turbo's) or "lcm" (LCMScheduler).
    The benchmark asks for a wider UNet."""
    import torch
    from diffusers import (AutoencoderKL, EulerAncestralDiscreteScheduler, LCMScheduler, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = clip_vocab()
    vocab_size = len(vocab)
    torch.manual_seed(seed)
    groups = min(4, width)
    unet = UNet2DConditionModel(
        block_out_channels=(width, 2 * width), layers_per_block=1, sample_size=64, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=text_hidden, attention_head_dim=2, norm_num_groups=groups,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 8, 8), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=1,
        sample_size=512,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=text_hidden, intermediate_size=2 * text_hidden, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=77, bos_token_id=vocab_size - 2, eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1,
    ))
    betas = dict(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000, steps_offset=1
    )
    if scheduler == "lcm":
        sched = LCMScheduler(**betas, timestep_spacing="leading")
    else:
        sched = EulerAncestralDiscreteScheduler(**betas, timestep_spacing="trailing")
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=CLIPTokenizer(vocab=vocab, merges=merges),
        unet=unet,
        scheduler=sched,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    _write_clip_tokenizer(folder / "tokenizer", vocab, merges)
    return folder
