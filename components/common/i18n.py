"""The studio in two languages, English (the default) and Simplified Chinese, from one table
per language (components/locales/en.py and zh.py).

- Text fixed when the page is built (labels, buttons, tab names, intros, accordions, example
  captions) is `i18n("key")`: Gradio sends both tables to the page (launch(i18n=I18N)) and the
  browser shows the one for its language (navigator.language: zh-CN and zh-TW read Chinese,
  anything else English).
- Text a handler makes at run time (result summaries, gr.Info, error messages) cannot be
  translated by the page: `t("key", **fields)` renders it on the server, in the language of the
  request being handled (`language_of`: its Accept-Language, the browser's language again).
  Outside a request (tests, scripts, a gradio_client call without the header) it is English.

Keys are "<namespace>.<name>"; no namespace is one of Gradio's own (its frontend looks every
key up in the same place). Messages from model_zoo stay English: they reach a visitor as they
are unless a component says the same thing through a key."""
from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.context import LocalContext

from ..locales import en, zh

DEFAULT = "en"
TABLES: dict[str, dict[str, str]] = {"en": en.STRINGS, "zh": zh.STRINGS}
# The page's locales: "zh" serves zh-CN and zh-TW alike (Gradio's frontend looks up "zh-CN",
# then "zh", then English).
I18N = gr.I18n(en=en.STRINGS, zh=zh.STRINGS)
# The browser languages Gradio's frontend resolves to a Chinese locale (it knows zh-CN and
# zh-TW; any other tag falls back to English there), so the server answers in the language
# the page shows.
CHINESE_TAGS = ("zh-cn", "zh-tw")


def i18n(key: str) -> Any:
    """Static text for a component (label, value, info, placeholder, tab or accordion name),
    shown by the browser in its language. A key missing from the English table fails here,
    when the page is built, not in front of a visitor."""
    if key not in TABLES[DEFAULT]:
        raise KeyError(f"no English text for '{key}' (components/locales/en.py)")
    return I18N(key)


def t(key: str, lang: str | None = None, /, **fields: Any) -> str:
    """The text for `key` in `lang` (default: the language of the request being handled),
    with `fields` filled in ({name} in the table). Falls back to English for a key a
    language lacks (tests/test_i18n.py makes sure none does)."""
    lang = lang or language_of()
    text = TABLES.get(lang, {}).get(key) or TABLES[DEFAULT][key]
    return text.format(**fields) if fields else text


def text_or(key: str, fallback: str, lang: str | None = None, /) -> str:
    """`t(key)` where the table has it, else `fallback` as it is: for values that are data
    with a few well-known names (a head's labels, a hit's found_by), shown translated where
    the table knows them."""
    return t(key, lang) if key in TABLES[DEFAULT] else fallback


def language_of(request: gr.Request | None = None) -> str:
    """"zh" or "en" for a request (default: the one Gradio is handling in this thread), from
    its Accept-Language header: its preferred language, as the browser's page chose it."""
    if request is None:
        request = LocalContext.request.get(None)
    headers = getattr(request, "headers", None)
    header = headers.get("accept-language", "") if headers is not None else ""
    return language_of_header(header)


def language_of_header(header: str) -> str:
    """The studio's language for an Accept-Language value: the tag with the highest q."""
    best, best_q = "", -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > best_q:
            best, best_q = tag.strip().lower(), q
    return "zh" if best in CHINESE_TAGS else DEFAULT
