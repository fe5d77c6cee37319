"""The studio in both its languages, as a visitor's browser shows it: headless Chromium with its
language set (Playwright's locale sets navigator.language and Accept-Language) on the app as
shipped. An en-US browser gets the English page, a zh-CN one the Chinese page: header, tab
names, intros, labels, buttons, and what the server writes at run time (results, errors).
Every tab opens on its controls: at most WORD_BUDGET words above the first one. The Chinese
page has no English label left but the names in ALLOWED. Screenshots: zh-speech.png,
zh-search.png and zh-sentiment.png (a result written in Chinese).

How words are counted (words_before_first_control): the visible text of the tab's panel, in
document order, up to its first visible control (an input, a textarea, a select, a button:
Gradio's upload areas are buttons). A run of Latin letters or digits is one word. Chinese is
written without spaces: two characters count as one word (a Chinese word is 1.5 to 2
characters on average), so "录一段音或上传音频" (9 characters) is 4.5 words.

Nothing here sleeps: each step waits for what it needs (the tab selected and drawn down to its
How it works, the page-load events' words in the page's language, the bars drawn)."""
from __future__ import annotations

import re

import pytest

from app.blocks import TABS
from components.locales import en, zh
from tests.test_browser import CHROMIUM, FLAGS, SHOTS, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LOCALES = {"en": "en-US", "zh": "zh-CN"}
WORD_BUDGET = 45
# English a Chinese page may show: names of models, libraries, formats and units, identifiers
# a visitor types or picks (a head's or a gallery's name), technical terms Chinese writes in Latin.
ALLOWED = {"Whisper", "NLLB", "SRT", "VTT", "CSV", "CLIP", "Grad-CAM", "ImageNet", "GMU", "MLP", "Transformer",
           "token", "LCM", "turbo", "top-p", "MB", "cpu", "cuda", "mps", "zip", "default", "fast", "sample",
           "scikit-image", "scikit-learn", "JSON", "API", "Gradio"}
# Text that is data, not a label: table cells, code, examples' values, file names, toasts.
DATA = ("code, pre, td, [role=gridcell], .gallery-item, .file-preview, .file-name, [data-testid=dataset] tbody, "
        ".toast-body, svg, style, script")
VISIBLE_TEXT = """(panel, [skip, stopAtControl]) => {
  const CONTROL = 'input:not([type=hidden]), textarea, select, button, [role=button], [role=slider]';
  const visible = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const walker = document.createTreeWalker(panel, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  const text = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (stopAtControl && node.matches(CONTROL) && visible(node)) break;
      continue;
    }
    const parent = node.parentElement;
    if (!parent || !node.textContent.trim() || !visible(parent) || (skip && parent.closest(skip))) continue;
    text.push(node.textContent.trim());
  }
  return text.join(' ');
}"""
# english_left in the browser, for waiting until the page-load events have written a panel's
# server-made text (How it works, tables' headers) in Chinese.
ENGLISH_LEFT = f"""([panel, skip, allowed]) => {{
  let text = ({VISIBLE_TEXT})(panel, [skip, false]);
  text = text.replace(/\\/[a-z_]+/g, ' ').replace(/\\S+\\.(ogg|jpg|png|csv|mp4|wav)\\b/g, ' ');
  const found = text.match(/[A-Za-z][A-Za-z]+(?:[-'][A-Za-z]+)*/g) || [];
  return found.filter((word) => !allowed.includes(word) && word !== word.toUpperCase());
}}"""


def words(text: str) -> float:
    """Latin words (runs of letters and digits) plus Chinese characters / 2."""
    latin = re.findall(r"[A-Za-z0-9]+(?:['’.\-][A-Za-z0-9]+)*", text)
    cjk = re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", text)
    return len(latin) + len(cjk) / 2


def english_left(text: str) -> set[str]:
    """Latin words in `text` that are neither allowed names nor API paths nor file names."""
    text = re.sub(r"/[a-z_]+", " ", text)  # /caption, /generate_image: API paths
    text = re.sub(r"\S+\.(ogg|jpg|png|csv|mp4|wav)\b", " ", text)  # file names
    found = set(re.findall(r"[A-Za-z][A-Za-z]+(?:[-'][A-Za-z]+)*", text))
    return {word for word in found if word not in ALLOWED and not word.isupper()}


@pytest.fixture(scope="module")
def pages(live_app):
    """One page per language (a browser context with that locale), opened on first use."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver (see packages-test.txt)")
    opened = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)

        def page(lang: str):
            if lang not in opened:
                context = browser.new_context(locale=LOCALES[lang], viewport={"width": 1366, "height": 1000})
                opened[lang] = context.new_page()
                opened[lang].goto(live_app, wait_until="load")
                opened[lang].locator("#studio-header").wait_for(timeout=60_000)
            return opened[lang]

        yield page
        browser.close()


def open_tab(page, lang: str, tab) -> object:
    """The tab by its name in `lang`; returns its (visible) panel once it is drawn down to its
    How it works (the last thing in every tab)."""
    table = en.STRINGS if lang == "en" else zh.STRINGS
    button = page.get_by_role("tab", name=table[tab.TITLE_KEY], exact=True).first
    button.click()
    expect(button).to_have_attribute("aria-selected", "true")
    panel = page.get_by_role("tabpanel").filter(visible=True).first
    expect(panel.get_by_text(table["studio.how_it_works"], exact=True).first).to_be_visible(timeout=30_000)
    return panel


def wait_for_chinese(page, panel, timeout: float = 60_000) -> None:
    """Until the panel shows no English but ALLOWED (the page-load events write their part in
    the visitor's language a moment after the page is up); the caller's assert says what is left."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"(args) => ({ENGLISH_LEFT})(args).length === 0",
                               arg=[panel.element_handle(), DATA, sorted(ALLOWED)], timeout=timeout)
    except PlaywrightTimeout:
        pass


def name_of(tab) -> str:
    return tab.__name__.rsplit(".", 1)[-1]


@pytest.mark.parametrize("lang", list(LOCALES))
def test_the_page_speaks_the_browser_s_language(pages, lang):
    page = pages(lang)
    table = en.STRINGS if lang == "en" else zh.STRINGS
    names = [name.strip() for name in page.get_by_role("tab").all_inner_texts()[:len(TABS)]]
    assert names == [table[tab.TITLE_KEY] for tab in TABS]
    header = page.locator("#studio-header").inner_text()
    assert header.startswith("Multimodal Studio" if lang == "en" else "多模态工作室"), header
    assert ("video" in header.lower() or "视频" in header) and ("imagine" in header or "文生图" in header)


@pytest.mark.parametrize("tab", TABS, ids=name_of)
@pytest.mark.parametrize("lang", list(LOCALES))
def test_each_tab_opens_on_its_controls(pages, lang, tab):
    page = pages(lang)
    panel = open_tab(page, lang, tab)
    text = panel.evaluate(VISIBLE_TEXT, ["", True])
    assert words(text) <= WORD_BUDGET, text
    assert panel.get_by_text(en.STRINGS["studio.how_it_works"] if lang == "en" else "工作原理", exact=True).count()
    if lang == "zh" and name_of(tab) in ("speech", "search"):
        wait_for_chinese(page, panel)  # the pictures show the page as a Chinese visitor reads it
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"zh-{name_of(tab)}.png"), full_page=True)


@pytest.mark.parametrize("tab", TABS, ids=name_of)
def test_the_chinese_page_has_no_english_label_left(pages, tab):
    page = pages("zh")
    panel = open_tab(page, "zh", tab)
    inner = panel.get_by_role("tab")  # a tab's own tabs (Search, Captioning): each one's labels too
    left = {}
    for n in range(max(inner.count(), 1)):
        if inner.count():
            inner.nth(n).click()
            expect(inner.nth(n)).to_have_attribute("aria-selected", "true")
        wait_for_chinese(page, panel)
        left.update({word: n for word in english_left(panel.evaluate(VISIBLE_TEXT, [DATA, False]))})
    if inner.count():
        inner.first.click()
    assert left == {}


def test_how_it_works_opens_from_the_notice_in_the_visitor_s_language(pages):
    from components import captioning

    page = pages("zh")
    panel = open_tab(page, "zh", captioning)
    panel.get_by_role("link", name="描述模型能多做什么").click()  # the notice's link opens the accordion
    how = page.locator("#captioning-how")
    expect(how.get_by_text("MMS_MODEL_CAPTIONER").first).to_be_visible(timeout=10_000)
    text = how.inner_text()
    assert len(re.findall(r"[\u3400-\u9fff]", text)) > 200, text  # written in Chinese around the commands


def test_what_the_server_writes_comes_in_the_visitor_s_language(pages):
    from components import search, sentiment

    page = pages("zh")
    panel = open_tab(page, "zh", search)
    panel.get_by_role("button", name="找相似的", exact=True).click()  # nothing picked: the tab's own errors
    # "pick an image first", or before that (the sample gallery not loaded yet) "no such gallery"
    expect(page.locator(".toast-body").filter(has_text=re.compile("请先选一张图|没有名为")).first).to_be_visible(
        timeout=60_000)

    for close in page.locator(".toast-close").all():  # out of the screenshot below
        close.click()
    panel = open_tab(page, "zh", sentiment)
    panel.get_by_label("文本", exact=True).fill("An utterly charming, heartfelt story that stays with you.")
    panel.get_by_role("button", name="分析情感").click()
    expect(panel.get_by_text("主要依据是").first).to_be_visible(timeout=180_000)  # the explanation, in Chinese
    expect(page.locator("#sentiment-intensity").get_by_text(re.compile("正面")).first).to_be_visible(timeout=10_000)
    assert panel.get_by_text("正面").count() >= 1
    expect(panel.locator("g.mark-rect path").first).to_be_visible(timeout=30_000)  # the bars are drawn
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "zh-sentiment.png"), full_page=True)
