"""The WordNet hierarchy above ImageNet-1k's classes, read from the shipped JSON
(assets/vision/imagenet-hierarchy.json, written by scripts/vision/ship_imagenet_hierarchy.py).

Why: the classifier often spreads its probability over related classes (agama 0.3,
chameleon 0.25, ...); summed per kind it can say "a lizard, probably an agama or a
chameleon". And a typed label ("lizards") maps to every class under that kind.
Only json and numpy here: no nltk, no WordNet files at run time."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_PATH = Path(__file__).resolve().parents[3] / "assets" / "vision" / "imagenet-hierarchy.json"
ROOT = "n00001740"  # entity
_ARTICLES = ("a ", "an ", "the ")


@dataclass(frozen=True)
class Kind:
    """One WordNet noun synset: an ImageNet class or a kind above classes."""
    wnid: str
    name: str  # the familiar name, e.g. "lizard" (first of names)
    names: tuple[str, ...]  # lemmas, most frequent first
    depth: int  # longest path length from 'entity' (entity = 0)
    count: int  # SemCor count of the first name: > 0 means people actually say this word
    classes: tuple[int, ...]  # ImageNet class indices under it (sorted); a class's own node: itself


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


def _spellings(text: str) -> list[str]:
    """What a typed label may stand for: without a leading article, singular or plural."""
    text = _normal(text)
    for article in _ARTICLES:
        if text.startswith(article):
            text = text[len(article):]
            break
    found = [text]
    if text.endswith("ies"):
        found.append(text[:-3] + "y")
    if text.endswith("es"):
        found.append(text[:-2])
    if text.endswith("s"):
        found.append(text[:-1])
    return found


class ImageNetHierarchy:
    """Kinds over the classes as a DAG: a class under two parents counts in both."""

    def __init__(self, data: dict):
        self.source: str = data["source"]
        self.classes: list[str] = list(data["classes"])
        nodes: dict[str, dict] = data["nodes"]
        missing = sorted({p for n in nodes.values() for p in n["parents"] if p not in nodes}
                         | {w for w in self.classes if w not in nodes})
        if missing:
            raise ValueError(f"the hierarchy names nodes it does not hold: {missing[:5]}")
        self._parents = {w: tuple(n["parents"]) for w, n in nodes.items()}
        depth: dict[str, int] = {}

        def depth_of(w: str) -> int:  # recursion is shallow: WordNet nouns are < 20 deep
            if w not in depth:
                depth[w] = 1 + max(map(depth_of, self._parents[w])) if self._parents[w] else 0
            return depth[w]

        members: dict[str, set[int]] = {w: set() for w in nodes}
        for index, w in enumerate(self.classes):
            for above in self._closure(w):
                members[above].add(index)
        order = sorted(nodes, key=lambda w: (depth_of(w), w))  # general kinds first
        self.kinds: list[Kind] = [
            Kind(w, nodes[w]["names"][0], tuple(nodes[w]["names"]), depth_of(w), int(nodes[w]["count"]),
                 tuple(sorted(members[w]))) for w in order]
        self._by_wnid = {k.wnid: k for k in self.kinds}
        # The (n_kinds x 1000) membership matrix in CSR form: row r's classes are
        # _columns[_starts[r]:_starts[r + 1]]. No kind is empty, so reduceat sums rows.
        sizes = np.array([len(k.classes) for k in self.kinds])
        self._columns = np.fromiter((i for k in self.kinds for i in k.classes), dtype=np.intp, count=sizes.sum())
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        self._named: dict[str, list[Kind]] = {}
        for kind in self.kinds:
            for name in {_normal(n) for n in kind.names}:
                self._named.setdefault(name, []).append(kind)

    def _closure(self, wnid: str) -> set[str]:
        """wnid and every node above it."""
        seen, todo = set(), [wnid]
        while todo:
            w = todo.pop()
            if w not in seen:
                seen.add(w)
                todo += self._parents[w]
        return seen

    def node(self, wnid: str) -> Kind:
        return self._by_wnid[wnid]

    def class_node(self, index: int) -> Kind:
        return self._by_wnid[self.classes[index]]

    def ancestors(self, index: int) -> list[Kind]:
        """All proper ancestors of class `index`, most specific first (deepest; then fewest classes)."""
        wnid = self.classes[index]
        found = [self._by_wnid[w] for w in self._closure(wnid) if w != wnid]
        return sorted(found, key=lambda k: (-k.depth, len(k.classes), k.wnid))

    def kind_mass(self, probabilities: np.ndarray) -> np.ndarray:
        """Summed class probability per kind, in `self.kinds` order: (1000,) -> (n_kinds,),
        (n, 1000) -> (n, n_kinds)."""
        p = np.asarray(probabilities)
        if p.shape[-1] != len(self.classes):
            raise ValueError(f"expected {len(self.classes)} class probabilities, got shape {p.shape}")
        return np.add.reduceat(p[..., self._columns], self._starts, axis=-1)

    def kinds_named(self, text: str) -> list[Kind]:
        """Kinds (classes' own nodes too) with a lemma equal to `text`, case-insensitive,
        without a leading article, singular or plural ("Lizards" -> lizard); most classes first."""
        found = {k.wnid: k for s in _spellings(text) for k in self._named.get(s, [])}
        return sorted(found.values(), key=lambda k: (-len(k.classes), -k.count, k.depth, k.wnid))


@lru_cache(maxsize=4)
def load_hierarchy(path: Path = DEFAULT_PATH) -> ImageNetHierarchy:
    """The shipped hierarchy, read once per path."""
    return ImageNetHierarchy(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def shipped_hierarchy() -> ImageNetHierarchy | None:
    """The shipped hierarchy, or None where its file is missing or damaged (logged once):
    captions and labels then go without kinds rather than fail."""
    try:
        return load_hierarchy()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        import logging

        logging.getLogger(__name__).warning("no WordNet kinds (%s: %s); captions name classes only",
                                            DEFAULT_PATH, exc)
        return None
