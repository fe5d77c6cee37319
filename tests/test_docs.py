"""The documents a maintainer reads: the README stays a front door, every link in it and in
docs/ leads somewhere, and the code points at the design document the repo has."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")  # [text](target#anchor)
SOURCES = ("app", "components", "model_zoo", "scripts", "benchmarks", "tests", "app.py")


def broken_links(page: Path) -> list[str]:
    """Relative link targets in `page` that are not files or folders of the repo."""
    targets = [m.group(1) for m in LINK.finditer(page.read_text())]
    return [t for t in targets if "://" not in t and not t.startswith("mailto:")
            and not (page.parent / t).exists()]


def stale_design_pointers(root: Path) -> list[str]:
    """Source lines naming a design document other than docs/design.md."""
    found = []
    for name in SOURCES:
        path = root / name
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            if file.name == "test_docs.py":  # this file names the old pointer on purpose
                continue
            for number, line in enumerate(file.read_text().splitlines(), 1):
                if re.search(r"(?<!docs/)\bDESIGN\.md\b", line, re.I) and "docs/design.md" not in line:
                    found.append(f"{file.relative_to(root)}:{number}")
    return found


def test_the_readme_is_a_front_door():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert readme.startswith("---\n") and "app_file: app.py" in readme  # the Space card's front matter
    for page in ("docs/design.md", "docs/testing.md"):
        assert f"({page}" in readme, page


def test_every_link_in_the_readme_and_docs_leads_somewhere():
    assert DOCS, "docs/ has no pages"
    broken = {page.name: links for page in [REPO / "README.md", *DOCS] if (links := broken_links(page))}
    assert not broken, broken


def test_the_code_points_at_the_design_the_repo_has(tmp_path):
    assert (REPO / "docs" / "design.md").is_file()
    assert not stale_design_pointers(REPO)
    (tmp_path / "app").mkdir()  # the checker itself sees a stale pointer and passes a good one
    (tmp_path / "app" / "old.py").write_text('"""See DESIGN.md."""\n')
    (tmp_path / "app" / "new.py").write_text('"""See docs/design.md."""\n')
    assert stale_design_pointers(tmp_path) == ["app/old.py:1"]
