"""Tiny random image-to-text models saved like real ones (config + safetensors + image
processor + tokenizer files), so the captioner backend loads them through the very code
path it uses for Salesforce/blip-image-captioning-base, microsoft/git-base or a
ViT-GPT2 captioner. Their captions are random words; their shapes and plumbing are real."""
from __future__ import annotations

from pathlib import Path

WORDS = ("a an the of on in with and is dog cat man woman person cup coffee rocket sky red blue "
         "green sitting standing picture photo close up table grass street water next to").split()
IMAGE_SIZE = 32


def _bert_tokenizer(folder: Path, extra_special: tuple[str, ...] = ()):
    from transformers import BertTokenizerFast

    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *extra_special, *WORDS, *"abcdefghijklmnopqrstuvwxyz.,"]
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(tokens)})
    if extra_special:  # BLIP's [DEC] must be special so decoding drops it
        tokenizer.add_special_tokens({"additional_special_tokens": list(extra_special)})
    return tokenizer


def save_tiny_blip(
    folder: Path, seed: int = 0, hidden: int = 32, layers: int = 1, image_size: int = IMAGE_SIZE
) -> Path:
    """A BlipForConditionalGeneration with small towers (1 layer, 32 wide by default),
    laid out like the BLIP captioning repos. The benchmark asks for wider ones."""
    import torch
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipImageProcessor

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _bert_tokenizer(folder, extra_special=("[DEC]",))
    vocab = tokenizer.get_vocab()
    text = dict(
        vocab_size=len(vocab),
        hidden_size=hidden,
        encoder_hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        max_position_embeddings=64,
        initializer_range=0.5,
        bos_token_id=vocab["[DEC]"],
        pad_token_id=vocab["[PAD]"],
        sep_token_id=vocab["[SEP]"],
        eos_token_id=vocab["[SEP]"],
    )
    vision = dict(hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers, num_attention_heads=2,
                  image_size=image_size, patch_size=8, initializer_range=0.5)
    torch.manual_seed(seed)
    model = BlipForConditionalGeneration(BlipConfig(text_config=text, vision_config=vision, projection_dim=hidden))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    BlipImageProcessor(size={"height": image_size, "width": image_size}).save_pretrained(folder)
    return folder


def save_tiny_git(folder: Path, seed: int = 0) -> Path:
    """A GitForCausalLM (CLIP-style image encoder feeding a BERT-style decoder), like microsoft/git-base."""
    import torch
    from transformers import CLIPImageProcessor, GitConfig, GitForCausalLM

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _bert_tokenizer(folder)
    vocab = tokenizer.get_vocab()
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                  image_size=IMAGE_SIZE, patch_size=8, initializer_range=0.5)
    config = GitConfig(vision_config=vision, vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                       num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=64,
                       initializer_range=0.5, bos_token_id=vocab["[CLS]"], eos_token_id=vocab["[SEP]"],
                       pad_token_id=vocab["[PAD]"])
    torch.manual_seed(seed)
    GitForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
                       ).save_pretrained(folder)
    return folder


def save_tiny_vit_gpt2(folder: Path, seed: int = 0) -> Path:
    """A VisionEncoderDecoderModel (ViT encoder, GPT-2 decoder) with a byte-level BPE
    tokenizer trained on the word list, like nlpconnect/vit-gpt2-image-captioning."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import (GPT2Config, PreTrainedTokenizerFast, ViTConfig, ViTImageProcessor,
                              VisionEncoderDecoderConfig, VisionEncoderDecoderModel)

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([" ".join(WORDS)] * 4, vocab_size=300, special_tokens=["<|endoftext|>"])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                                        eos_token="<|endoftext|>")
    end = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    encoder = ViTConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                        image_size=IMAGE_SIZE, patch_size=8, initializer_range=0.5)
    decoder = GPT2Config(vocab_size=tokenizer.vocab_size, n_embd=32, n_layer=1, n_head=2, n_positions=64,
                         initializer_range=0.5, bos_token_id=end, eos_token_id=end)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = config.pad_token_id = config.eos_token_id = end
    torch.manual_seed(seed)
    VisionEncoderDecoderModel(config=config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    ViTImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}).save_pretrained(folder)
    return folder
