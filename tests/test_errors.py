"""What a visitor reads when something fails: never a traceback, an exception's class name or a
server path. An unexpected error becomes a plain sentence quoting an error code, and the log
keeps the detail (the exception, its traceback) under the same code; a StudioError keeps its
own message, without the server paths it may name."""
from __future__ import annotations

import logging
import re

import gradio as gr
import pytest

from components.common import bind, user_facing
from model_zoo.core.errors import InputError, WeightsUnavailable

CLASS_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception|Warning)\b")


def leaks(message: str) -> list[str]:
    """What a visitor's message must not carry."""
    found = []
    if "Traceback" in message:
        found.append("a traceback")
    if CLASS_NAME.search(message):
        found.append(f"a class name ({CLASS_NAME.search(message).group(0)})")
    if re.search(r"(?<![\w.:/])/(srv|tmp|home|data|usr|etc|root|work)/", message):
        found.append("a server path")
    return found


def code_of(message: str) -> str:
    found = re.search(r"\(error ([0-9a-f]{4,})\b", message)
    assert found, message
    return found.group(1)


def test_an_unexpected_error_quotes_a_code_that_the_log_keeps_with_the_detail(caplog):
    @user_facing
    def handler(path: str) -> str:
        raise RuntimeError(f"index corrupt at {path}/owners/a-1234/galleries/mine/index-000001.faiss")

    with caplog.at_level(logging.ERROR, logger="studio"), pytest.raises(gr.Error) as info:
        handler("/srv/data/multimodal-studio")
    message = info.value.message
    assert leaks(message) == [] and "operator's log" in message, message
    code = code_of(message)
    logged = [r for r in caplog.records if code in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log, under the same code
    assert "index corrupt at /srv/data" in str(logged[0].exc_info[1])


def test_every_bound_event_is_guarded_even_without_user_facing(caplog):
    """Gradio shows a visitor str(exc) of anything a handler raises (show_error): a light event
    without user_facing (a dropdown's change, a page load) must not pass raw text either."""
    def on_change(ctx, name: str) -> str:
        return {"known": "x"}[name]  # KeyError

    def steps(ctx, n: int):
        yield 1
        raise ValueError(f"cannot reshape array of size {n} from /tmp/mms-index-x/zip0/00001.jpg")

    with caplog.at_level(logging.ERROR, logger="studio"):
        with pytest.raises(gr.Error) as info:
            bind(object(), on_change)("unknown")
        assert leaks(info.value.message) == [] and code_of(info.value.message)
        with pytest.raises(gr.Error) as info:
            list(bind(object(), steps)(3))
        assert leaks(info.value.message) == [] and code_of(info.value.message)


def test_a_studio_error_keeps_its_message_without_server_paths():
    @user_facing
    def handler() -> None:
        raise WeightsUnavailable("clip", "the checkpoint /home/op/.cache/multimodal-studio/cache/clip/model.bin "
                                 "does not exist.", "point MMS_MODEL_CLIP (or `--models clip=PATH`) at a local copy.")

    with pytest.raises(gr.Error) as info:
        handler()
    message = info.value.message
    assert leaks(message) == [] and "the checkpoint …/model.bin does not exist" in message
    assert "MMS_MODEL_CLIP" in message and "--models clip=PATH" in message  # the advice stays whole
    with pytest.raises(gr.Error, match="'notes.png' is not an image"):
        user_facing(lambda: (_ for _ in ()).throw(InputError("'notes.png' is not an image")))()


@pytest.mark.parametrize("text, shown", [
    ("cannot identify image file '/tmp/gradio/0a1b/cat.jpg'", "cannot identify image file '…/cat.jpg'"),
    ("[Errno 2] No such file or directory: '/work/x/y.csv'", "[Errno 2] No such file or directory: '…/y.csv'"),
    ("see https://huggingface.co/Salesforce/blip", "see https://huggingface.co/Salesforce/blip"),
    ("2/3 of the rows, and/or images/cat.jpg in the zip", "2/3 of the rows, and/or images/cat.jpg in the zip"),
    ("kept in (/data/multimodal-studio/owners/)", "kept in (a folder on the server)"),
])
def test_server_paths_are_left_out_and_nothing_else_changes(text, shown):
    from components.common import for_visitors

    assert for_visitors(text) == shown
