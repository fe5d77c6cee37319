"""Write the label bridge's class vectors for the default recipe into assets/vision, so a
fresh install's first image search does not embed 1,000 prompts with MPNet (tens of
seconds on a CPU): `HF_HUB_OFFLINE=1 python -m scripts.vision.ship_class_vectors`. Rerun it when
the class names, the templates or the text encoder change (the file name is their hash;
tests/vision/test_vision.py recomputes rows of the shipped file and compares)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from model_zoo.vision import engine as vision
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.core.manager import Memo


def main() -> int:
    manager = ModelManager(ManagerConfig(device="cpu", offline=True))
    with tempfile.TemporaryDirectory() as empty, manager.use(vision.CLASSIFIER_KEY) as classifier, \
            manager.use(vision.BRIDGE_TEXT_KEY) as encoder:
        source = manager.spec(vision.BRIDGE_TEXT_KEY).source
        # computed afresh (a new memo, empty folders): nothing shipped or cached is reused
        vectors = vision.class_vectors(encoder, source, classifier.labels, vision.RECIPE.templates,
                                       Path(empty), Memo(), shipped_dir=Path(empty))
        target = vision.SHIPPED_VECTORS / vision.class_vectors_file(source, classifier.labels, vision.RECIPE.templates)
        vision.write_npy(target, vectors)
    for stale in vision.SHIPPED_VECTORS.glob("classes-*.npy"):
        if stale != target:
            stale.unlink()
    print(f"wrote {target} ({vectors.shape[0]} x {vectors.shape[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
