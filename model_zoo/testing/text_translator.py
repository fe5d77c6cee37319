"""A tiny random NLLB-style translator (M2M100 architecture, the one NLLB uses) with a
word-level fast tokenizer holding NLLB language tokens, saved to disk so the translator
backend loads it with AutoTokenizer / AutoModelForSeq2SeqLM like the real weights."""
from __future__ import annotations

from pathlib import Path

WORDS = "a glass of water and piece bread good morning please un verre d eau et pain".split()
LANG_TOKENS = ["eng_Latn", "fra_Latn", "deu_Latn"]


def save_tiny_text_translator(folder: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, PreTrainedTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = {token: i for i, token in enumerate(specials + LANG_TOKENS + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        additional_special_tokens=LANG_TOKENS,
    )
    torch.manual_seed(0)
    config = M2M100Config(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
    )
    model = M2M100ForConditionalGeneration(config)
    folder = Path(folder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
