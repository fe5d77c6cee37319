"""Tiny random sentence encoders saved like real ones (safetensors + tokenizer): BERT
(MiniLM's architecture) and MPNet (all-mpnet-base-v2's)."""
from __future__ import annotations

from pathlib import Path

WORDS = "good bad great awful movie film plot boring lovely terrible fun dull the a is was and not".split()


VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *"abcdefghijklmnopqrstuvwxyz.,!?"]


def _tokenizer():
    from transformers import BertTokenizerFast

    # transformers 5 ignores vocab_file for the fast tokenizer: pass the vocabulary itself.
    return BertTokenizerFast(vocab={token: i for i, token in enumerate(VOCAB)})


def save_tiny_text_encoder(folder: Path, hidden: int = 32) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    tokenizer = _tokenizer()
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=hidden, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_mpnet_encoder(folder: Path, hidden: int = 32) -> Path:
    """MPNet layers take a relative position bias shared across layers: the path a tuned
    head's layer copies must follow too."""
    import torch
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(0)
    config = MPNetConfig(vocab_size=len(VOCAB), hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=130, pad_token_id=0)
    MPNetModel(config).save_pretrained(folder, safe_serialization=True)
    _tokenizer().save_pretrained(folder)
    return folder
