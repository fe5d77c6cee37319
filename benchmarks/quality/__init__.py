"""How good the answers are: the offline candidates a choice was made among (Chinese sentiment and
search) and the shipped heads' half-size copies against the originals
(`python -m benchmarks.quality.<name>`)."""
