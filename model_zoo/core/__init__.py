"""The core every capability stands on, and which knows none of them: the registry of
models (`registry.REGISTRY`, one `ModelSpec` each), the `ModelManager` (lazy, single-flight
loads, LRU under a per-device memory budget, status for the System tab), weights inside
installed pip packages (`packs`) and their checks (`weights`, with `checkpoints` for
openai-whisper's own `.pt` files), device and dtype policy (`devices`), atomic writes
(`storage`), errors a person can act on (`errors`) and who owns what on disk (`ownership`).
A model family's loader is named by module path in `backends.LOADERS` and imported only on
first use."""
