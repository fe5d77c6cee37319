"""Input preparation for the sentiment heads: text (cleaned, embedded by the head's sentence
encoder, through its tuned top layers), images (model_zoo.vision.engine: CLIP where its weights
are, else the offline label bridge; a head reads images only in the space it was trained
in) and voice clips (their Whisper transcript). Embeddings are cached by content hash."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from model_zoo.vision import engine as vision
from model_zoo.core.errors import InputError, StudioError, WeightsUnavailable
from model_zoo.sentiment.heads import image_space_of, text_encoder_of
from model_zoo.sentiment.results import TRAINING_TEXT_ENCODER, HeadInfo

_BRIDGE = "EfficientNet-Lite's ImageNet labels placed in MPNet's sentence space"
ENGINE_WORDS = {"clip": "CLIP", "labels": f"the offline label bridge ({_BRIDGE})"}


class EmbeddingCache:
    """In-memory LRU of embeddings keyed by (encoder namespace, content hash), so epochs
    and repeated inputs never re-encode. Bounded by bytes, not rows: an ensemble's row
    holds one embedding per member."""

    def __init__(self, max_bytes: int = 512 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(namespace: str, content: bytes) -> str:
        return namespace + ":" + hashlib.sha256(content).hexdigest()

    def get_or_compute(self, keys: Sequence[str], compute: Callable[[list[int]], np.ndarray]) -> np.ndarray:
        """Rows for `keys`; `compute(missing positions)` encodes only the misses."""
        with self._lock:
            found = [self._items.get(k) for k in keys]
            for k, v in zip(keys, found):
                if v is not None:
                    self._items.move_to_end(k)
        missing = [i for i, v in enumerate(found) if v is None]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = np.asarray(compute(missing), dtype=np.float32)
            with self._lock:
                for i, row in zip(missing, fresh):
                    found[i] = row
                    if keys[i] not in self._items:
                        self._bytes += row.nbytes
                    self._items[keys[i]] = row
                while self._bytes > self.max_bytes and self._items:
                    self._bytes -= self._items.popitem(last=False)[1].nbytes
        return np.stack(found).astype(np.float32) if found else np.zeros((0, 0), np.float32)


def file_bytes(path: Path | str) -> bytes:
    return Path(path).read_bytes()


def embed_images_cached(cache: EmbeddingCache, engine, images: list, contents: list[bytes]) -> np.ndarray:
    """(n, engine.dim) image embeddings, cached by the engine's space and each file's content:
    vectors of two spaces never mix."""
    keys = [cache.key(f"image:{engine.name}", content) for content in contents]
    return cache.get_or_compute(keys, lambda missing: engine.embed_images([images[i] for i in missing]))


# -- the image space, in words -----------------------------------------------------------
def image_reader(manager) -> str:
    """Who reads images on this manager, and why, in words (cheap: no model loads)."""
    which, forced = vision.mode(manager), (manager.config.vision or "auto") != "auto"
    if which == "clip":
        return "CLIP" + (" (chosen with --vision clip)" if forced else "")
    return f"the offline label bridge ({_BRIDGE}; {'chosen with --vision labels' if forced else 'CLIP is not here'})"


def image_record(engine) -> dict:
    """What a head's card records about its image encoder: the engine and its space."""
    record = {"model": engine.kind, "kind": engine.kind, "space": engine.name, "dim": int(engine.dim)}
    return record | ({"source": engine.name} if engine.kind == "clip" else {})  # older readers look for source


def image_space_note(head: str, trained: tuple[str, str | None], here: str, problem: Exception | None = None) -> str:
    """Why an image was left out: the head's image space (kind, name) is not the one that
    can run here (`here`, in words); `problem`: why the head's own engine cannot."""
    kind, space = trained
    trained_on = ENGINE_WORDS.get(kind, kind) + (f" [{space}]" if space else "")
    why = f" {problem}" if problem is not None else ""
    return (f"The image was left out: the head '{head}' was trained on images read by {trained_on}, but here "
            f"images are read by {here}; a head reads images only in the space it was trained in (train a head "
            f"here to use images with this engine).{why}")


def unavailable_modalities(manager) -> dict[str, str]:
    """Cheap (no model load) check of what the optional modalities need: modality ->
    the reason it is unavailable. Used for the banner a tab shows at build time."""
    import importlib.util

    missing: dict[str, str] = {}
    problem = vision.problem(manager)
    if problem is not None:
        missing["image"] = f"images are read by {image_reader(manager)}, which cannot run here. {problem}"
    if importlib.util.find_spec("model_zoo.speech.service") is None:
        missing["audio"] = "voice clips need the speech service (model_zoo.speech.service), which is not in this build."
    return missing


# -- the encoders a head reads through ----------------------------------------------------
class SentimentInputs:
    """Turns raw inputs into what a head reads, on one model manager with one cache."""

    def __init__(self, manager, max_chars: int = 20_000, cache: EmbeddingCache | None = None,
                 precision: str = "auto") -> None:
        self.manager = manager
        self.max_chars = max_chars
        self.cache = cache or EmbeddingCache()
        self._precision_choice = precision  # see settings.sentiment_precision
        self._precision: str | None = None
        self._converted_tops: dict[tuple[str, str], object] = {}

    @property
    def precision(self) -> str:
        """What text encoders run at: native off the CPU; on it fp32, bf16 or int8. Resolved
        on first use: finding the device imports torch, which page building must not."""
        if self._precision is None:
            from model_zoo.core.devices import resolve_cpu_precision

            self._precision = resolve_cpu_precision(self._precision_choice, self.manager.device)
        return self._precision

    def clean_text(self, text: str | None, notes: list[str]) -> str:
        text = (text or "").strip()
        if len(text) > self.max_chars:
            notes.append(f"The text was {len(text):,} characters; only the first {self.max_chars:,} were read.")
            text = text[: self.max_chars]
        return text

    def transcript(self, audio: str) -> str:
        try:
            from model_zoo.speech.service import transcript_of
        except ImportError:
            raise StudioError("Voice clips need the speech service (model_zoo.speech.service), which is not part of "
                              "this build; leave the audio out or type what was said.") from None
        return transcript_of(self.manager, audio).strip()

    def text_embeddings(self, texts: list[str], model, frozen: bool = False, card: dict | None = None) -> np.ndarray:
        """(n, dim) embeddings; for a head with tuned top layers, one block of dim per
        member of the head, side by side: (n, members * dim)."""
        tuned = not frozen and model is not None and int((card or {}).get("text_top_layers", 0)) > 0
        key = text_encoder_of(card) if card else TRAINING_TEXT_ENCODER
        namespace = (f"text:{card['weights_sha256'][:16]}" if tuned else f"text:{key}") + f":{self.precision}"
        max_length = (card or {}).get("encoders", {}).get("text", {}).get("max_length") if tuned else None
        keys = [self.cache.key(namespace, t.encode("utf-8")) for t in texts]

        def compute(missing: list[int]) -> np.ndarray:
            tops = self._top_layers(model, card) if tuned else None
            with self.manager.use(key) as encoder:
                blocks = encoder.embed_texts_branches([texts[i] for i in missing], tops, max_length=max_length,
                                                      precision=self.precision)
            return np.concatenate(blocks, axis=1)

        return self.cache.get_or_compute(keys, compute)

    def _top_layers(self, model, card: dict) -> list:
        """Each member's tuned layers at the service's precision, converted once per head version."""
        from model_zoo.text.sentence_encoder import at_precision

        key = (card["weights_sha256"], self.precision)
        if key not in self._converted_tops:
            self._converted_tops[key] = [at_precision(m.text_top, self.precision) for m in model.members]
        return self._converted_tops[key]

    def add_audio(self, audio: str, text: str, info: HeadInfo, features: dict, notes: list[str]) -> str:
        """A head with an audio modality gets the transcript's embedding; any other head
        reads the transcript as more text. Returns the (possibly extended) text."""
        try:
            transcript = self.transcript(audio)
        except StudioError as exc:  # no speech service or no Whisper weights: say so, go on
            if isinstance(exc, InputError):
                raise
            notes.append(f"The voice clip was left out: {exc}")
            return text
        if not transcript:
            notes.append("No speech was recognised in the clip.")
        elif "audio" in info.modalities:
            features["audio"] = self.text_embeddings([transcript], None, frozen=True)
            notes.append(f"Transcript of the clip: \"{transcript[:200]}\"")
        else:
            notes.append(f"Transcript of the clip, read as text: \"{transcript[:200]}\"")
            return f"{text} {transcript}".strip()
        return text

    def add_image(self, picture, image: str, info: HeadInfo, card: dict, features: dict, notes: list[str]) -> None:
        """The image's embedding in the head's own image space, or a note saying why not."""
        head = info.name
        if "image" not in info.modalities:
            notes.append(f"The head '{head}' does not read images (it uses {', '.join(info.modalities)}); "
                         "the image was left out.")
            return
        kind, space = image_space_of(card)
        if kind != vision.mode(self.manager):  # the head's own engine, where it runs and --vision is auto
            problem = vision.problem(self.manager, kind)
            if problem is not None or (self.manager.config.vision or "auto") != "auto":
                notes.append(image_space_note(head, (kind, space), image_reader(self.manager), problem))
                return  # decided without loading a model
        try:
            with vision.open_engine(self.manager, kind) as engine:
                if (space and engine.name != space) or engine.dim != int(card["modalities"]["image"]):
                    here = f"{ENGINE_WORDS[engine.kind]} [{engine.name}]"
                    notes.append(image_space_note(head, (kind, space), here))
                    return
                features["image"] = embed_images_cached(self.cache, engine, [picture], [file_bytes(image)])
        except WeightsUnavailable as exc:
            notes.append(f"The image was left out: {exc}")
