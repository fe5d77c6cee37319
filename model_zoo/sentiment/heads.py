"""The catalogue of saved sentiment heads: the shipped ones (assets/heads) and those
trained here (data dir), what each is made of (its parts, for a blend), and what a head's
card says about its encoders (text encoder, the image space it was trained in)."""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from model_zoo.fusion import training
from model_zoo.vision import engine as vision
from model_zoo.core import storage
from model_zoo.core.errors import InputError
from model_zoo.sentiment.results import TRAINING_TEXT_ENCODER, HeadInfo

OTHER_DOMAINS = ("tweets", "amazon", "nyt")  # test splits a shipped head's card reports beside the movie one
SHIPPED_HEADS = Path(__file__).resolve().parents[2] / "assets" / "heads"
DEFAULT_HEAD = "default"  # shipped: accurate (MPNet text encoder)
FAST_HEAD = "fast"  # shipped: MiniLM, several times faster, a few points less accurate
_HEAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")


@dataclass(frozen=True)
class HeadPart:
    """One set of weights that a head runs, with the weight of its probabilities: a plain
    head is one part (weight 1); a blend is its own weights plus the heads in parts/."""

    key: str  # "default", or "default:minilm" for a blend's part
    folder: Path
    card: dict = field(hash=False, compare=False)
    weight: float = 1.0


def text_encoder_of(card: dict) -> str:
    """Registry key of the text encoder a head was trained on (older cards: MiniLM)."""
    return card.get("encoders", {}).get("text", {}).get("model", TRAINING_TEXT_ENCODER)


def image_space_of(card: dict) -> tuple[str, str | None] | None:
    """(engine kind, space name) a head's image modality was trained in; None for a head
    without images. Older cards ({"model": "clip", "source": ..., "dim": 512}, or nothing
    recorded) are CLIP's space; a space of None accepts any space of that kind."""
    if "image" not in card.get("modalities", {}):
        return None
    record = card.get("encoders", {}).get("image") or {}
    space = record.get("space") or record.get("source")
    return record.get("kind") or vision.space_engine(space) or "clip", space


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
        storage.clean_debris(self.trained_root)  # what a killed save left (a write under way is kept)
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
                        blended_with={text_encoder_of(p.card): p.weight for p in blended},
                        other_domains={d: metrics[d]["accuracy_sign"] for d in OTHER_DOMAINS
                                       if isinstance(metrics.get(d), dict)},
                        intensity=bool(card.get("intensity")))

    def parts(self, name: str) -> list[HeadPart]:
        """What a head runs: its own weights first, then any heads its card blends in
        (`"blend": [{"part": "minilm", "weight": 0.1}]`, each a whole head in parts/<part>/);
        its own weight is what the parts leave. The parts must answer with the same labels
        from the same modalities, so their probabilities and contributions can be averaged."""
        folder, _ = self.folder(name)
        card = json.loads((folder / training.HEAD_CARD).read_text())
        parts = [self._blend_part(name, folder, card, entry) for entry in card.get("blend") or []]
        own = 1.0 - sum(p.weight for p in parts)
        if own <= 0:
            raise InputError(f"The head '{name}' is damaged: its blend weights add up to more than 1.")
        return [HeadPart(name, folder, card, own), *parts]

    @staticmethod
    def _blend_part(name: str, folder: Path, card: dict, entry: dict) -> HeadPart:
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
        return HeadPart(f"{name}:{part}", part_folder, part_card, weight)

    def load_part(self, part: HeadPart, encoder=None) -> tuple[dict, object]:
        """(card, SentimentModel), cached until the part's files change on disk (here or in
        another process sharing the data dir: a head is saved whole, its card rewritten with
        the weights, so the card's stamp (inode, mtime, size) changes with every save)."""
        from model_zoo.fusion.heads import load_head

        stamp = (str(part.folder), storage.file_stamp(part.folder / training.HEAD_CARD))
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
