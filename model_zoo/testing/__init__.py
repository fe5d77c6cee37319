"""Tiny random models saved to disk in the real formats (open_clip, BLIP, diffusers,
CTranslate2 and openai-whisper, sentence-transformers, EfficientNet-Lite, a sentiment head,
a translator), so tests and benchmarks load them through the same code as real weights on a
machine where those weights cannot be. Nothing the app runs imports this package."""
