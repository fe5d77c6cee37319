"""Text: sentence encoders (`sentence_encoder`: MPNet and MiniLM through transformers, with
mean pooling and an int8 / bf16 CPU path) and the optional text translator (`translator`:
NLLB) used after speech. Both are model families loaded through the core manager."""
