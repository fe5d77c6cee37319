"""How the Captioning and Search tabs show what the classifier is sure of (model_zoo.vision.recognition.seen):
each object with a mark for how sure, its kind, the classes it may be and where it was seen."""
from __future__ import annotations

from typing import Sequence

# Plain marks: emoji need a font a kiosk browser may lack.
MARKS = {"sure": "✓ sure", "kind": "~ sure of the kind", "guess": "? a guess", "unclear": "– unclear"}


def seen_mark(certainty: str) -> str:
    """The mark alone (✓ ~ ? –), for a gallery tile's caption."""
    return MARKS.get(certainty, "").split(" ")[0]


def seen_markdown(objects: Sequence[dict], heading: str = "What the classifier is sure of") -> str:
    """A small table: object | how sure | probability | may be | where. "" without objects."""
    if not objects:
        return ""
    rows = []
    for number, seen in enumerate(objects):
        candidates = ", ".join(f"{c['label']} {c['probability']:.0%}" for c in seen.get("candidates", []))
        name = seen["name"] if seen["certainty"] != "unclear" else "nothing namable"
        rows.append(
            f"| {'main' if number == 0 else 'also'}: **{name}** | {MARKS.get(seen['certainty'], seen['certainty'])} "
            f"| {seen['probability']:.0%} | {candidates} | {seen.get('where', '')} |"
        )
    return (f"**{heading}**\n\n| object | how sure | probability | may be | where |\n|---|---|---|---|---|\n"
            + "\n".join(rows))
