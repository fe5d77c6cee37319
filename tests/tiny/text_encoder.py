"""A tiny random BERT sentence encoder saved like a real one (safetensors + tokenizer)."""
from __future__ import annotations

from pathlib import Path

WORDS = "good bad great awful movie film plot boring lovely terrible fun dull the a is was and not".split()


def save_tiny_text_encoder(folder: Path, hidden: int = 32) -> Path:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *"abcdefghijklmnopqrstuvwxyz.,!?"]
    # transformers 5 ignores vocab_file for the fast tokenizer: pass the vocabulary itself.
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)})
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
