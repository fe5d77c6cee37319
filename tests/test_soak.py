"""A short soak (benchmarks/soak.py): 3 visitors x 10 s on the app as shipped (`python
app.py`, warm start on, private mode, packaged weights, offline: the run's shared shipped
app), all starting at once, uploading photos from one shared pool. Every call must succeed."""
from __future__ import annotations

import json
import re

import pytest

from benchmarks import soak

LAST_LINE = re.compile(r"soak: 3 visitors x 10 s: \d+ ok, \d+ failed; "
                       r"p95 \d+\.\d\d s \((sentiment|caption|search)\); RSS [+-]\d+ MB")


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_three_visitors_for_ten_seconds_all_calls_succeed(shipped_app, tmp_path, capsys):
    out = tmp_path / "soak.json"
    code = soak.main(["--url", shipped_app.url, "--pid", str(shipped_app.pid), "--visitors", "3", "--seconds", "10",
                      "--call-timeout", "60", "--out", str(out)])
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
