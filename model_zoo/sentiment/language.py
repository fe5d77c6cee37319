"""Which language a text is in, as far as the sentiment service needs to know: by script.

The shipped heads read English through English-only sentence encoders; Chinese goes to its
own path (model_zoo.sentiment.chinese). Telling the two apart needs no model: Han
characters are Chinese unless kana say Japanese, and Latin letters are taken for English
(a Latin-script text in another language, Spanish say, is also "en" here: the rule cannot
tell them apart, and the English heads have always answered such text). Anything else
(kana, Hangul, Cyrillic, Arabic, ... or no letters at all) is "other".

    detect_language("今天天气真好")         -> "zh"
    detect_language("What a lovely day")   -> "en"
    detect_language("今日はいい天気です")    -> "other"   (kana: Japanese)
    detect_language("Привет")              -> "other"

Mixed Han and Latin text goes by the larger share, a Han character counting as three Latin
letters (about a short word's worth): a Chinese sentence with a brand name in it is Chinese,
an English sentence with a Chinese name in it is English. Text mostly in another script is
"other"; so is text without letters (digits, emoji, emoticons).
"""
from __future__ import annotations

from dataclasses import dataclass

ENGLISH, CHINESE, OTHER = "en", "zh", "other"
LANGUAGES = (ENGLISH, CHINESE, OTHER)
HAN_WEIGHT = 3  # one Han character carries about as much as a short Latin word (~3 letters' worth)
MIN_SHARE = 0.6  # Han + Latin must hold this share of the (weighted) letters, else "other"


@dataclass(frozen=True)
class ScriptCounts:
    han: int = 0
    kana: int = 0
    hangul: int = 0
    latin: int = 0
    other: int = 0  # letters of any other script (Cyrillic, Greek, Arabic, Thai, ...)

    @property
    def weighted(self) -> dict[str, float]:
        return {"han": self.han * HAN_WEIGHT, "kana": self.kana * HAN_WEIGHT, "hangul": self.hangul * HAN_WEIGHT,
                "latin": float(self.latin), "other": float(self.other)}


def _script(ch: str) -> str | None:
    code = ord(ch)
    if (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x3134F or code == 0x3007):  # unified, ext. A, compatibility, ext. B-G, 〇
        return "han"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return None if code in (0x30FB, 0x30FC) else "kana"  # ・ and ー also appear in Chinese text
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if not ch.isalpha():
        return None
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF or 0xFF21 <= code <= 0xFF5A:  # Latin, extended, full-width
        return "latin"
    return "other"


def script_counts(text: str) -> ScriptCounts:
    counts = {"han": 0, "kana": 0, "hangul": 0, "latin": 0, "other": 0}
    for ch in text or "":
        script = _script(ch)
        if script is not None:
            counts[script] += 1
    return ScriptCounts(**counts)


def detect_language(text: str | None) -> str:
    """"zh", "en" or "other" for a text (see the module's docstring)."""
    counts = script_counts(text or "")
    if counts.kana:  # Japanese writes Han characters too, but never without kana for long
        if counts.kana * 4 >= counts.han or counts.kana >= 3:
            return OTHER
    weighted = counts.weighted
    total = sum(weighted.values())
    if not total:
        return OTHER  # digits, punctuation, emoji only: no language to read
    if (weighted["han"] + weighted["latin"]) / total < MIN_SHARE:
        return OTHER  # mostly another script (Hangul, Cyrillic, ...)
    return CHINESE if weighted["han"] > weighted["latin"] else ENGLISH


def has_letters(text: str | None) -> bool:
    return any(_script(ch) is not None for ch in text or "")


def describe(text: str | None) -> str:
    """The scripts of a text in words, largest first: "Japanese kana and Han characters"."""
    names = {"han": "Han characters", "kana": "Japanese kana", "hangul": "Korean Hangul", "latin": "Latin letters",
             "other": "letters of another script"}
    weighted = script_counts(text or "").weighted
    present = [names[k] for k, v in sorted(weighted.items(), key=lambda kv: -kv[1]) if v > 0]
    return " and ".join(present) if present else "no letters"


def chinese_units(text: str, max_units: int | None = None) -> list[str]:
    """A Chinese text's words (jieba; punctuation kept as its own unit), in order; beyond
    max_units (attributions.MAX_UNITS), runs of consecutive words joined into spans, so that
    occlusion never costs more than max_units + 1 sentences. "".join(units) == text."""
    import math

    import jieba

    from model_zoo.sentiment.attributions import MAX_UNITS

    limit = max_units or MAX_UNITS
    words = [w for w in jieba.lcut(text) if w]
    size = max(1, math.ceil(len(words) / limit))
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]
