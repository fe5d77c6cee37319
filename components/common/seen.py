"""How the Captioning and Search tabs show what the classifier is sure of (model_zoo.vision.recognition.seen):
each object with a mark for how sure, its kind, the classes it may be and where it was seen."""
from __future__ import annotations

from typing import Sequence

from .i18n import t

# Plain marks: emoji need a font a kiosk browser may lack. The words after each mark are the tables'.
MARKS = {"sure": "seen.sure", "kind": "seen.kind", "guess": "seen.guess", "unclear": "seen.unclear"}


def seen_mark(certainty: str) -> str:
    """The mark alone (✓ ~ ? –), for a gallery tile's caption."""
    return t(MARKS[certainty], "en").split(" ")[0] if certainty in MARKS else ""


def seen_markdown(objects: Sequence[dict], heading: str | None = None, lang: str | None = None) -> str:
    """A small table: object | how sure | probability | may be | where. "" without objects."""
    if not objects:
        return ""
    rows = []
    for number, seen in enumerate(objects):
        candidates = ", ".join(f"{c['label']} {c['probability']:.0%}" for c in seen.get("candidates", []))
        name = seen["name"] if seen["certainty"] != "unclear" else t("seen.nothing", lang)
        sure = t(MARKS[seen["certainty"]], lang) if seen["certainty"] in MARKS else seen["certainty"]
        rows.append(
            f"| {t('seen.main' if number == 0 else 'seen.also', lang)}: **{name}** | {sure} "
            f"| {seen['probability']:.0%} | {candidates} | {seen.get('where', '')} |"
        )
    return (f"**{heading or t('seen.heading', lang)}**\n\n{t('seen.columns', lang)}\n|---|---|---|---|---|\n"
            + "\n".join(rows))
