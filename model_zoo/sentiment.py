"""Sentiment service: encoders per modality (with an embedding cache keyed by content
hash), the store of saved heads (shipped + trained in the browser), prediction, and
training a head on a user's dataset.

Modalities a head may use:
  text     the head's sentence encoder (MPNet for the shipped default, MiniLM for the fast
           head and heads trained in the browser), frozen or through the head's tuned top layers
  lexicon  VADER's (neg, neu, pos, compound) of the same text: a second text view
  image    the image engine's embedding (model_zoo.vision: CLIP where its weights are, else
           the offline label bridge); a head reads images only in the space it was trained in
  audio    the transcript of the clip through MiniLM (model_zoo.speech.transcript_of)
A head without an audio modality reads a clip's transcript as (more) text. Whatever a
head uses but an input lacks is masked, so text alone works on any head.
"""
from __future__ import annotations

import hashlib
import queue
import re
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from . import training, vision
from .audio import decode_audio
from .datasets import Dataset
from .errors import InputError, StudioError, WeightsUnavailable
from .images import load_image

SHIPPED_HEADS = Path(__file__).resolve().parent.parent / "assets" / "heads"
DEFAULT_HEAD = "default"  # shipped: accurate (MPNet text encoder)
FAST_HEAD = "fast"  # shipped: MiniLM, several times faster, a few points less accurate
LEXICON_DIM = 4
# Heads trained in the browser embed text with the small encoder: training stays quick on a
# CPU. A head's card names its own encoder (the shipped default uses a larger one).
TRAINING_TEXT_ENCODER = "minilm"
_HEAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")


# -- results ---------------------------------------------------------------------------
@dataclass
class SentimentResult:
    label: str
    scores: dict[str, float]
    modalities: list[str]  # the ones that took part in this prediction
    contributions: dict[str, float]  # modality -> share of the decision
    head: str
    notes: list[str] = field(default_factory=list)  # truncation, ignored inputs, ...

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class HeadInfo:
    name: str
    labels: list[str]
    fusion: str
    modalities: list[str]
    origin: str  # shipped | trained
    accuracy: float | None  # on the head's held-out test split
    created: str
    text_encoder: str = TRAINING_TEXT_ENCODER  # registry key
    accuracy_clear: float | None = None  # shipped heads: clear-cut sentences only (|mean rating| >= 1)
    members: int = 1  # > 1: a seed ensemble, probabilities averaged
    blended_with: dict[str, float] = field(default_factory=dict)  # a blend: part's text encoder -> weight

    def summary(self) -> str:
        acc = ""
        if self.accuracy is not None:
            acc = f", test accuracy {self.accuracy:.3f}"
        if self.accuracy_clear is not None:
            acc += f" ({self.accuracy_clear:.3f} on clear-cut sentences)"
        ensemble = f", {self.members} seeds averaged" if self.members > 1 else ""
        blend = "".join(f"; blended with a {encoder} head at weight {weight:.2f}"
                        for encoder, weight in self.blended_with.items())
        return (f"{self.name}: {self.fusion} fusion over {' + '.join(self.modalities)} ({self.text_encoder} text"
                f"{ensemble}{blend}) -> {'/'.join(self.labels)}{acc}")


@dataclass(frozen=True)
class HeadPart:
    """One set of weights that a head runs, with the weight of its probabilities: a plain
    head is one part (weight 1); a blend is its own weights plus the heads in parts/."""

    key: str  # "default", or "default:minilm" for a blend's part
    folder: Path
    card: dict = field(hash=False, compare=False)
    weight: float = 1.0


# -- embedding cache -------------------------------------------------------------------
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


def _file_bytes(path: Path | str) -> bytes:
    return Path(path).read_bytes()


# -- heads -----------------------------------------------------------------------------
class HeadStore:
    """Saved heads: the shipped ones (assets/heads) and those trained here (data dir).
    Listing reads the folders every time, so a head trained a moment ago is there."""

    def __init__(self, trained_root: Path, shipped_root: Path | None = None) -> None:
        self.trained_root = Path(trained_root)
        self.shipped_root = Path(shipped_root or SHIPPED_HEADS)
        self._loaded: dict[str, tuple[tuple, dict, object]] = {}
        self._lock = threading.Lock()

    def _folders(self) -> dict[str, tuple[Path, str]]:
        found: dict[str, tuple[Path, str]] = {}
        for root, origin in ((self.trained_root, "trained"), (self.shipped_root, "shipped")):
            if root.is_dir():
                for folder in sorted(root.iterdir()):
                    if (folder / training.HEAD_CARD).is_file() and not folder.name.startswith("."):
                        found.setdefault(folder.name, (folder, origin))
        return found

    def names(self) -> list[str]:
        order = {DEFAULT_HEAD: 0, FAST_HEAD: 1}
        return sorted(self._folders(), key=lambda n: (order.get(n, 2), n))  # shipped first

    def folder(self, name: str) -> tuple[Path, str]:
        folders = self._folders()
        if name not in folders:
            known = ", ".join(sorted(folders)) or "none"
            raise InputError(f"There is no head called '{name}' (available: {known}).")
        return folders[name]

    def card(self, name: str) -> dict:
        import json

        folder, _ = self.folder(name)
        return json.loads((folder / training.HEAD_CARD).read_text())

    def info(self, name: str) -> HeadInfo:
        own, *blended = self.parts(name)
        card = own.card
        _, origin = self.folder(name)
        metrics = card.get("metrics") or {}  # a blend's card holds the blend's figures
        return HeadInfo(name=name, labels=card["labels"], fusion=card["fusion"], modalities=list(card["modalities"]),
                        origin=origin, accuracy=metrics.get("accuracy"), created=card.get("created", ""),
                        text_encoder=text_encoder_of(card), accuracy_clear=metrics.get("accuracy_clear"),
                        members=max(1, int(card.get("members", 0))),
                        blended_with={text_encoder_of(p.card): p.weight for p in blended})

    def parts(self, name: str) -> list[HeadPart]:
        """What a head runs: its own weights first, then any heads its card blends in
        (`"blend": [{"part": "minilm", "weight": 0.1}]`, each a whole head in parts/<part>/);
        its own weight is what the parts leave. The parts must answer with the same labels
        from the same modalities, so their probabilities and contributions can be averaged."""
        import json

        folder, _ = self.folder(name)
        card = json.loads((folder / training.HEAD_CARD).read_text())
        blend = card.get("blend") or []
        parts = []
        for entry in blend:
            part, weight = str(entry.get("part", "")), float(entry.get("weight", 0))
            part_folder = folder / training.PARTS_DIR / part
            try:
                part_card = json.loads((part_folder / training.HEAD_CARD).read_text())
            except (OSError, ValueError):
                raise InputError(f"The head '{name}' is incomplete: its part '{part}' is missing.") from None
            fits = (_HEAD_NAME.match(part) and 0 < weight < 1 and not part_card.get("blend")
                    and part_card.get("labels") == card["labels"]
                    and list(part_card.get("modalities", {})) == list(card["modalities"])
                    and image_space_of(part_card) == image_space_of(card))
            if not fits:
                raise InputError(f"The head '{name}' is damaged: its part '{part}' does not fit it.")
            parts.append(HeadPart(f"{name}:{part}", part_folder, part_card, weight))
        own = 1.0 - sum(p.weight for p in parts)
        if own <= 0:
            raise InputError(f"The head '{name}' is damaged: its blend weights add up to more than 1.")
        return [HeadPart(name, folder, card, own), *parts]

    def load_part(self, part: HeadPart, encoder=None) -> tuple[dict, object]:
        """(card, SentimentModel), cached until the part's files change on disk."""
        from .heads import load_head

        stamp = (str(part.folder), (part.folder / training.HEAD_CARD).stat().st_mtime_ns)  # rewritten with the weights
        with self._lock:
            cached = self._loaded.get(part.key)
            if cached and cached[0] == stamp:
                return cached[1], cached[2]
            card, model = load_head(part.folder, encoder)
            self._loaded[part.key] = (stamp, card, model)
            return card, model

    def check_new_name(self, name: str) -> str:
        name = (name or "").strip()
        if not _HEAD_NAME.match(name):
            raise InputError("A head name is 1-48 letters, digits, '-', '_' or '.', starting with a letter or digit.")
        folders = self._folders()
        if name in folders and folders[name][1] == "shipped":
            raise InputError(f"'{name}' is a head shipped with the app; choose another name.")
        return name


# -- the service -----------------------------------------------------------------------
class SentimentService:
    def __init__(self, manager, store: HeadStore, max_chars: int = 20_000,
                 cache: EmbeddingCache | None = None, precision: str = "auto") -> None:
        self.manager = manager
        self.store = store
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
            from .devices import resolve_cpu_precision

            self._precision = resolve_cpu_precision(self._precision_choice, self.manager.device)
        return self._precision

    # heads ----------------------------------------------------------------------------
    def head_problem(self, name: str) -> WeightsUnavailable | None:
        """Why a head cannot run here (a text encoder's weights are missing), or None. Cheap."""
        for part in self.store.parts(name):
            problem = self.manager.weights_problem(text_encoder_of(part.card))
            if problem is not None:
                return problem
        return None

    def check_head(self, name: str) -> None:
        """Raise, before any work, if the head is unknown or its text encoder cannot load."""
        problem = self.head_problem(name)
        if problem is None:
            return
        others = [h for h in self.store.names() if h != name and self.head_problem(h) is None]
        alternative = f" The head '{others[0]}' works without them." if others else ""
        raise WeightsUnavailable(problem.model_key, f"the head '{name}' reads text with it. {problem.detail}"
                                 + alternative, problem.how_to_fix)

    def default_head(self) -> str:
        """The head a page starts on: the shipped default, or the first one that can run here."""
        names = self.store.names()
        return next((n for n in names if self.head_problem(n) is None), names[0] if names else DEFAULT_HEAD)

    # inputs ---------------------------------------------------------------------------
    def clean_text(self, text: str | None, notes: list[str]) -> str:
        text = (text or "").strip()
        if len(text) > self.max_chars:
            notes.append(f"The text was {len(text):,} characters; only the first {self.max_chars:,} were read.")
            text = text[: self.max_chars]
        return text

    def predict(self, text: str | None, image: str | None = None, audio: str | None = None,
                head: str = DEFAULT_HEAD) -> SentimentResult:
        """One input (any of text, image path, audio path) through a saved head."""
        notes: list[str] = []
        text = self.clean_text(text, notes)
        head = head or DEFAULT_HEAD
        info = self.store.info(head)  # unknown head: error before any work
        # Validate every input before a model loads: a bad file gets its own error.
        picture = load_image(image) if image else None
        if audio:
            decode_audio(audio)
        if not text and picture is None and not audio:
            raise InputError("Please enter some text (or add an image or a voice clip).")
        self.check_head(head)  # the input is fine: can this head's text encoder load here?
        features: dict[str, np.ndarray] = {}
        if audio:
            text = self._add_audio(audio, text, info, features, notes)
        if picture is not None:
            self._add_image(picture, image, head, info, features, notes)
        if not text and not features:
            raise InputError("Nothing this head can read was given: " + " ".join(notes))
        [result] = self._run_head(head, [text] if text else [None], [features], notes)
        return result

    def _add_audio(self, audio: str, text: str, info: HeadInfo, features: dict, notes: list[str]) -> str:
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
            features["audio"] = self._text_embeddings([transcript], None, frozen=True)
            notes.append(f"Transcript of the clip: \"{transcript[:200]}\"")
        else:
            notes.append(f"Transcript of the clip, read as text: \"{transcript[:200]}\"")
            return f"{text} {transcript}".strip()
        return text

    def _add_image(self, picture, image: str, head: str, info: HeadInfo, features: dict, notes: list[str]) -> None:
        if "image" not in info.modalities:
            notes.append(f"The head '{head}' does not read images (it uses {', '.join(info.modalities)}); "
                         "the image was left out.")
            return
        card = self.store.card(head)
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
                features["image"] = embed_images_cached(self.cache, engine, [picture], [_file_bytes(image)])
        except WeightsUnavailable as exc:
            notes.append(f"The image was left out: {exc}")

    def predict_texts(self, texts: Sequence[str], head: str = DEFAULT_HEAD,
                      progress: Callable[[float], None] | None = None) -> list[SentimentResult]:
        """Batch mode: one result per text (empty texts are an error naming the row)."""
        notes: list[list[str]] = [[] for _ in texts]
        cleaned = [self.clean_text(t, n) for t, n in zip(texts, notes)]
        for row, text in enumerate(cleaned, start=1):
            if not text:
                raise InputError(f"Row {row}: the text is empty.")
        self.check_head(head)
        results: list[SentimentResult] = []
        step = 256
        for start in range(0, len(cleaned), step):
            chunk = cleaned[start : start + step]
            results += self._run_head(head, chunk, [{} for _ in chunk], None, notes[start : start + step])
            if progress:
                progress(min(1.0, (start + step) / len(cleaned)))
        return results

    # encoders -------------------------------------------------------------------------
    def transcript(self, audio: str) -> str:
        try:
            from .speech import transcript_of
        except ImportError:
            raise StudioError("Voice clips need the speech service (model_zoo.speech), which is not part of "
                              "this build; leave the audio out or type what was said.") from None
        return transcript_of(self.manager, audio).strip()

    def _text_embeddings(self, texts: list[str], model, frozen: bool = False, card: dict | None = None) -> np.ndarray:
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
        from .backends.text_encoder import at_precision

        key = (card["weights_sha256"], self.precision)
        if key not in self._converted_tops:
            self._converted_tops[key] = [at_precision(m.text_top, self.precision) for m in model.members]
        return self._converted_tops[key]

    def _run_head(self, head: str, texts: list[str | None], extra: list[dict[str, np.ndarray]],
                  shared_notes: list[str] | None, per_row_notes: list[list[str]] | None = None) -> list[SentimentResult]:
        from .heads import lexicon_scores

        parts = self.store.parts(head)  # one, or a blend: probabilities and contributions are weighted
        labels, names = parts[0].card["labels"], list(parts[0].card["modalities"])
        with_text = [i for i, t in enumerate(texts) if t]
        lexicon = lexicon_scores([texts[i] for i in with_text]) if with_text else None  # shared by the parts
        outputs = [(part.weight, *self._part_outputs(part, texts, with_text, lexicon, extra)) for part in parts]
        probs = sum(w * part_probs for w, part_probs, _, _ in outputs)
        weights = sum(w * part_weights for w, _, part_weights, _ in outputs)
        mask = outputs[0][3]  # every part sees the same inputs
        results = []
        for i in range(len(texts)):
            p = probs[i].tolist()
            used = [m for j, m in enumerate(names) if mask[i, j]]
            notes = list(shared_notes or []) + (per_row_notes[i] if per_row_notes else [])
            results.append(SentimentResult(
                label=labels[int(np.argmax(p))], scores={l: round(float(v), 4) for l, v in zip(labels, p)},
                modalities=used, contributions={m: round(float(weights[i, j]), 4) for j, m in enumerate(names)
                                                if mask[i, j]},
                head=head, notes=notes))
        return results

    def _part_outputs(self, part: HeadPart, texts: list[str | None], with_text: list[int],
                      lexicon: np.ndarray | None, extra: list[dict[str, np.ndarray]]):
        """(probabilities (n, labels), contributions (n, modalities), mask (n, modalities))
        of one part of a head; a seed ensemble's members are averaged."""
        import torch

        card, model = self._load_part(part)
        members = model.members  # one head, or a seed ensemble
        names = list(card["modalities"])
        n = len(texts)
        batches: list[dict[str, torch.Tensor]] = [{} for _ in members]
        mask = torch.zeros(n, len(names), dtype=torch.bool)
        for j, modality in enumerate(names):
            dim = int(card["modalities"][modality])
            values = torch.zeros(len(members), n, dim)
            if modality in ("text", "lexicon") and with_text:
                rows = (self._text_embeddings([texts[i] for i in with_text], model, card=card) if modality == "text"
                        else lexicon)
                # (sentences, blocks * dim) -> (blocks, sentences, dim): a block per member, or one for all
                values[:, with_text] = torch.from_numpy(rows).reshape(len(with_text), -1, dim).transpose(0, 1)
                mask[with_text, j] = True
            for i, feats in enumerate(extra):
                if modality in feats:
                    values[:, i] = torch.from_numpy(feats[modality][0])
                    mask[i, j] = True
            for batch, member_values in zip(batches, values):
                batch[modality] = member_values
        with torch.no_grad():
            explained = [m.fusion.explain(batch, mask) for m, batch in zip(members, batches)]
        probs = torch.stack([p for p, _ in explained]).mean(0).numpy()
        weights = torch.stack([w for _, w in explained]).mean(0).numpy()
        return probs, weights, mask.numpy()

    def _load_part(self, part: HeadPart):
        if int(part.card.get("text_top_layers", 0)):
            with self.manager.use(text_encoder_of(part.card)) as encoder:
                return self.store.load_part(part, encoder)
        return self.store.load_part(part)

    # training -------------------------------------------------------------------------
    def dataset_features(self, data: Dataset) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, dict]]:
        """(features by modality (n, d), mask (n, M), encoder descriptions) for a dataset.
        Media are all decoded (and errors reported by row) before any model loads."""
        from .heads import lexicon_scores

        n = len(data)
        pictures: list = [None] * n
        for row, image in enumerate(data.images):
            if image is not None:
                pictures[row] = _row_error(row, "image", load_image, image)
        for row, audio in enumerate(data.audios):
            if audio is not None:
                _row_error(row, "audio", decode_audio, audio)
        features: dict[str, np.ndarray] = {}
        masks: list[np.ndarray] = []
        encoders: dict[str, dict] = {}

        def fill(rows: list[int], values: np.ndarray, dim: int) -> np.ndarray:
            full = np.zeros((n, dim), np.float32)
            full[rows] = values
            return full

        if "text" in data.modalities:
            rows = [i for i, t in enumerate(data.texts) if t]
            sentences = [self.clean_text(data.texts[i], []) for i in rows]
            emb = self._text_embeddings(sentences, None, frozen=True)
            features["text"] = fill(rows, emb, emb.shape[1])
            features["lexicon"] = fill(rows, lexicon_scores(sentences), LEXICON_DIM)
            present = np.zeros(n, bool)
            present[rows] = True
            masks += [present, present]
            encoders["text"] = {"model": TRAINING_TEXT_ENCODER, "source": self.manager.spec(TRAINING_TEXT_ENCODER).source,
                                "dim": emb.shape[1]}
            encoders["lexicon"] = {"model": "vaderSentiment==3.3.2", "dim": LEXICON_DIM}
        if "image" in data.modalities:
            rows = [i for i, p in enumerate(pictures) if p is not None]
            with vision.open_engine(self.manager) as engine:  # CLIP, or offline the label bridge
                emb = embed_images_cached(self.cache, engine, [pictures[i] for i in rows],
                                          [_file_bytes(data.images[i]) for i in rows])
                encoders["image"] = image_record(engine)
            features["image"] = fill(rows, emb, emb.shape[1])
            masks.append(np.isin(np.arange(n), rows))
        if "audio" in data.modalities:
            rows = [i for i, a in enumerate(data.audios) if a is not None]
            transcripts = [self.transcript(str(data.audios[i])) or "" for i in rows]
            rows = [i for i, t in zip(rows, transcripts) if t]  # silence: the modality is absent
            if not rows:
                raise InputError("No speech was recognised in any of the dataset's audio clips.")
            emb = self._text_embeddings([t for t in transcripts if t], None, frozen=True)
            features["audio"] = fill(rows, emb, emb.shape[1])
            masks.append(np.isin(np.arange(n), rows))
            encoders["audio"] = {"model": f"speech transcript -> {TRAINING_TEXT_ENCODER}", "dim": emb.shape[1]}
        return features, np.stack(masks, axis=1), encoders

    def train(self, data: Dataset, name: str, fusion: str = "gated", epochs: int = 30, lr: float = 2e-3,
              hidden: int = 128, batch_size: int = 32, seed: int = 0, patience: int = 5
              ) -> Iterator["TrainUpdate"]:
        """Train a head on a dataset and save it; yields TrainUpdate as it goes (the
        last one carries the report). Nothing is written unless training finishes."""
        import torch

        from .fusion import HeadConfig
        from .heads import SentimentModel

        if fusion not in training.FUSIONS:
            raise InputError(f"Unknown fusion '{fusion}'; choose one of {', '.join(training.FUSIONS)}.")
        if not 1 <= int(epochs) <= 500:
            raise InputError("Epochs must be between 1 and 500.")
        name = self.store.check_new_name(name)
        if len(data) < 10:
            raise InputError(f"'{data.name}' has {len(data)} rows; at least 10 are needed to train and test a head.")
        started = time.perf_counter()
        yield TrainUpdate("Encoding the dataset", 0.0)
        features, mask, encoders = self.dataset_features(data)
        y = np.array(data.y)
        train_rows, val_rows, test_rows = training.stratified_split(y, [0.15, 0.15], int(seed))  # 70/15/15
        cfg = HeadConfig(modalities={m: int(v.shape[1]) for m, v in features.items()}, labels=data.label_names,
                         fusion=fusion, hidden=int(hidden), dropout=0.1)
        model = SentimentModel(cfg)
        feats_t = {m: torch.from_numpy(v) for m, v in features.items()}
        mask_t = torch.from_numpy(mask)

        class Trainable(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = model

            def forward(self, batch):
                return self.inner.fusion(batch["features"], batch["mask"])

        def collate(idx: np.ndarray):
            idx_t = torch.as_tensor(idx)
            return {"features": {m: v[idx_t] for m, v in feats_t.items()}, "mask": mask_t[idx_t]}, torch.as_tensor(y[idx])

        train_cfg = training.TrainConfig(epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), seed=int(seed),
                                         patience=int(patience))
        history: list[training.EpochLog] = []
        yield TrainUpdate("Training", 0.05, history=list(history))
        # fit() reports through callbacks; run it on a thread so this generator can yield
        # each epoch to the browser as it ends.
        updates: queue.Queue = queue.Queue()
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["fit"] = training.fit(Trainable(), train_rows, val_rows, y, collate, train_cfg,
                                              on_epoch=lambda log: updates.put(log))
            except BaseException as exc:  # reaches the caller below
                outcome["error"] = exc
            finally:
                updates.put(None)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        while (log := updates.get()) is not None:
            history.append(log)
            yield TrainUpdate(f"Epoch {log.epoch}/{epochs}", 0.05 + 0.9 * log.epoch / int(epochs), history=list(history))
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        fit_result = outcome["fit"]
        test_probs = training.predict_probs(Trainable(), test_rows, collate)
        metrics = training.evaluate(y[test_rows], test_probs, data.label_names)
        card = training.Card(
            name=name, labels=data.label_names, fusion=fusion, modalities=dict(cfg.modalities), encoders=encoders,
            hidden=cfg.hidden, dropout=cfg.dropout, metrics=asdict(metrics),
            data={"source": data.name, "sha256": data.sha256, "rows": len(data),
                  "sizes": {"train": len(train_rows), "val": len(val_rows), "test": len(test_rows)}},
            training={"config": asdict(train_cfg), "best_epoch": fit_result.best_epoch,
                      "best_val_f1": fit_result.best_val_f1, "stopped_early": fit_result.stopped_early,
                      "history": [asdict(h) for h in history], "seconds": time.perf_counter() - started},
        )
        training.save_head(self.store.trained_root / name, model.tensors(), card.to_dict())
        report = TrainReport(head=name, metrics=asdict(metrics), best_epoch=fit_result.best_epoch,
                             epochs_run=len(history), history=[asdict(h) for h in history],
                             sizes=card.data["sizes"], seconds=round(time.perf_counter() - started, 2))
        yield TrainUpdate("Saved", 1.0, history=list(history), report=report)


@dataclass
class TrainReport:
    head: str
    metrics: dict  # accuracy, precision, recall, f1 (macro), per_class, confusion, labels, roc_auc
    best_epoch: int
    epochs_run: int
    history: list[dict]
    sizes: dict[str, int]
    seconds: float


@dataclass
class TrainUpdate:
    stage: str
    fraction: float
    history: list = field(default_factory=list)
    report: TrainReport | None = None


def text_encoder_of(card: dict) -> str:
    """Registry key of the text encoder a head was trained on (older cards: MiniLM)."""
    return card.get("encoders", {}).get("text", {}).get("model", TRAINING_TEXT_ENCODER)


# -- the image space a head was trained in -----------------------------------------------
_BRIDGE = "EfficientNet-Lite's ImageNet labels placed in MPNet's sentence space"
ENGINE_WORDS = {"clip": "CLIP", "labels": f"the offline label bridge ({_BRIDGE})"}


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


def image_space_of(card: dict) -> tuple[str, str | None] | None:
    """(engine kind, space name) a head's image modality was trained in; None for a head
    without images. Older cards ({"model": "clip", "source": ..., "dim": 512}, or nothing
    recorded) are CLIP's space; a space of None accepts any space of that kind."""
    if "image" not in card.get("modalities", {}):
        return None
    record = card.get("encoders", {}).get("image") or {}
    space = record.get("space") or record.get("source")
    return record.get("kind") or vision.space_engine(space) or "clip", space


def image_space_note(head: str, trained: tuple[str, str | None], here: str, problem: Exception | None = None) -> str:
    """Why an image was left out: the head's image space (kind, name) is not the one that
    can run here (`here`, in words); `problem`: why the head's own engine cannot."""
    kind, space = trained
    trained_on = ENGINE_WORDS.get(kind, kind) + (f" [{space}]" if space else "")
    why = f" {problem}" if problem is not None else ""
    return (f"The image was left out: the head '{head}' was trained on images read by {trained_on}, but here "
            f"images are read by {here}; a head reads images only in the space it was trained in (train a head "
            f"here to use images with this engine).{why}")


def embed_images_cached(cache: EmbeddingCache, engine, images: list, contents: list[bytes]) -> np.ndarray:
    """(n, engine.dim) image embeddings, cached by the engine's space and each file's content:
    vectors of two spaces never mix."""
    keys = [cache.key(f"image:{engine.name}", content) for content in contents]
    return cache.get_or_compute(keys, lambda missing: engine.embed_images([images[i] for i in missing]))


def _row_error(row: int, column: str, fn, *args):
    try:
        return fn(*args)
    except InputError as exc:
        raise InputError(f"Row {row + 1}, column '{column}': {exc}") from None


_services: dict[int, SentimentService] = {}


def service_for(manager, trained_root: Path, max_chars: int = 20_000, precision: str = "auto") -> SentimentService:
    """One service (and embedding cache) per manager. precision: see settings.sentiment_precision."""
    key = id(manager)
    if key not in _services:
        _services[key] = SentimentService(manager, HeadStore(trained_root), max_chars, precision=precision)
    return _services[key]


def unavailable_modalities(manager) -> dict[str, str]:
    """Cheap (no model load) check of what the optional modalities need: modality ->
    the reason it is unavailable. Used for the banner a tab shows at build time."""
    import importlib.util

    missing: dict[str, str] = {}
    problem = vision.problem(manager)
    if problem is not None:
        missing["image"] = f"images are read by {image_reader(manager)}, which cannot run here. {problem}"
    if importlib.util.find_spec("model_zoo.speech") is None:
        missing["audio"] = "voice clips need the speech service (model_zoo.speech), which is not in this build."
    return missing
