"""The two languages (components/locales, components/common/i18n.py): both tables hold the same
keys with the same fields, every key the code names is in them (and no key sits unused), no
Chinese text is left in English by mistake, each notice's link leads to an accordion the page
has, and a handler answers in the language of the request it is handling. The page itself, in
both languages, is tests/test_i18n_browser.py's."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from string import Formatter
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio.context import LocalContext

from components.common import i18n as studio_i18n
from components.common.i18n import TABLES, i18n, language_of, language_of_header, t
from components.locales import en, zh

REPO = Path(__file__).resolve().parent.parent
CODE = ("app", "components")
# Gradio's frontend keeps its own strings under these namespaces and looks our keys up in the
# same place: a key of ours under one of them could shadow one of Gradio's (or be shadowed).
# The list is the top level of gradio/templates/frontend/assets/en-*.js (Gradio 6.31).
GRADIO_NAMESPACES = {"_name", "annotated_image", "audio", "blocks", "chat_interface", "chatbot", "checkbox", "code",
                     "color_picker", "common", "dataframe", "dropdown", "errors", "file", "highlighted_text", "image",
                     "image_editor", "label", "login", "number", "plot", "radio", "slider", "status", "upload_text",
                     "video"}
# Fields a language may leave out: English needs an article ("a"/"an"), Chinese has none.
OPTIONAL_FIELDS = {"article"}
# Texts that read the same in both languages: names, units, symbols.
SAME_IN_BOTH = {"system.col.mb", "captioning.ranked.clip", "captioning.engine.clip", "training.auc"}
# Strings that look like keys and are not: a name under which tabs share a component (context.py),
# the loggers of the MCP server and of who is asking (app/mcp_server.py, components/visitor.py).
NOT_KEYS = {"captioning.image", "studio.mcp", "studio.visitor"}
# Keys the code builds from a prefix (an f-string) and a value it gets at run time.
NAMESPACES = sorted({key.split(".", 1)[0] for key in en.STRINGS})
KEY = re.compile(rf"^({'|'.join(NAMESPACES)})\.[a-z0-9_]+(\.[a-z0-9_]+)*$")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def named_in_code(root: Path = REPO) -> tuple[set[str], set[str]]:
    """(keys written out in app/ and components/, prefixes of the keys built by an f-string)."""
    keys, prefixes = set(), set()
    for folder in CODE:
        for path in sorted((root / folder).rglob("*.py")):
            if "locales" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.match(node.value):
                    keys.add(node.value)
                elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                    head = str(node.values[0].value)
                    if head.split(".", 1)[0] in NAMESPACES and head.endswith("."):
                        prefixes.add(head)
    return keys, prefixes


def test_both_languages_hold_the_same_keys_with_the_same_fields():
    assert set(en.STRINGS) == set(zh.STRINGS), set(en.STRINGS) ^ set(zh.STRINGS)
    for key, english in en.STRINGS.items():
        chinese = zh.STRINGS[key]
        assert english.strip() and chinese.strip(), key
        assert fields(chinese) <= fields(english), key  # nothing Chinese the code does not fill in
        assert fields(english) - fields(chinese) <= OPTIONAL_FIELDS, key


def test_no_chinese_text_is_left_in_english():
    cjk = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")  # characters and punctuation
    untranslated = [key for key, text in zh.STRINGS.items()
                    if key not in SAME_IN_BOTH and (text == en.STRINGS[key] or not cjk.search(text))]
    assert untranslated == []


def test_chinese_bold_text_renders_bold():
    """Markdown closes `**` after punctuation only before a space or more punctuation, and
    Chinese puts no space there: "**语言：**德语" shows its asterisks. The punctuation goes after."""
    punctuation = "，。、：；！？）」』”’》"
    broken = [key for key, text in zh.STRINGS.items() for n, run in enumerate(text.split("**"))
              if n % 2 and run and (run[0] in punctuation or run[-1] in punctuation)]
    assert broken == []


def test_every_key_the_code_names_is_in_the_tables_and_every_key_is_used():
    keys, prefixes = named_in_code()
    assert keys - set(en.STRINGS) - NOT_KEYS == set()  # a key used in code but in neither table
    unused = {key for key in en.STRINGS if key not in keys and not key.startswith(tuple(prefixes))}
    assert unused == set()


def test_the_scan_sees_a_missing_key(tmp_path):
    (tmp_path / "components").mkdir()
    (tmp_path / "app").mkdir()
    (tmp_path / "components" / "tab.py").write_text(
        'LABEL = i18n("speech.no_such_key")\nX = t("studio.how_it_works")\nY = t(f"seen.{mark}")\n')
    keys, prefixes = named_in_code(tmp_path)
    assert keys == {"speech.no_such_key", "studio.how_it_works"}
    assert keys - set(en.STRINGS) == {"speech.no_such_key"}
    assert prefixes == {"seen."}  # a key built from a prefix and a value


def test_no_key_shares_a_namespace_with_gradio_s_own_strings():
    assert set(NAMESPACES) & GRADIO_NAMESPACES == set()


def test_every_whisper_language_has_a_name_in_both_languages():
    from model_zoo.speech.service import LANGUAGES

    for table in TABLES.values():
        assert {f"lang.{code}" for code in LANGUAGES} <= set(table)


def test_each_tab_names_its_english_title_and_its_key():
    from app.blocks import TABS

    for tab in TABS:
        assert t(tab.TITLE_KEY, "en") == tab.TITLE, tab.__name__  # tests pick tabs by the English title
        assert t(tab.TITLE_KEY, "zh") != tab.TITLE


def test_each_notice_links_to_an_accordion_the_page_has(tmp_path):
    from app.blocks import build_demo
    from app.settings import load_settings

    links = {(key, m) for key, text in en.STRINGS.items() for m in re.findall(r"\(#([\w-]+)\)", text)}
    assert all(f"(#{anchor})" in zh.STRINGS[key] for key, anchor in links)
    studio = build_demo(load_settings(["--data-dir", str(tmp_path), "--offline"], environ={}))
    try:
        accordions = {block.elem_id for block in studio.demo.blocks.values() if isinstance(block, gr.Accordion)}
    finally:
        studio.close()
    assert {anchor for _, anchor in links} <= accordions


def test_the_browser_language_picks_the_studio_language():
    assert language_of_header("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert language_of_header("zh-TW") == "zh"
    assert language_of_header("en-US,en;q=0.9") == "en"
    assert language_of_header("en;q=0.5, zh-CN;q=0.9") == "zh"  # the highest q wins
    assert language_of_header("") == "en" and language_of_header("fr-FR,fr") == "en"
    assert language_of_header("zh") == "en"  # Gradio's page shows English for a bare "zh": so do we
    assert language_of(None) == "en"  # outside a request: tests, scripts


def test_t_fills_fields_and_i18n_refuses_an_unknown_key():
    assert t("error.provide", "en", article="an", what="image") == "Please provide an image."
    assert t("error.provide", "zh", article="an", what="图片") == "请提供图片。"
    assert t("studio.how_it_works", "zh") == "工作原理" and t("studio.how_it_works") == "How it works"
    with pytest.raises(KeyError):
        i18n("speech.no_such_key")


@pytest.fixture
def chinese_request():
    """The request Gradio is handling says the browser reads Chinese (as LocalContext holds it)."""
    token = LocalContext.request.set(SimpleNamespace(headers={"accept-language": "zh-CN,zh;q=0.9"}))
    yield
    LocalContext.request.reset(token)


def test_handlers_answer_in_the_request_s_language(chinese_request, tmp_path):
    from components.common import file_path
    from components.common.seen import seen_markdown
    from model_zoo.core.errors import InputError

    assert language_of() == "zh"
    with pytest.raises(InputError, match="请提供文件"):
        file_path(None)
    with pytest.raises(InputError, match="服务器上找不到该文件（gone.jpg）"):
        file_path(str(tmp_path / "gone.jpg"))
    seen = seen_markdown([{"name": "lizard", "certainty": "kind", "probability": 0.6, "candidates": []}])
    assert "分类器有把握的内容" in seen and "~ 确定大类" in seen
    assert studio_i18n.t("studio.how_it_works") == "工作原理"


def test_generic_errors_reach_the_visitor_in_their_language(chinese_request):
    from components.common import user_facing

    @user_facing
    def broken():
        raise RuntimeError("boom")

    with pytest.raises(gr.Error, match=r"服务器出了点问题（错误代码 [0-9a-f]+，") as raised:
        broken()
    assert "boom" not in str(raised.value) and "RuntimeError" not in str(raised.value)  # the log has those


def test_the_operator_and_the_declined_sentiment_speak_chinese_too(chinese_request, tmp_path):
    """What main's operator controls and Chinese sentiment say, in the request's language."""
    from types import SimpleNamespace as Visit

    from components import sentiment, system
    from model_zoo.sentiment.results import SentimentResult

    stranger = Visit(username=None, headers={"accept-language": "zh-CN"}, client=Visit(host="203.0.113.9"))
    ctx = SimpleNamespace(settings=SimpleNamespace(operator_names=frozenset(), auth_pairs=(), oauth=False))
    with pytest.raises(gr.Error, match="只有本服务器的管理员才能卸载模型"):
        system.unload_model(ctx, "minilm", stranger)
    declined = SentimentResult(label="negative", scores={"negative": 0.55, "positive": 0.45}, modalities=["text"],
                               contributions={"text": 1.0}, head="zh-sentiment", language="zh", declined=True)
    assert sentiment.explanation(declined).startswith("**无法判断这段文字的情感**。识别为中文")
    assert "中文模型不给出强度" in sentiment.intensity_bar(declined)
    english = sentiment.explanation(declined, "en")
    assert english.startswith("**Cannot judge this text's sentiment.** Read as Chinese; the model only leans "
                              "*negative*")


def test_the_mcp_footer_names_the_path_agents_connect_to():
    from app import mcp_server

    for table in TABLES.values():  # a page's text takes no fields: the path is written out, and must stay right
        assert f"`{mcp_server.PATH}sse`" in table["studio.footer_mcp"]
        assert f"{mcp_server.PATH}`" in table["studio.footer_mcp"]
