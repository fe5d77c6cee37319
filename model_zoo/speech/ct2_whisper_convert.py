"""A CTranslate2 Whisper folder (model.bin, config.json, vocabulary.json) made into
openai-whisper's own model (`whisper.model.Whisper`), once, cached as safetensors.

CTranslate2 exposes no variable accessor, so model.bin is read as the format its
converter writes (ctranslate2/specs/model_spec.py, `_serialize`, binary version 6):
    u32 version, str spec name, u32 revision, u32 n_vars,
    n_vars x (str name, u8 rank, rank x u32 dim, u8 dtype id, u32 nbytes, bytes),
    u32 n_aliases, n_aliases x (str alias, str target)
with str = u16 length (incl. NUL) + utf-8 + NUL. The mapping inverts
ctranslate2.converters.transformers.WhisperLoader: q/k/v fused into one linear for
self-attention and k/v fused for cross-attention (the key, which has no bias in Whisper,
gets zeros there), layer norms as gamma/beta, the output projection aliased to the
token embedding, alignment heads in config.json. The vocabulary is checked token for
token against openai-whisper's own tiktoken tokenizer, which the model then uses.

The cache is written atomically beside a stamp holding its sha256, this converter's
version and the source model.bin's sha256: a stale or damaged cache is rebuilt."""
from __future__ import annotations

import json
import logging
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.storage import atomic_write_bytes, atomic_write_text, sha256_bytes, sha256_file

log = logging.getLogger(__name__)

CONVERTER_VERSION = "1"  # bump when the mapping changes: caches made by older code are rebuilt
WEIGHTS_FILE = "model.safetensors"
STAMP_FILE = "model.safetensors.verified"
_BINARY_VERSION = 6  # the layout read below (CTranslate2 4.x writes it)
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")  # include/ctranslate2/types.h order


class ConversionError(ValueError):
    """The CTranslate2 folder is not a Whisper model this converter understands."""


@dataclass(frozen=True)
class Ct2Model:
    spec_name: str
    revision: int
    variables: dict[str, Any]  # name -> torch.Tensor (aliases resolved, int8 dequantised)


@dataclass(frozen=True)
class Converted:
    dims: dict[str, int]  # whisper.model.ModelDimensions fields
    state_dict: dict[str, Any]  # openai-whisper parameter names -> tensors
    alignment_heads: list[tuple[int, int]]  # (decoder layer, head)


# -- reading model.bin ---------------------------------------------------------------------
def read_model_bin(path: Path | str) -> Ct2Model:
    """All variables of a CTranslate2 model.bin as torch tensors (no ctranslate2 needed)."""
    import torch

    data = bytearray(Path(path).read_bytes())
    reader = _Reader(data)
    version = reader.unpack("I")
    if version != _BINARY_VERSION:
        raise ConversionError(f"{path}: CTranslate2 binary version {version} is not supported "
                              f"(expected {_BINARY_VERSION}).")
    spec_name, revision = reader.string(), reader.unpack("I")
    raw: dict[str, Any] = {}
    for _ in range(reader.unpack("I")):
        name = reader.string()
        shape = [reader.unpack("I") for _ in range(reader.unpack("B"))]
        dtype_id, nbytes = reader.unpack("B"), reader.unpack("I")
        if dtype_id >= len(_DTYPES):
            raise ConversionError(f"{path}: variable {name} has an unknown dtype id {dtype_id}.")
        raw[name] = _tensor(data, reader.take(nbytes), _DTYPES[dtype_id], shape, torch)
    aliases = {reader.string(): reader.string() for _ in range(reader.unpack("I"))} if reader.left else {}
    variables = _dequantise(raw)  # before aliasing: an alias names the weight, not its scale
    for alias, target in aliases.items():  # CT2 stores equal variables once (e.g. all-ones norms)
        variables[alias] = variables[target].clone()
    return Ct2Model(spec_name, revision, variables)


class _Reader:
    def __init__(self, data: bytearray) -> None:
        self.data, self.offset = data, 0

    @property
    def left(self) -> int:
        return len(self.data) - self.offset

    def unpack(self, fmt: str) -> int:
        try:
            (value,) = struct.unpack_from("<" + fmt, self.data, self.offset)
        except struct.error:
            raise ConversionError("model.bin ends early: the file is truncated.") from None
        self.offset += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = self.unpack("H")
        text = bytes(self.data[self.offset:self.offset + length - 1]).decode("utf-8")
        self.offset += length
        return text

    def take(self, nbytes: int) -> int:
        """Skip `nbytes` of payload; return where it starts."""
        if nbytes > self.left:
            raise ConversionError("model.bin ends early: the file is truncated.")
        start, self.offset = self.offset, self.offset + nbytes
        return start


def _tensor(data: bytearray, offset: int, dtype: str, shape: list[int], torch: Any) -> Any:
    kind = getattr(torch, dtype)
    count = 1
    for dim in shape:
        count *= dim
    return torch.frombuffer(data, dtype=kind, count=count, offset=offset).reshape(shape).clone()


def _dequantise(raw: dict[str, Any]) -> dict[str, Any]:
    """int8/int16 weights with a per-row `<name>_scale` back to float32 (value / scale)."""
    out = {}
    for name, value in raw.items():
        if name.endswith("_scale"):
            continue
        scale = raw.get(name + "_scale")
        if scale is not None:
            value = value.float() / scale.float().reshape(-1, *([1] * (value.dim() - 1)))
        out[name] = value
    return out


# -- the mapping -----------------------------------------------------------------------------
def convert(ct2_dir: Path | str) -> Converted:
    """openai-whisper dims, state dict and alignment heads from a CTranslate2 Whisper folder."""
    folder = Path(ct2_dir)
    model = read_model_bin(folder / "model.bin")
    if model.spec_name != "WhisperSpec":
        raise ConversionError(f"{folder} holds a CTranslate2 '{model.spec_name}', not a Whisper model.")
    config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
    v = model.variables
    _check_flags(v)
    dims = _dims(v)
    for side, width in (("encoder", dims["n_audio_state"]), ("decoder", dims["n_text_state"])):
        ffn = v.get(f"{side}/layer_0/ffn/linear_0/weight")
        if ffn is not None and ffn.shape[0] != 4 * width:  # openai-whisper hard-codes a 4x MLP
            raise ConversionError(f"the {side}'s MLP is {ffn.shape[0]} wide; openai-whisper's is 4 x {width}.")
    state = {**_encoder(v, dims["n_audio_layer"]), **_decoder(v, dims["n_text_layer"])}
    heads = [(int(layer), int(head)) for layer, head in config.get("alignment_heads") or ()]
    if not heads:  # what CTranslate2's converter defaults to: all heads of the upper half
        layers = dims["n_text_layer"]
        heads = [(layer, head) for layer in range(layers // 2, layers) for head in range(dims["n_text_head"])]
    return Converted(dims, state, heads)


def _check_flags(v: dict[str, Any]) -> None:
    import torch

    expected = {"decoder/pre_norm": 1, "decoder/scale_embeddings": 0, "decoder/alibi": 0}
    for name, value in expected.items():
        if name in v and int(v[name]) != value:
            raise ConversionError(f"{name} is {int(v[name])}, but openai-whisper's architecture needs {value}.")
    projection, embedding = v.get("decoder/projection/weight"), v["decoder/embeddings/weight"]
    if projection is not None and not torch.equal(projection, embedding):
        raise ConversionError("the output projection differs from the token embedding; openai-whisper ties them.")


def _dims(v: dict[str, Any]) -> dict[str, int]:
    def count(prefix: str) -> int:
        return len({m.group(1) for k in v if (m := re.match(rf"{prefix}/layer_(\d+)/", k))})

    conv1, tokens = v["encoder/conv1/weight"], v["decoder/embeddings/weight"]
    return {
        "n_mels": conv1.shape[1], "n_audio_ctx": v["encoder/position_encodings/encodings"].shape[0],
        "n_audio_state": conv1.shape[0], "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": count("encoder"), "n_vocab": tokens.shape[0],
        "n_text_ctx": v["decoder/position_encodings/encodings"].shape[0], "n_text_state": tokens.shape[1],
        "n_text_head": int(v["decoder/num_heads"]), "n_text_layer": count("decoder"),
    }


def _linear(v: dict[str, Any], src: str, dst: str) -> dict[str, Any]:
    return {f"{dst}.weight": v[f"{src}/weight"], f"{dst}.bias": v[f"{src}/bias"]}


def _norm(v: dict[str, Any], src: str, dst: str) -> dict[str, Any]:
    return {f"{dst}.weight": v[f"{src}/gamma"], f"{dst}.bias": v[f"{src}/beta"]}


def _split(v: dict[str, Any], src: str, names: tuple[str, ...], dst: str) -> dict[str, Any]:
    """A fused q/k/v (or k/v) linear back into openai-whisper's separate ones; the key
    has no bias there, so its slice of the fused bias must be zero."""
    weights = [w.clone() for w in v[f"{src}/weight"].chunk(len(names))]  # own storage for safetensors
    biases = [b.clone() for b in v[f"{src}/bias"].chunk(len(names))]
    out = {}
    for name, weight, bias in zip(names, weights, biases):
        out[f"{dst}.{name}.weight"] = weight
        if name == "key":
            if bool(bias.any()):
                raise ConversionError(f"{src}: the key projection has a bias; openai-whisper's has none.")
        else:
            out[f"{dst}.{name}.bias"] = bias
    return out


def _block(v: dict[str, Any], src: str, dst: str) -> dict[str, Any]:
    """What encoder and decoder layers share: self-attention and the MLP."""
    return {
        **_split(v, f"{src}/self_attention/linear_0", ("query", "key", "value"), f"{dst}.attn"),
        **_linear(v, f"{src}/self_attention/linear_1", f"{dst}.attn.out"),
        **_norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln"),
        **_linear(v, f"{src}/ffn/linear_0", f"{dst}.mlp.0"),
        **_linear(v, f"{src}/ffn/linear_1", f"{dst}.mlp.2"),
        **_norm(v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln"),
    }


def _encoder(v: dict[str, Any], layers: int) -> dict[str, Any]:
    state = {
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        **_linear(v, "encoder/conv1", "encoder.conv1"),
        **_linear(v, "encoder/conv2", "encoder.conv2"),
        **_norm(v, "encoder/layer_norm", "encoder.ln_post"),
    }
    for i in range(layers):
        state.update(_block(v, f"encoder/layer_{i}", f"encoder.blocks.{i}"))
    return state


def _decoder(v: dict[str, Any], layers: int) -> dict[str, Any]:
    state = {
        "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
        **_norm(v, "decoder/layer_norm", "decoder.ln"),
    }
    for i in range(layers):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        state.update(_block(v, src, dst))
        state.update(_linear(v, f"{src}/attention/linear_0", f"{dst}.cross_attn.query"))
        state.update(_split(v, f"{src}/attention/linear_1", ("key", "value"), f"{dst}.cross_attn"))
        state.update(_linear(v, f"{src}/attention/linear_2", f"{dst}.cross_attn.out"))
        state.update(_norm(v, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln"))
    return state


# -- the vocabulary -----------------------------------------------------------------------------
def check_vocabulary(ct2_dir: Path | str, n_vocab: int) -> None:
    """vocabulary.json must be openai-whisper's tokenizer, id for id (the converted model
    decodes with that tokenizer): tokens compared as bytes through GPT-2's byte alphabet."""
    path = Path(ct2_dir) / "vocabulary.json"
    if not path.is_file():
        raise ConversionError(f"{path} is missing: the token ids cannot be checked.")
    tokens = json.loads(path.read_text(encoding="utf-8"))
    if len(tokens) != n_vocab:
        raise ConversionError(f"{path} has {len(tokens)} tokens but the model has {n_vocab}.")
    encoding = _openai_tokenizer(n_vocab).encoding
    byte_of = {ch: b for b, ch in _bytes_to_unicode().items()}
    for token_id, token in enumerate(tokens):
        if _token_bytes(token, byte_of) != encoding.decode_single_token_bytes(token_id):
            raise ConversionError(f"token {token_id} is {token!r} in {path}, but openai-whisper's tokenizer "
                                  "disagrees: this vocabulary is not Whisper's.")


def _token_bytes(token: str, byte_of: dict[str, int]) -> bytes:
    """A byte-level BPE token's bytes; special tokens (<|en|>, <|0.00|>) are plain text."""
    if all(ch in byte_of for ch in token):
        return bytes(byte_of[ch] for ch in token)
    return token.encode("utf-8")


def _openai_tokenizer(n_vocab: int) -> Any:
    from whisper.tokenizer import get_tokenizer

    multilingual = n_vocab >= 51865
    return get_tokenizer(multilingual, num_languages=n_vocab - 51765 - int(multilingual))


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (as in HF tokenizers)."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars, extra = printable[:], 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


# -- the cache and the model --------------------------------------------------------------------
def converted_model(ct2_dir: Path | str, cache_folder: Path | str, source_sha256: str | None = None) -> Any:
    """openai-whisper's model (float32) from the cached conversion; converts (and caches)
    first when the cache is missing, stale (other source or converter version) or damaged."""
    folder, target = Path(ct2_dir), Path(cache_folder)
    source = source_sha256 or sha256_file(folder / "model.bin")
    cached = _read_cache(target, source)
    return _build(*cached) if cached is not None else _write_cache(folder, target, source)


def _read_cache(target: Path, source: str) -> tuple[dict, dict, list] | None:
    from safetensors.torch import load

    try:
        stamp = json.loads((target / STAMP_FILE).read_text())
        data = (target / WEIGHTS_FILE).read_bytes()
    except (OSError, ValueError):
        return None
    if stamp.get("converter_version") != CONVERTER_VERSION or stamp.get("source_sha256") != source:
        log.info("the converted openai-whisper cache in %s is stale: rebuilding", target)
        return None
    if sha256_bytes(data) != stamp.get("sha256"):
        log.warning("the converted openai-whisper cache in %s is damaged: rebuilding", target)
        return None
    meta = _header_metadata(data)
    return json.loads(meta["dims"]), load(data), [tuple(h) for h in json.loads(meta["alignment_heads"])]


def _header_metadata(data: bytes) -> dict[str, str]:
    (length,) = struct.unpack_from("<Q", data, 0)
    return json.loads(data[8:8 + length]).get("__metadata__", {})


def _write_cache(folder: Path, target: Path, source: str) -> Any:
    """Convert, check (vocabulary, strict load), then cache; returns the built model."""
    from safetensors.torch import save

    converted = convert(folder)
    check_vocabulary(folder, converted.dims["n_vocab"])
    model = _build(converted.dims, converted.state_dict, converted.alignment_heads)  # strict: fails before caching
    meta = {"converter_version": CONVERTER_VERSION, "source_sha256": source,
            "dims": json.dumps(converted.dims), "alignment_heads": json.dumps(converted.alignment_heads)}
    data = save({k: t.contiguous() for k, t in converted.state_dict.items()}, metadata=meta)
    atomic_write_bytes(target / WEIGHTS_FILE, data)
    stamp = {"sha256": sha256_bytes(data), "converter_version": CONVERTER_VERSION, "source_sha256": source,
             "source": str(folder / "model.bin")}
    atomic_write_text(target / STAMP_FILE, json.dumps(stamp))
    log.info("converted %s into openai-whisper weights at %s", folder, target)
    return model


def _build(dims: dict[str, int], state: dict[str, Any], heads: list[tuple[int, int]]) -> Any:
    import torch
    from whisper.model import ModelDimensions, Whisper

    model = Whisper(ModelDimensions(**dims))
    model.load_state_dict(state, strict=True)  # copies (and upcasts) into float32 parameters
    mask = torch.zeros(dims["n_text_layer"], dims["n_text_head"], dtype=torch.bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)  # as set_alignment_heads does
    return model


def load_or_explain(ct2_dir: Path | str, cache_folder: Path | str, key: str, how_to_get: str,
                    source_sha256: str | None = None) -> Any:
    """converted_model, with a ConversionError turned into the app's WeightsUnavailable."""
    try:
        return converted_model(ct2_dir, cache_folder, source_sha256)
    except ConversionError as exc:
        raise WeightsUnavailable(key, f"the CTranslate2 Whisper in {ct2_dir} cannot become an openai-whisper "
                                 f"model: {exc}", how_to_get) from None
