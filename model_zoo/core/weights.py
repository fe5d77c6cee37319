"""Where a model's weights are: a local path, an offline pack, the hub cache, or the hub.

Honours HF_HUB_OFFLINE / --offline: offline, a hub id that is not cached is an error
that says which model is missing and how to get it, raised before any library call."""
from __future__ import annotations

from pathlib import Path

from model_zoo.core import packs
from model_zoo.core.hub import hub_offline
from model_zoo.core.checkpoints import WHISPER_HOME, checkpoint_dirs, find_checkpoint
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.loading import LoadRequest
from model_zoo.core.registry import ModelSpec, is_overridden


def locate(spec: ModelSpec, cache_dir: Path, offline: bool = False) -> str:
    """A local folder/file for `spec`, or its hub id when the hub may be used."""
    source = spec.source
    if Path(source).expanduser().exists():
        return str(Path(source).expanduser())
    if spec.pack and not is_overridden(spec) and not _hub_instead_of_pack(spec, offline):
        return str(packs.pack_dir(spec.pack, cache_dir))
    cached = hub_cached(source)
    if cached:
        return cached
    if hub_offline(offline):
        raise _offline_error(spec)
    return source


# what a transformers model folder needs besides its weights (configs, tokenizers, processors)
CONFIG_FILES = ("*.json", "*.txt", "*.model", "*.spm", "*.tiktoken")


def fetch_weights(request: LoadRequest) -> None:
    """Bring a model's files onto the disk without building anything: the pack joined, or the
    hub snapshot downloaded (configs, tokenizer, and its safetensors, or its PyTorch .bin where
    it has none). The manager runs this before the build lock (model_zoo.core.imports), so a
    download of gigabytes never holds up another model's load. A local folder: nothing to do."""
    where = locate(request.spec, request.cache_dir, request.offline)
    if Path(where).expanduser().exists():
        return
    from huggingface_hub import HfApi, snapshot_download

    files = HfApi().list_repo_files(where)
    weights = "*.safetensors" if any(name.endswith(".safetensors") for name in files) else "*.bin"
    snapshot_download(where, allow_patterns=[*CONFIG_FILES, weights],
                      ignore_patterns=["onnx/*", "openvino/*", "*.onnx", "*.msgpack", "*.h5"])


def problem(spec: ModelSpec, cache_dir: Path, offline: bool = False,
            whisper_dir: Path = WHISPER_HOME) -> WeightsUnavailable | None:
    """Why `spec` cannot load here (the error its use would raise), or None. Cheap: no
    model load, no pack join, no heavy import, so tabs can say it at build time.
    `whisper_dir`: openai-whisper's own folder, where a `<size>.pt` may be too."""
    if spec.family == "openai_whisper" and spec.pack and not is_overridden(spec):
        return _openai_whisper_problem(spec, cache_dir, whisper_dir)
    if spec.pack and not is_overridden(spec) and not Path(spec.source).expanduser().exists():
        try:
            packs.check_pack(spec.pack)
            return None
        except WeightsUnavailable as exc:  # the hub copy, where it may be used (first use downloads it)
            return None if _hub_instead_of_pack(spec, offline) else exc
    if _present(spec, cache_dir, whisper_dir):
        return None
    checkpoint = _checkpoint_file(spec)
    if checkpoint is not None:  # a local file was named, and it is not there
        return WeightsUnavailable(spec.key, f"the checkpoint {checkpoint} set for it does not exist.", spec.how_to_get)
    if spec.family == "openai_whisper":  # its .pt never comes from the Hugging Face hub
        return WeightsUnavailable(spec.key, f"its weights ({spec.source}) are not on this machine.", spec.how_to_get)
    return _offline_error(spec) if hub_offline(offline) else None  # online: first use downloads


def _present(spec: ModelSpec, cache_dir: Path, whisper_dir: Path) -> bool:
    if Path(spec.source).expanduser().exists():
        return True
    if spec.family == "openai_whisper":
        return find_checkpoint(spec.source, cache_dir, whisper_dir) is not None
    if spec.family == "open_clip":
        return _open_clip_present(spec)
    checkpoint = _checkpoint_file(spec)
    if checkpoint is not None:
        return checkpoint.is_file()
    if spec.pack and not is_overridden(spec):
        try:
            packs.check_pack(spec.pack)
            return True
        except WeightsUnavailable:
            return False
    return hub_cached(spec.source) is not None


def _openai_whisper_problem(spec: ModelSpec, cache_dir: Path, whisper_dir: Path) -> WeightsUnavailable | None:
    """A real `<size>.pt` wins; else the CTranslate2 pack it is converted from on first use."""
    if find_checkpoint(spec.source, cache_dir, whisper_dir) is not None:
        return None
    try:
        packs.check_pack(spec.pack)
        return None
    except WeightsUnavailable as exc:
        looked = ", ".join(str(folder / f"{spec.source}.pt") for folder in checkpoint_dirs(cache_dir, whisper_dir))
        return WeightsUnavailable(spec.key, f"no openai-whisper checkpoint was found (looked for {looked}), and "
                                  f"the CTranslate2 pack it can be converted from is missing: {exc.detail}",
                                  spec.how_to_get)


def _hub_instead_of_pack(spec: ModelSpec, offline: bool) -> bool:
    """True when the pack is not installed but the same model is on the hub (its source is
    a hub id) and the hub may be used, or has it cached. Spaces install requirements.txt
    only, so there the MPNet pack (requirements-packs.txt) is absent and MPNet comes from
    the hub. Offline with no cached copy, the pack's own error (what to install) stands."""
    if spec.source.count("/") != 1 or spec.source.startswith(("/", "~", ".")):
        return False  # not a hub id (e.g. efficientnet-lite0, openai-whisper's "base")
    try:
        packs.check_pack(spec.pack)
        return False
    except WeightsUnavailable:
        return not hub_offline(offline) or hub_cached(spec.source) is not None


def _checkpoint_file(spec: ModelSpec) -> Path | None:
    """The local file of a source given as ARCHITECTURE:/path/to/checkpoint (open_clip,
    EfficientNet-Lite), else None."""
    if spec.family not in ("open_clip", "efficientnet_lite") or spec.source.startswith("hf-hub:"):
        return None
    _, _, pretrained = spec.source.partition(":")
    if spec.family == "efficientnet_lite":  # no tags: anything after the colon is a path
        return Path(pretrained).expanduser() if pretrained else None
    return Path(pretrained).expanduser() if pretrained.startswith(("/", "~", ".")) else None


def _open_clip_present(spec: ModelSpec) -> bool:
    """open_clip sources are MODEL:TAG (open_clip fetches the tag from the hub),
    MODEL:/path/to/checkpoint, or hf-hub:org/repo."""
    if spec.source.startswith("hf-hub:"):
        return hub_cached(spec.source.removeprefix("hf-hub:")) is not None
    checkpoint = _checkpoint_file(spec)
    if checkpoint is not None:
        return checkpoint.is_file()
    return _some_clip_in_hub_cache()


def _some_clip_in_hub_cache() -> bool:
    """A MODEL:TAG source maps to a hub repo only inside open_clip (not imported here):
    any cached CLIP repo counts, and the exact error, if any, comes on first use."""
    try:
        from huggingface_hub.constants import HF_HUB_CACHE
    except ImportError:
        return False
    return any("clip" in p.name.lower() for p in Path(HF_HUB_CACHE).glob("models--*"))


def _offline_error(spec: ModelSpec) -> WeightsUnavailable:
    return WeightsUnavailable(
        spec.key,
        f"its weights ({spec.source}) are not on this machine and the app is offline (--offline, HF_HUB_OFFLINE=1, "
        "or no model hub answered when it started).",
        spec.how_to_get,
    )


def hub_cached(repo_id: str) -> str | None:
    """The local snapshot of a hub repo if it is fully cached, else None (no network)."""
    if "/" not in repo_id or repo_id.count("/") > 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not cached, or not a valid repo id
        return None
