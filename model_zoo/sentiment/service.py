"""Sentiment service: the facade the tabs call. Reads one input (or a batch of texts)
through a saved head and says which modality, and which words, drove the decision.

Modalities a head may use:
  text     the head's sentence encoder (MPNet for the shipped default, MiniLM for the fast
           head and heads trained in the browser), frozen or through the head's tuned top layers
  lexicon  VADER's (neg, neu, pos, compound) of the same text: a second text view
  image    the image engine's embedding (model_zoo.vision.engine: CLIP where its weights are, else
           the offline label bridge); a head reads images only in the space it was trained in
  audio    the transcript of the clip through MiniLM (model_zoo.speech.service.transcript_of)
A head without an audio modality reads a clip's transcript as (more) text. Whatever a
head uses but an input lacks is masked, so text alone works on any head.

Language: each text is read as English, Chinese or other by its script
(model_zoo.sentiment.language). Chinese text goes to the Chinese model (registry
`zh-sentiment`, model_zoo.sentiment.chinese) whatever head was asked for, since every head
reads English only; the answer may be declined (`declined`, with a note) where that model is
unsure. Text in another script is still answered by the head but declined, with a note: no
head here reads it. Every result says the language it was read as (`language`).

The rest lives by role: sentiment_heads (the catalogue of saved heads), sentiment_inputs
(embedding text, images and voice clips), sentiment_attributions (which words mattered),
sentiment_training (training a head on a dataset), sentiment_results (what is answered).
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np

from model_zoo.sentiment import attributions
from model_zoo.sentiment import language as languages
from model_zoo.sentiment import training as sentiment_training
from model_zoo.speech.audio import decode_audio
from model_zoo.fusion.datasets import Dataset
from model_zoo.core.errors import InputError, WeightsUnavailable
from model_zoo.vision.images import load_image
from model_zoo.sentiment.heads import (DEFAULT_HEAD, FAST_HEAD, SHIPPED_HEADS, HeadPart, HeadStore,
                              text_encoder_of)
from model_zoo.sentiment.inputs import (EmbeddingCache, SentimentInputs, image_reader,
                               unavailable_modalities)
from model_zoo.sentiment.results import SentimentResult, TrainReport, TrainUpdate, WordWeight

__all__ = ["DEFAULT_HEAD", "FAST_HEAD", "SHIPPED_HEADS", "EmbeddingCache", "HeadStore", "SentimentResult",
           "SentimentService", "TrainReport", "TrainUpdate", "WordWeight", "image_reader",
           "text_encoder_of", "unavailable_modalities"]  # what the tabs, scripts and tests import from here

_CHUNK = 256  # sentences per pass through a head in batch work
ZH_MODEL = "zh-sentiment"  # registry key of the Chinese model; also the `head` a Chinese result names
ZH_LABELS = ["negative", "positive"]


class SentimentService:
    def __init__(self, manager, store: HeadStore, max_chars: int = 20_000,
                 cache: EmbeddingCache | None = None, precision: str = "auto") -> None:
        self.manager = manager
        self.store = store
        self.inputs = SentimentInputs(manager, max_chars, cache, precision)

    @property
    def cache(self) -> EmbeddingCache:
        return self.inputs.cache

    @property
    def precision(self) -> str:
        """What text encoders run at (see SentimentInputs.precision)."""
        return self.inputs.precision

    @property
    def max_chars(self) -> int:
        return self.inputs.max_chars

    def clean_text(self, text: str | None, notes: list[str]) -> str:
        return self.inputs.clean_text(text, notes)

    def transcript(self, audio: str) -> str:
        return self.inputs.transcript(audio)

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

    # predictions ----------------------------------------------------------------------
    def predict(self, text: str | None, image: str | None = None, audio: str | None = None,
                head: str = DEFAULT_HEAD, attribute: bool = False) -> SentimentResult:
        """One input (any of text, image path, audio path) through a saved head; with
        `attribute`, also each word's weight for the predicted label (see
        sentiment_attributions), in the order of the text."""
        notes: list[str] = []
        text = self.inputs.clean_text(text, notes)
        head = head or DEFAULT_HEAD
        info = self.store.info(head)  # unknown head: error before any work
        # Validate every input before a model loads: a bad file gets its own error.
        picture = load_image(image) if image else None
        if audio:
            decode_audio(audio)
        if not text and picture is None and not audio:
            raise InputError("Please enter some text (or add an image or a voice clip).")
        language = languages.detect_language(text) if text else languages.ENGLISH
        if language == languages.CHINESE and self._chinese_reads(head):
            if picture is not None or audio:
                notes.append("Chinese text is read by the Chinese model, which reads text only: the "
                             f"{'image' if picture is not None else 'voice clip'}"
                             f"{' and the voice clip' if picture is not None and audio else ''} was left out.")
            return self._predict_chinese(head, [text], [notes], attribute)[0]
        self.check_head(head)  # the input is fine: can this head's text encoder load here?
        features: dict[str, np.ndarray] = {}
        if audio:
            text = self.inputs.add_audio(audio, text, info, features, notes)
        if picture is not None:
            self.inputs.add_image(picture, image, info, self.store.card(head), features, notes)
        if not text and not features:
            raise InputError("Nothing this head can read was given: " + " ".join(notes))
        [result] = self._predict_rows(head, [text or None], features, [notes], attribute)
        return self._mark_language(result, head, language, text)

    def predict_texts(self, texts: Sequence[str], head: str = DEFAULT_HEAD,
                      progress: Callable[[float], None] | None = None,
                      attribute: bool = False) -> list[SentimentResult]:
        """Batch mode: one result per text (empty texts are an error naming the row); with
        `attribute`, each also carries its words' weights (about 3x the work)."""
        notes: list[list[str]] = [[] for _ in texts]
        cleaned = [self.inputs.clean_text(t, n) for t, n in zip(texts, notes)]
        for row, text in enumerate(cleaned, start=1):
            if not text:
                raise InputError(f"Row {row}: the text is empty.")
        found = [languages.detect_language(t) for t in cleaned]
        chinese = [i for i, lang in enumerate(found) if lang == languages.CHINESE] if self._chinese_reads(head) else []
        routed = set(chinese)
        rest = [i for i in range(len(cleaned)) if i not in routed]
        results: list[SentimentResult | None] = [None] * len(cleaned)
        if rest:
            self.check_head(head)
            share = len(rest) / len(cleaned)
            answered = self._predict_rows(head, [cleaned[i] for i in rest], {}, [notes[i] for i in rest], attribute,
                                          (lambda f: progress(f * share)) if progress else None)
            for i, result in zip(rest, answered):
                results[i] = self._mark_language(result, head, found[i], cleaned[i])
        if chinese:
            answered = self._predict_chinese(head, [cleaned[i] for i in chinese], [notes[i] for i in chinese],
                                             attribute)
            for i, result in zip(chinese, answered):
                results[i] = result
        if progress:
            progress(1.0)
        return results

    def _predict_rows(self, head: str, texts: list[str | None], features: dict[str, np.ndarray],
                      notes: list[list[str]], attribute: bool,
                      progress: Callable[[float], None] | None = None) -> list[SentimentResult]:
        """Results for texts that share the same other inputs (`features`). With
        `attribute`, each text's occluded variants ride in the same batches."""
        units = [attributions.word_units(t) if attribute and t else [] for t in texts]
        rows: list[str | None] = []
        for text, text_units in zip(texts, units):
            rows += [text, *attributions.occluded_texts(text_units)]
        if not rows:
            return []
        labels, names = self._head_labels(head)
        probs, weights, mask, intensity = [], [], [], []
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            outputs = self._head_outputs(head, chunk, [features] * len(chunk))
            for out, part in zip((probs, weights, mask, intensity), outputs):
                out.append(part)
            if progress:
                progress(min(1.0, (start + _CHUNK) / len(rows)))
        probs, weights, mask = (np.concatenate(x) for x in (probs, weights, mask))
        intensity = None if intensity[0] is None else np.concatenate(intensity)
        results, row = [], 0
        for text_units, text_notes in zip(units, notes):
            result = _result(head, labels, names, probs[row], weights[row], mask[row], text_notes)
            if intensity is not None:
                result.intensity = round(float(intensity[row]), 3)
            if text_units:
                occluded = probs[row + 1 : row + 1 + len(text_units)]
                result.attributions = attributions.weigh(text_units, labels.index(result.label), probs[row], occluded)
            results.append(result)
            row += 1 + len(text_units)
        return results

    # languages ---------------------------------------------------------------------------
    def _chinese_reads(self, head: str) -> bool:
        """Whether Chinese text goes to the Chinese model rather than `head`: it answers
        negative/positive only, so a head trained with other labels keeps its text (declined)."""
        return self._head_labels(head)[0] == ZH_LABELS

    def _mark_language(self, result: SentimentResult, head: str, language: str, text: str | None) -> SentimentResult:
        """Say which language the head's answer was read as; decline where no head here reads it."""
        result.language = language
        if language == languages.CHINESE:  # only a head with other labels gets here
            result.declined = True
            result.notes.append(f"The studio cannot judge this text's sentiment: it is Chinese, the head '{head}' "
                                "reads English only, and the Chinese model answers negative/positive, not this "
                                "head's labels. The label only says which way the head leaned.")
        elif language == languages.OTHER and text and languages.has_letters(text):
            result.declined = True
            result.notes.append(f"The studio cannot judge this text's sentiment: it is not in English or Chinese "
                                f"({languages.describe(text)}), and the head '{head}' reads English only. The label "
                                "only says which way the head leaned.")
        elif language == languages.OTHER and text:
            result.notes.append("The text has no letters: the English head read its symbols (VADER's lexicon knows "
                                "emoticons and emoji).")
        return result

    def _predict_chinese(self, head: str, texts: list[str], notes: list[list[str]],
                         attribute: bool) -> list[SentimentResult]:
        """Chinese texts through the Chinese model (registry zh-sentiment); where it cannot load
        here, the head answers, declined, with a note saying what to install."""
        problem = self.manager.weights_problem(ZH_MODEL)
        if problem is not None:
            self.check_head(head)
            results = self._predict_rows(head, list(texts), {}, notes, attribute)
            for result in results:
                result.language, result.declined = languages.CHINESE, True
                result.notes.append(f"The studio cannot judge this text's sentiment: it is Chinese, the head "
                                    f"'{head}' reads English only, and the Chinese sentiment model cannot load here "
                                    f"({problem.detail} {problem.how_to_fix}). The label is the English head's guess.")
            return results
        units = [languages.chinese_units(t) if attribute else [] for t in texts]
        rows: list[str | None] = []
        for text, text_units in zip(texts, units):
            rows += [text, *(("".join(text_units[:k] + text_units[k + 1:]) or None) for k in range(len(text_units)))]
        filled = [r for r in rows if r]
        with self.manager.use(ZH_MODEL) as model:  # in chunks: a batch CSV may hold many thousand rows
            predictions = iter([a for start in range(0, len(filled), _CHUNK)
                                for a in model.predict(filled[start : start + _CHUNK])])
        answers = [next(predictions) if r else None for r in rows]
        results, row = [], 0
        for text_units, text_notes in zip(units, notes):
            answer = answers[row]
            words = ", ".join(f"{name.replace('_', ' ')} {value:+.2f}" for name, value in answer.components.items())
            text_notes = [*text_notes, f"Read as Chinese by the Chinese sentiment model ({ZH_MODEL}) instead of the "
                          f"head '{head}', which reads English only; its readers' log-odds of positive: {words}."]
            if answer.declined:
                text_notes.append(
                    f"The studio cannot judge this text's sentiment confidently: the Chinese model is only "
                    f"{answer.confidence:.0%} sure, below the {model.rule.decline_below:.0%} it needs to answer. "
                    "The label only says which way it leaned.")
            result = SentimentResult(label=answer.label, scores=answer.scores, modalities=["text"],
                                     contributions={"text": 1.0}, head=ZH_MODEL, notes=text_notes,
                                     language=languages.CHINESE, declined=answer.declined)
            if text_units:  # compared before the cap, which would flatten them
                label = ZH_LABELS.index(answer.label)
                full = np.array(_two(answer))
                occluded = np.array([[0.5, 0.5] if a is None else _two(a)
                                     for a in answers[row + 1 : row + 1 + len(text_units)]])
                result.attributions = attributions.weigh(text_units, label, full, occluded)
            results.append(result)
            row += 1 + len(text_units)
        return results

    def _head_labels(self, head: str) -> tuple[list[str], list[str]]:
        card = self.store.parts(head)[0].card
        return list(card["labels"]), list(card["modalities"])

    def _head_outputs(self, head: str, texts: list[str | None], extra: list[dict[str, np.ndarray]]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(probabilities (n, labels), contributions (n, modalities), mask (n, modalities),
        intensity (n,) or None) of a head: a blend's parts weighted, a seed ensemble's
        members averaged. Intensity comes from the parts that have that output."""
        from model_zoo.fusion.heads import lexicon_scores

        parts = self.store.parts(head)
        with_text = [i for i, t in enumerate(texts) if t]
        lexicon = lexicon_scores([texts[i] for i in with_text]) if with_text else None  # shared by the parts
        outputs = [(part.weight, *self._part_outputs(part, texts, with_text, lexicon, extra)) for part in parts]
        probs = sum(w * part_probs for w, part_probs, _, _, _ in outputs)
        weights = sum(w * part_weights for w, _, part_weights, _, _ in outputs)
        rated = [(w, part_intensity) for w, _, _, _, part_intensity in outputs if part_intensity is not None]
        intensity = sum(w * i for w, i in rated) / sum(w for w, _ in rated) if rated else None
        return probs, weights, outputs[0][3], intensity  # every part sees the same inputs

    def _part_outputs(self, part: HeadPart, texts: list[str | None], with_text: list[int],
                      lexicon: np.ndarray | None, extra: list[dict[str, np.ndarray]]):
        """(probabilities, contributions, mask, intensity or None) of one part of a head; a
        seed ensemble's members are averaged."""
        import torch

        from model_zoo.fusion.heads import mean_explanation

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
                rows = (self.inputs.text_embeddings([texts[i] for i in with_text], model, card=card)
                        if modality == "text" else lexicon)
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
            mean = mean_explanation([m.fusion.explain(batch, mask) for m, batch in zip(members, batches)])
        intensity = None if mean.intensity is None else mean.intensity.numpy()
        return mean.probs.numpy(), mean.contributions.numpy(), mask.numpy(), intensity

    def _load_part(self, part: HeadPart):
        if int(part.card.get("text_top_layers", 0)):
            with self.manager.use(text_encoder_of(part.card)) as encoder:
                return self.store.load_part(part, encoder)
        return self.store.load_part(part)

    # training -------------------------------------------------------------------------
    def dataset_features(self, data: Dataset) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, dict]]:
        """(features by modality (n, d), mask (n, M), encoder descriptions) for a dataset."""
        return sentiment_training.dataset_features(self.inputs, data)

    def train(self, data: Dataset, name: str, fusion: str = "gated", epochs: int = 30, lr: float = 2e-3,
              hidden: int = 128, batch_size: int = 32, seed: int = 0, patience: int = 5,
              quota=None) -> Iterator[TrainUpdate]:
        """Train a head on a dataset and save it; yields TrainUpdate as it goes (the
        last one carries the report). Nothing is written unless training finishes, nor
        beyond the owner's `quota` (model_zoo.core.ownership), if given."""
        return sentiment_training.train_head(self.inputs, self.store, data, name, fusion, epochs, lr, hidden,
                                             batch_size, seed, patience, quota)


def _two(answer) -> list[float]:
    """[p(negative), p(positive)] of a Chinese answer before the cap."""
    p = answer.positive if answer.raw_positive is None else answer.raw_positive
    return [1.0 - p, p]


def _result(head: str, labels: list[str], names: list[str], probs: np.ndarray, weights: np.ndarray,
            mask: np.ndarray, notes: list[str]) -> SentimentResult:
    """One row of a head's outputs as the answer the API returns."""
    p = probs.tolist()
    return SentimentResult(
        label=labels[int(np.argmax(p))], scores={label: round(float(v), 4) for label, v in zip(labels, p)},
        modalities=[m for j, m in enumerate(names) if mask[j]],
        contributions={m: round(float(weights[j]), 4) for j, m in enumerate(names) if mask[j]},
        head=head, notes=list(notes))
