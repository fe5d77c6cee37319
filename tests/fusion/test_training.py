"""Training a head from the browser: dataset validation (errors naming the row or column,
nothing half-written), splits and metrics, the tab's handler end to end, /train_head, and
a text+image head on real photos read by the offline label bridge."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_zoo.fusion.datasets import load_dataset
from model_zoo.core.errors import InputError
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.fusion.training import class_weights, evaluate, stratified_split

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "assets" / "datasets" / "amazon_reviews_300.csv"


@pytest.fixture(scope="module")
def tiny_manager(tiny_text_encoder_dir, tiny_clip_dir, tmp_path_factory) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True,
                                      overrides={"minilm": str(tiny_text_encoder_dir), "clip": str(tiny_clip_dir)}))


@pytest.fixture
def ctx(tiny_manager, tmp_path):
    """A fresh context: its own sentiment service (heads under this test's data dir)."""
    from app.settings import load_settings
    from components.context import StudioContext

    return StudioContext(tiny_manager, load_settings(["--data-dir", str(tmp_path / "data")], environ={}))


def write_csv(path: Path, **columns) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def photo_zip(tmp_path: Path, n: int = 12, broken_row: int | None = None) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = tmp_path / "media"
    (folder / "img").mkdir(parents=True)
    rows = []
    for i in range(n):
        label = "bright" if i % 2 else "dark"
        pixels = np.full((32, 32, 3), 220 if label == "bright" else 30, np.uint8) + rng.integers(
            0, 20, (32, 32, 3), dtype=np.uint8
        )
        Image.fromarray(pixels).save(folder / "img" / f"{i}.png")
        rows.append({"text": "", "image": f"img/{i}.png", "label": label})
    if broken_row is not None:
        (folder / "img" / f"{broken_row}.png").write_bytes(b"garbage")
    pd.DataFrame(rows).to_csv(folder / "data.csv", index=False)
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in folder.rglob("*"):
            z.write(p, p.relative_to(folder))
    return archive


# -- datasets ----------------------------------------------------------------------------
def test_csv_jsonl_parquet_read_alike(tmp_path):
    frame = pd.DataFrame({"text": ["good", "bad", "fine", "awful"], "label": ["pos", "neg", "pos", "neg"]})
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "d.parquet")
    for name in ("d.csv", "d.jsonl", "d.parquet"):
        data = load_dataset(tmp_path / name)
        assert data.texts == ["good", "bad", "fine", "awful"] and data.y == [1, 0, 1, 0] and data.modalities == ["text"]
        assert len(data.sha256) == 64


@pytest.mark.parametrize("columns, message", [
    ({"text": ["a", "b"]}, "no 'label' column.*columns found: text"),
    ({"comment": ["a", "b"], "label": ["x", "y"]}, "at least one input column: text, image or audio"),
    ({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}, "Every row has the label 'x'"),
    ({"text": ["a", "b", "c"], "label": ["x", "x", "y"]}, "'y' occur only once"),
    ({"text": ["a", "", "c", "d"], "label": ["x", "y", "x", "y"]}, "Row 2: no text, image or audio"),
    ({"text": ["a", "b", "c"], "label": ["x", "", "y"]}, "Row 2: the 'label' column is empty"),
])
def test_bad_tables_name_the_row_or_column(tmp_path, columns, message):
    with pytest.raises(InputError, match=message):
        load_dataset(write_csv(tmp_path / "d.csv", **columns))


def test_unknown_labels_are_reported_by_row(tmp_path):
    path = write_csv(
        tmp_path / "d.csv", text=["a", "b", "c", "d"], label=["positive", "negative", "postive", "positive"]
    )
    with pytest.raises(InputError, match="Row 3: unknown label 'postive'"):
        load_dataset(path, expected_labels=["negative", "positive"])


def test_zip_with_media_and_a_broken_path(tmp_path):
    data = load_dataset(photo_zip(tmp_path / "ok"), workdir=tmp_path)
    assert data.modalities == ["image"] and all(p.is_file() for p in data.images)
    frame = pd.DataFrame({"image": ["img/0.png", "img/missing.png"], "label": ["a", "b"]})
    with pytest.raises(InputError, match="Row 2, column 'image': the file 'img/missing.png' is not in the dataset"):
        from model_zoo.fusion.datasets import validate

        validate(pd.concat([frame] * 2, ignore_index=True).iloc[[0, 1, 0, 1]].reset_index(drop=True),
                 tmp_path / "ok" / "media", "x.csv")
    with zipfile.ZipFile(tmp_path / "ok" / "photos.zip", "a") as z:  # a file of another kind beside the table
        z.writestr("notes.txt", "not part of the data")
    data = load_dataset(tmp_path / "ok" / "photos.zip", workdir=tmp_path)
    assert [r["name"] for r in data.rejected] == ["notes.txt"] and data.note.startswith("1 file was refused")
    escape = tmp_path / "evil.zip"
    with zipfile.ZipFile(escape, "w") as z:
        z.writestr("../../etc/data.csv", "text,label\na,b\n")
    with pytest.raises(InputError, match="leads outside the archive"):
        load_dataset(escape, workdir=tmp_path)


# -- splits and metrics ----------------------------------------------------------------------
def test_stratified_split_keeps_class_balance():
    y = np.array([0] * 80 + [1] * 20)
    train, val, test = stratified_split(y, [0.15, 0.15], seed=0)
    assert len(set(train) | set(val) | set(test)) == 100 and len(train) + len(val) + len(test) == 100
    assert y[test].sum() == 3 and y[val].sum() == 3
    assert np.array_equal(stratified_split(y, [0.15, 0.15], seed=0)[2], test)  # seeded
    assert class_weights(y, 2).tolist() == pytest.approx([100 / 160, 100 / 40])


def test_metrics():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    m = evaluate([0, 1, 1, 1], probs, ["neg", "pos"])
    assert m.accuracy == 0.75 and m.confusion == [[1, 0], [1, 2]] and m.roc_auc == 1.0
    assert m.per_class["pos"]["recall"] == pytest.approx(2 / 3)


# -- the tab's handler, end to end -------------------------------------------------------------
def test_training_through_the_tab_handler(ctx):
    from components.common.heads import service
    from components.training import confusion_figure, curves, metrics_markdown, run_training

    updates = list(run_training(ctx, {"path": str(EXAMPLE)}, "gated", epochs=4, lr=5e-3, hidden=32,
                                batch_size=32, seed=0, name="amazon-small", labels="negative, positive"))
    report = updates[-1].report
    assert report.head == "amazon-small" and report.epochs_run == len(updates[-1].history) <= 4
    assert [u.history[-1].epoch for u in updates if u.history] == list(range(1, report.epochs_run + 1)) + [
        report.epochs_run
    ]
    assert set(report.metrics) >= {"accuracy", "precision", "recall", "f1", "confusion", "roc_auc", "per_class"}
    assert report.sizes == {"train": 210, "val": 45, "test": 45}
    folder = ctx.settings.data_dir / "heads" / "amazon-small"
    card = json.loads((folder / "card.json").read_text())
    assert card["fusion"] == "gated" and card["modalities"] == {"text": 32, "lexicon": 4}
    assert card["data"]["sha256"] and card["metrics"]["accuracy"] == report.metrics["accuracy"]
    # The Sentiment tab sees it at once and predicts with it.
    svc = service(ctx)
    assert "amazon-small" in svc.store.names()
    assert svc.predict("excellent.", head="amazon-small").head == "amazon-small"
    # What the tab shows.
    losses, scores = curves(updates[-1].history)
    assert len(losses) == 2 * report.epochs_run and set(scores.curve) == {"val macro-F1", "val accuracy"}
    assert "amazon-small" in metrics_markdown(report) and confusion_figure(report.metrics) is not None
    svc.store.shipped_root = ctx.settings.data_dir / "shipped"
    (svc.store.shipped_root / "default").mkdir(parents=True)
    (svc.store.shipped_root / "default" / "card.json").write_text("{}")
    with pytest.raises(InputError, match="shipped with the app"):
        list(run_training(ctx, {"path": str(EXAMPLE)}, name="default"))


def test_image_dataset_with_clip_and_broken_image(ctx, tmp_path):
    from components.training import run_training

    update = list(run_training(ctx, {"path": str(photo_zip(tmp_path / "a"))}, "attention", epochs=2, hidden=16,
                               name="photos"))[-1]
    assert update.report.metrics["n"] >= 2
    card = json.loads((ctx.settings.data_dir / "heads" / "photos" / "card.json").read_text())
    space = ctx.manager.spec("clip").source  # the tiny CLIP: its space is named by its source
    assert card["encoders"]["image"] == {"model": "clip", "kind": "clip", "space": space, "source": space, "dim": 16}
    with pytest.raises(InputError, match=r"Row 4, column 'image': '3.png'"):
        list(run_training(ctx, {"path": str(photo_zip(tmp_path / "b", broken_row=3))}, name="broken"))
    heads = ctx.settings.data_dir / "heads"
    assert sorted(p.name for p in heads.iterdir()) == ["photos"]  # nothing half-written


def test_train_head_endpoint_through_gradio_client(ctx, tmp_path):
    from gradio_client import Client, handle_file

    from tests.conftest import serve_in_process

    small = write_csv(tmp_path / "tiny.csv", text=["good fun", "lovely", "great plot", "a dull mess", "awful",
                                                   "boring film"] * 3,
                      label=["pos", "pos", "pos", "neg", "neg", "neg"] * 3)
    with serve_in_process(ctx.settings.data_dir, ctx.manager, environ={"MMS_DATA_MODE": "shared"}) as url:
        client = Client(url, verbose=False)
        result = client.predict(handle_file(str(small)), "late", 3, 0.005, 32, 8, 0, "from-client", "",
                                api_name="/train_head")
        assert result["head"] == "from-client" and 0 <= result["metrics"]["accuracy"] <= 1
        assert (ctx.settings.data_dir / "heads" / "from-client" / "head.safetensors").is_file()
        with pytest.raises(Exception, match="no 'label' column"):
            client.predict(handle_file(str(write_csv(tmp_path / "x.csv", text=["a"]))), api_name="/train_head")


def test_audio_dataset_through_transcripts(ctx, tmp_path, monkeypatch):
    import sys
    import types
    import wave

    from components.training import run_training

    speech = types.ModuleType("model_zoo.speech.service")  # the speech tab's transcript_of, faked
    speech.transcript_of = lambda manager, path: "good fun" if "pos" in Path(path).name else "awful"
    monkeypatch.setitem(sys.modules, "model_zoo.speech.service", speech)
    folder = tmp_path / "voice"
    folder.mkdir()
    rows = []
    for i in range(12):
        name = f"{'pos' if i % 2 else 'neg'}{i}.wav"
        with wave.open(str(folder / name), "wb") as out:
            out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
            out.writeframes(np.zeros(1600, "<i2").tobytes())
        rows.append({"audio": name, "label": "pos" if i % 2 else "neg"})
    pd.DataFrame(rows).to_csv(folder / "table.csv", index=False)
    archive = tmp_path / "voice.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in folder.iterdir():
            z.write(p, p.name)
    report = list(run_training(ctx, {"path": str(archive)}, "late", epochs=2, hidden=16, name="voice"))[-1].report
    card = json.loads((ctx.settings.data_dir / "heads" / "voice" / "card.json").read_text())
    assert card["modalities"] == {"audio": 32} and report.metrics["n"] >= 2
    assert not list((ctx.settings.data_dir / "uploads").iterdir())  # the unpacked zip is gone


# -- a text+image head on real photos, read by the label bridge (no CLIP here) ---------------
NEUTRAL = ["Here is the photo.", "This is what I saw today.", "Sent from my phone.", "See the picture below.",
           "Another one for the album.", "Just posting this."]
# The label is carried by the photo alone: every sentence above goes with both labels equally often.
PHOTO_LABELS = {"positive": ["cat", "coffee", "flower", "temple", "horse_silhouette", "motorcycle", "rocket",
                             "astronaut"],
                "negative": ["brick_wall", "coins", "galaxies", "grass", "moon", "retina", "text_page", "cameraman"]}


def photo_table(folder: Path) -> Path:
    """48 rows: each gallery photo three times (as is, mirrored, centre-cropped), with a
    neutral sentence that says nothing of the label."""
    from PIL import Image, ImageOps

    folder.mkdir(parents=True)
    rows = []
    for label, names in PHOTO_LABELS.items():
        for j, name in enumerate(names):
            photo = Image.open(REPO / "assets" / "gallery" / f"{name}.jpg").convert("RGB")
            w, h = photo.size
            variants = [photo, ImageOps.mirror(photo), photo.crop((w // 10, h // 10, w - w // 10, h - h // 10))]
            for v, variant in enumerate(variants):
                variant.save(folder / f"{name}-{v}.jpg", quality=90)
                rows.append({"text": NEUTRAL[(j + v) % len(NEUTRAL)], "image": f"{name}-{v}.jpg", "label": label})
    return write_csv(folder / "photos.csv", **pd.DataFrame(rows).to_dict(orient="list"))


@pytest.mark.slow
def test_a_text_and_image_head_trains_and_predicts_on_the_label_bridge(real_manager, tmp_path):
    import shutil

    from model_zoo.fusion import training
    from model_zoo.vision import engine as vision
    from model_zoo.sentiment.service import HeadStore, SentimentService

    assert vision.mode(real_manager) == "labels"  # offline, no CLIP: the label bridge reads the photos
    svc = SentimentService(real_manager, HeadStore(tmp_path / "heads", tmp_path / "no-shipped"))
    data = load_dataset(photo_table(tmp_path / "photos"))
    assert data.modalities == ["text", "image"] and len(data) == 48
    updates = list(svc.train(data, name="photos", fusion="gated", epochs=15, lr=5e-3, hidden=32, batch_size=8))
    report = updates[-1].report
    # 7 test rows; the sentences alone are a coin toss (seeds 0-4 scored 5/7 to 7/7; seed 0: 7/7)
    assert report.metrics["accuracy"] >= 0.7, report.metrics

    card = svc.store.card("photos")
    with vision.open_engine(real_manager) as engine:
        space, dim = engine.name, engine.dim
    assert space.startswith("labels:efficientnet-lite0>") and dim == 768
    assert card["encoders"]["image"] == {"model": "labels", "kind": "labels", "space": space, "dim": dim}
    assert card["modalities"] == {"text": 384, "lexicon": 4, "image": dim}  # MiniLM text, the bridge's images

    # New sentences, the original photos: the image takes part, and carries the decision.
    results = {(label, name): svc.predict("Look at this.", image=str(REPO / "assets" / "gallery" / f"{name}.jpg"),
                                          head="photos")
               for label, names in PHOTO_LABELS.items() for name in names}
    assert all(r.modalities == ["text", "lexicon", "image"] and not r.notes for r in results.values())
    assert sum(r.label == label for (label, _), r in results.items()) >= 14  # seeds 0-4: 14 to 16 of 16
    assert np.mean([r.contributions["image"] for r in results.values()]) > 0.2  # seeds 0-4: 0.45 to 0.95
    text_alone = svc.predict("Look at this.", head="photos")
    assert text_alone.modalities == ["text", "lexicon"] and "image" not in text_alone.contributions

    # A head whose card names another image space never gets label-bridge vectors: its image
    # is left out with a note naming both spaces, and the text still answers.
    photo = str(REPO / "assets" / "gallery" / "cat.jpg")
    others = {"photos-clip": {"model": "clip", "source": "ViT-B-32:laion2b_s34b_b79k", "dim": 512},  # an older card
              "photos-v0": {"model": "labels", "kind": "labels", "dim": dim,
                            "space": space.rsplit(":v", 1)[0] + ":v0-000000000000"}}
    for name, record in others.items():
        shutil.copytree(svc.store.trained_root / "photos", svc.store.trained_root / name)
        training.update_card(svc.store.trained_root / name, encoders={**card["encoders"], "image": record})
        result = svc.predict("Look at this.", image=photo, head=name)
        assert result.modalities == ["text", "lexicon"] and set(result.contributions) == {"text", "lexicon"}
        [note] = [n for n in result.notes if "image was left out" in n]
        assert f"[{record.get('space') or record['source']}]" in note and "the offline label bridge" in note
        assert result.scores == text_alone.scores
    assert "read by CLIP [ViT-B-32:laion2b_s34b_b79k]" in svc.predict("ok", image=photo, head="photos-clip").notes[0]
    assert f"[{space}]" in svc.predict("ok", image=photo, head="photos-v0").notes[0]  # both spaces, by name
