"""What the sentiment service answers: result dataclasses (the JSON API returns them as
dicts; the tabs format the same objects) and how a head describes itself in words."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Heads trained in the browser embed text with the small encoder: training stays quick on a
# CPU. A head's card names its own encoder (the shipped default uses a larger one).
TRAINING_TEXT_ENCODER = "minilm"


@dataclass
class WordWeight:
    """How much one word (or, in a long text, a span of words) moved the predicted
    label's probability: p(label | text) - p(label | text without it). Positive: the word
    pushed toward the label; negative: against it."""

    token: str
    weight: float


@dataclass
class SentimentResult:
    label: str
    scores: dict[str, float]
    modalities: list[str]  # the ones that took part in this prediction
    contributions: dict[str, float]  # modality -> share of the decision
    head: str
    notes: list[str] = field(default_factory=list)  # truncation, ignored inputs, ...
    attributions: list[WordWeight] = field(default_factory=list)  # the text's words, in order
    # How strong the feeling is, on the -4..+4 scale of the human ratings the head learned
    # (its intensity output); None for a head trained without ratings.
    intensity: float | None = None
    # The language the text was read as (model_zoo.sentiment.language): "en" (Latin script: the
    # English heads), "zh" (the Chinese model, model_zoo.sentiment.chinese) or "other".
    language: str = "en"
    # True when the studio does not vouch for the answer: the Chinese model was unsure, or the text
    # is in a language no head here reads. `label` and `scores` then only say which way the
    # model leaned; a note says why in words.
    declined: bool = False

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
    other_domains: dict[str, float] = field(default_factory=dict)  # shipped heads: test accuracy per other domain
    intensity: bool = False  # the head also says how strong the feeling is (-4..+4)

    def summary(self) -> str:
        acc = ""
        if self.accuracy is not None:
            acc = f", test accuracy {self.accuracy:.3f}" + (" on movie reviews" if self.other_domains else "")
        if self.accuracy_clear is not None:
            acc += f" ({self.accuracy_clear:.3f} on clear-cut sentences)"
        if self.other_domains:
            acc += "; " + ", ".join(f"{domain} {value:.3f}" for domain, value in self.other_domains.items())
        if self.intensity:
            acc += "; with intensity"
        ensemble = f", {self.members} seeds averaged" if self.members > 1 else ""
        blend = "".join(f"; blended with a {encoder} head at weight {weight:.2f}"
                        for encoder, weight in self.blended_with.items())
        return (f"{self.name}: {self.fusion} fusion over {' + '.join(self.modalities)} ({self.text_encoder} text"
                f"{ensemble}{blend}) -> {'/'.join(self.labels)}{acc}")


@dataclass
class TrainReport:
    head: str
    metrics: dict  # accuracy, precision, recall, f1 (macro), per_class, confusion, labels, roc_auc
    best_epoch: int
    epochs_run: int
    history: list[dict]
    sizes: dict[str, int]
    seconds: float
    rejected: list[dict] = field(default_factory=list)  # [{name, reason}]: files of the dataset zip refused
    note: str = ""  # those refusals in one sentence ("" when none)


@dataclass
class TrainUpdate:
    stage: str
    fraction: float
    history: list = field(default_factory=list)
    report: TrainReport | None = None
