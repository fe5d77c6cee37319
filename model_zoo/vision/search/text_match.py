"""Finding gallery images by the words written in them (their OCR text, read at indexing).

A text query names the words it wants in one of three ways, tried in order:
  - quoted:                 `"bakery"` or `the "post office" sign`  -> the quoted words
  - after a verb of saying: `a sign that says bakery`, `reads OPEN`, `with the word exit`
                                                                 -> the words after it
  - plain:                  `bakery`, `bakery sign`              -> every word that is not a
                                                                    stop word or a word for
                                                                    a written thing (sign, text...)
An item's match is the fraction of those words found among the words of its text (exact,
or a near spelling: difflib ratio >= NEAR, for OCR slips such as BAKEHY), in [0, 1]. Chinese,
written without spaces, is matched inside the text: a query of two or more characters
(光临, or 「欢迎光临」, or 写着欢迎光临) finds the sign PP-OCRv5 read as 欢迎光临.

Fusion with the image engine (search.search, text queries): score = similarity + TEXT_BOOST
x match. The engine's cosines lie within [-1, 1] and on the same gallery differ by well
under TEXT_BOOST, so an image whose text holds every wanted word ranks above the images
without it, and among equals the engine's similarity decides. Items with no text (most
photos; galleries indexed before text reading) have match 0 and keep exactly the engine's
score: plain photos are never pushed down, except below images whose text the query names.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Mapping

TEXT_BOOST = 1.0
NEAR = 0.8
_QUOTED = re.compile(r"[\"“”„«»「」『』]([^\"“”„«»「」『』]+)[\"“”„«»「」『』]")
_SAYING = re.compile(
    r"(?:\b(?:says?|saying|reads?|reading|written|writes?|labell?ed|titled|that\s+reads|with\s+the\s+words?|"
    r"the\s+words?)\b|写着|写有|写的是|印着|标着)\s*[:：]?\s*(.+)$",
    re.IGNORECASE,
)
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN = re.compile(f"[{_HAN_RANGES}]+")
# words: runs of Chinese characters, or of other letters and digits (Latin, Cyrillic, ...)
_HAN_NOISE = re.compile("招牌|牌子|标牌|标志|标语|字样|文字|图片|照片|一张|^有")  # sign, words, photo, "a", "has ..."
_WORD = re.compile(f"[{_HAN_RANGES}]+|[^\\W_{_HAN_RANGES}]+")
STOP_WORDS = frozenset("""a an the of on in at to for from with and or but is are was were be it its this that these
those there here photo photos picture pictures image images shot of some any my your our their his her by as into
onto over under near show shows showing find me""".split())
WRITTEN_THINGS = frozenset("""sign signs signboard text word words writing written letters lettering label labels
poster posters banner board shop store storefront front says say saying reads read reading""".split())


def normalise(text: str) -> list[str]:
    """Lower-case words, accents folded: 'Café OPEN!' -> ['cafe', 'open']. A run of Chinese
    characters is one word (Chinese writes no spaces): '营业中 OPEN' -> ['营业中', 'open']."""
    decomposed = unicodedata.normalize("NFKD", text or "")  # also full-width ＯＰＥＮ -> OPEN
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _WORD.findall(folded)


def _is_han(word: str) -> bool:
    return bool(_HAN.fullmatch(word))


def wanted_words(query: str) -> list[str]:
    """The words a query wants to see written in an image ([] when it names none)."""
    quoted = _QUOTED.findall(query or "")
    if quoted:
        return normalise(" ".join(quoted))
    saying = _SAYING.search(query or "")
    if saying:
        words = [w for w in _split_han(normalise(saying.group(1))) if w not in STOP_WORDS]
        if words:
            return words
    return [w for w in _split_han(normalise(query)) if w not in STOP_WORDS and w not in WRITTEN_THINGS]


def _split_han(words: list[str]) -> list[str]:
    """Chinese runs without the words for a written thing or a photo, split at 的:
    写着欢迎光临的招牌 -> 欢迎光临 (the sign that says ...)."""
    out = []
    for word in words:
        if _is_han(word):
            out += [part for part in _HAN_NOISE.sub("的", word).split("的") if part]
        else:
            out.append(word)
    return out


def match(wanted: list[str], text: str | None) -> float:
    """Fraction of `wanted` found among the words of `text` (0.0 when either is empty)."""
    if not wanted or not text:
        return 0.0
    words = set(normalise(text))
    if not words:
        return 0.0
    joined = "".join(normalise(text))
    found = 0
    for word in wanted:
        if word in words or (len(word) >= 4 and word in joined):  # 'post office' read as 'POSTOFFICE'
            found += 1
        elif _is_han(word) and len(word) >= 2 and word in joined:  # 光临 in 欢迎光临: no spaces to split on
            found += 1
        elif len(word) >= 4 and any(difflib.SequenceMatcher(None, word, w).ratio() >= NEAR for w in words):
            found += 1
    return found / len(wanted)


def matches(query: str, texts: Mapping[int, str | None]) -> dict[int, float]:
    """{item id: match} for the items whose text holds some of the query's wanted words."""
    wanted = wanted_words(query)
    if not wanted:
        return {}
    found = {item_id: match(wanted, text) for item_id, text in texts.items() if text}
    return {item_id: value for item_id, value in found.items() if value > 0}


def fuse(similarity: float, text_match: float) -> float:
    return float(similarity) + TEXT_BOOST * float(text_match)
