"""The rated sentences the shipped heads learn from: the VADER ICWSM-2014 data (inside the
source distribution of vaderSentiment==3.3.2), four domains of sentences each rated by
~20 people on -4..+4 (the mean is kept):

    movie   10,605 movie-review snippets        tweets  4,200 tweets
    amazon   3,708 Amazon product-review snippets  nyt  5,190 NYT editorial snippets

Labels: positive if the mean rating > 0, negative if < 0; exact zeros are dropped. Each
domain is split by the same rule: a seeded stratified split holding out 15% as test and 10%
as validation. The movie rows come first and keep the split the heads have always used.
A sentence that repeats (within a domain or from an earlier one, compared in lower case with
spaces collapsed) is kept once, so no test sentence is also a training sentence.
"""
from __future__ import annotations

import html
import json
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SDIST = "vaderSentiment==3.3.2"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
DOMAIN_FILES = {"movie": "movieReviewSnippets", "tweets": "tweets", "amazon": "amazonReviewSnippets",
                "nyt": "nytEditorialSnippets"}
DOMAINS = tuple(DOMAIN_FILES)
VAL_FRACTION, TEST_FRACTION = 0.10, 0.15


def fetch_icwsm(cache: Path) -> tuple[Path, str]:
    """The extracted hutto_ICWSM_2014 folder and the sha256 of its tarball."""
    from model_zoo.core import storage

    folder = cache / "hutto_ICWSM_2014"
    tarball = cache / "hutto_ICWSM_2014.tar.gz"
    if not tarball.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", SDIST,
                        "-d", str(cache), "-q"], check=True)
        sdist = next(cache.glob("vaderSentiment-3.3.2.tar.*"))
        with tarfile.open(sdist) as outer:
            storage.atomic_write_bytes(tarball, outer.extractfile(INNER).read())
    if not (folder / "movieReviewSnippets_GroundTruth.txt").is_file():
        with tarfile.open(tarball) as inner:
            inner.extractall(cache, filter="data")
    return folder, storage.sha256_file(tarball)


def read_snippets(path: Path) -> tuple[list[str], np.ndarray]:
    """(texts, mean ratings) from a *_GroundTruth.txt file: id <tab> rating <tab> text.
    HTML entities (&amp; in the tweets) are decoded."""
    texts, ratings = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[2].strip():
            ratings.append(float(parts[1]))
            texts.append(html.unescape(parts[2].strip()))
    return texts, np.array(ratings, dtype=np.float32)


def rater_shares(folder: Path, ratings: np.ndarray) -> np.ndarray:
    """Per movie snippet, the share of its raters who read it as positive (a 0 counts
    half): a soft label that keeps how sure people were. Rows align with read_snippets."""
    shares, means = [], []
    for line in (folder / "movieReviewSnippets_anonDataRatings.txt").read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            votes = np.array(json.loads(parts[3]), dtype=np.float32)
            shares.append(((votes > 0).sum() + 0.5 * (votes == 0).sum()) / len(votes))
            means.append(float(parts[1]))
    if len(shares) != len(ratings) or not np.allclose(means, ratings, atol=1e-4):
        raise ValueError("the per-rater ratings do not line up with the ground-truth file")
    return np.array(shares, dtype=np.float32)


def binarise(ratings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, keep): 1 = positive (> 0), 0 = negative (< 0); exact zeros dropped."""
    return (ratings > 0).astype(np.int64), ratings != 0


def split_rows(y: np.ndarray, keep: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) indices of the kept rows: the seeded stratified split."""
    from model_zoo.fusion.training import stratified_split

    rows = np.flatnonzero(keep)
    return tuple(rows[p] for p in stratified_split(y[rows], [VAL_FRACTION, TEST_FRACTION], seed=seed))


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass
class Corpus:
    """Every sentence of the chosen domains in one list (the movie rows first, at the
    indices of their file), with its mean rating, label, soft label and domain, and the
    split of each domain as indices into the list."""

    texts: list[str]
    ratings: np.ndarray
    y: np.ndarray
    shares: np.ndarray  # movie: the raters' share; other domains: the hard label
    domain: np.ndarray  # index into `domains`, per row
    domains: tuple[str, ...]
    splits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    dropped_duplicates: dict[str, int] = field(default_factory=dict)

    def rows(self, part: str, domains: tuple[str, ...] | None = None) -> np.ndarray:
        """The train / val / test rows of the given domains (all by default), sorted."""
        k = ("train", "val", "test").index(part)
        chosen = domains or self.domains
        return np.sort(np.concatenate([self.splits[d][k] for d in chosen]))

    def row_weights(self, alpha: float, rows: np.ndarray) -> np.ndarray:
        """Per-row training weights (for all rows; mean 1 over `rows`) giving domain d a
        total share proportional to n_d ** alpha, n_d its rows among `rows`: alpha 1 keeps
        the natural mix, 0 weighs every domain equally."""
        counts = np.bincount(self.domain[rows], minlength=len(self.domains)).astype(np.float64)
        share = np.where(counts > 0, counts ** alpha, 0.0)
        per_row = np.divide(share / share.sum() * len(rows), counts, out=np.zeros_like(share), where=counts > 0)
        return per_row[self.domain].astype(np.float32)


def load_corpus(folder: Path, domains: tuple[str, ...] = DOMAINS, seed: int = 0) -> Corpus:
    """The chosen domains (movie first, which must be among them), deduplicated and split."""
    if domains[0] != "movie":
        raise ValueError("the movie snippets come first: their row indices are the head's test split")
    texts: list[str] = []
    ratings, shares, domain = [], [], []
    splits, dropped = {}, {}
    seen: set[str] = set()
    for d, name in enumerate(domains):
        sentences, rates = read_snippets(folder / f"{DOMAIN_FILES[name]}_GroundTruth.txt")
        if name == "movie":  # kept whole: its indices are the split the heads always had
            keep_rows = np.arange(len(sentences))
            soft = rater_shares(folder, rates)
        else:
            keep_rows = np.array([i for i, s in enumerate(sentences) if _normal(s) not in seen
                                  and not seen.add(_normal(s))], dtype=np.int64)  # first copy only
            soft = (rates > 0).astype(np.float32)
        dropped[name] = len(sentences) - len(keep_rows)
        seen.update(_normal(s) for s in sentences)
        start = len(texts)
        texts += [sentences[i] for i in keep_rows]
        ratings.append(rates[keep_rows])
        shares.append(soft[keep_rows])
        domain.append(np.full(len(keep_rows), d, dtype=np.int64))
        splits[name] = tuple(start + part for part in split_rows(*binarise(rates[keep_rows]), seed))
    all_ratings = np.concatenate(ratings)
    return Corpus(texts, all_ratings, binarise(all_ratings)[0], np.concatenate(shares), np.concatenate(domain),
                  tuple(domains), splits, dropped)


def movie_split(folder: Path, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray, tuple]:
    """(texts, ratings, labels, (train, val, test) row indices) of the movie snippets alone:
    what the benchmarks and checks measure on."""
    corpus = load_corpus(folder, ("movie",), seed)
    return corpus.texts, corpus.ratings, corpus.y, corpus.splits["movie"]
