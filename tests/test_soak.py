"""A short soak (benchmarks/serving/soak.py): 3 visitors x 10 s on the app as shipped (`python
app.py`, warm start on, private mode, packaged weights, offline: the run's shared shipped
app), all starting at once, every input unique (--unique: fresh crops of a shared pool of
photos, numbered sentences). Every call must succeed."""
from __future__ import annotations

import json
import re

import pytest

from benchmarks.serving import soak

LAST_LINE = re.compile(r"soak: 3 visitors x 10 s \(unique inputs\): \d+ ok, \d+ failed; "
                       r"p95 \d+\.\d\d s \((sentiment|caption|search)\); RSS [+-]\d+ MB")


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_three_visitors_for_ten_seconds_all_calls_succeed(shipped_app, tmp_path, capsys):
    out = tmp_path / "soak.json"
    code = soak.main(["--url", shipped_app.url, "--pid", str(shipped_app.pid), "--visitors", "3", "--seconds", "10",
                      "--call-timeout", "60", "--unique", "--out", str(out)])
    printed = capsys.readouterr().out
    last = printed.strip().splitlines()[-1]
    assert code == 0, printed
    assert LAST_LINE.fullmatch(last), last
    figures = json.loads(out.read_text())
    assert figures["summary"] == last
    errors = {name: e["errors"] for name, e in figures["endpoints"].items() if e["failed"]}
    assert figures["failed"] == 0, f"failed calls: {errors}\n{printed}"
    never_ok = [name for name, e in figures["endpoints"].items() if e["ok"] == 0]
    assert not never_ok, f"no successful call to {never_ok}\n{printed}"


def test_unique_inputs_never_repeat(tmp_path):
    """--unique: every sentence, query and photo differs from every other (bytes and pixels),
    so no cache in the app can answer a call; the same seed gives the same inputs."""
    import hashlib
    import random

    from PIL import Image

    source = soak.REPO / "assets" / "gallery" / "cat.jpg"

    def draw(folder):
        inputs, rng = soak.UniqueInputs(folder), random.Random(7)
        texts = [inputs.sentence(rng) for _ in range(20)] + [inputs.query(rng) for _ in range(20)]
        photos = [inputs.photo(rng, source) for _ in range(6)]
        return texts, photos

    texts, photos = draw(tmp_path / "a")
    assert len(set(texts)) == len(texts)
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in photos}
    sizes = {Image.open(p).size for p in photos}
    assert len(digests) == len(photos) and len(sizes) > 1
    again, photos_again = draw(tmp_path / "b")
    assert again == texts and [p.read_bytes() for p in photos_again] == [p.read_bytes() for p in photos]
