"""Shared by the tabs: turning errors into messages (never a traceback, an exception's class
name or a server path: the log keeps the detail under an error code the message quotes),
reading uploaded files. Its modules `galleries` and `heads` hold the gallery and head helpers
several tabs use, `i18n` the two languages every message comes in, `layout` the shape every
tab shares."""
from __future__ import annotations

import errno
import functools
import inspect
import logging
import re
import secrets
from pathlib import Path
from typing import Any, Callable, TypeVar

import gradio as gr

from model_zoo.core import imports, uploads
from model_zoo.core.errors import InputError, StudioError

from .i18n import t, text_or

log = logging.getLogger("studio")
F = TypeVar("F", bound=Callable[..., Any])


DISK_FULL = t("error.disk_full", "en")  # in the visitor's language when it happens (_translate)

# An absolute path of two parts or more (not part of a URL, a word or a relative path):
# what a visitor's message never shows. Its last part (the file's own name) stays.
_SERVER_PATH = re.compile(r"(?<![\w.:/~-])~?/(?:[^\s/'\"`<>|()\[\]{},;]+/)+([^\s/'\"`<>|()\[\]{},;]*)")


def for_visitors(message: str) -> str:
    """`message` without server paths (each becomes '…/' and its last part: '…/cat.jpg', not
    where the server keeps it)."""
    return _SERVER_PATH.sub(lambda found: f"…/{found.group(1)}" if found.group(1) else t("error.server_folder"),
                            message)


def error_code() -> str:
    """A short id that a visitor's message quotes and the log line carries."""
    return secrets.token_hex(3)


def _translate(exc: BaseException, name: str) -> gr.Error:
    """The gr.Error a visitor sees for `exc`: a StudioError's own message (server paths
    left out), else a plain sentence quoting an error code; the log keeps the detail (the
    exception and its traceback) under that code. Never a traceback, an exception's class
    name or a server path."""
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, StudioError):
        return gr.Error(for_visitors(str(exc)))
    code = error_code()
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        log.error("handler %s: disk full (error %s): %s", name, code, exc)
        return gr.Error(t("error.disk_full_code", message=t("error.disk_full"), code=code))
    log.error("handler %s failed (error %s)", name, code, exc_info=(type(exc), exc, exc.__traceback__))
    return gr.Error(t("error.unexpected", code=code))


def guarded(fn: Callable, name: str) -> Callable:
    """`fn` (a generator function too) whose every error reaches the visitor as
    _translate makes it. components.common.bind guards every event and endpoint this way, so
    a handler without user_facing cannot show a visitor raw exception text either."""
    if inspect.isgeneratorfunction(fn):
        def run_steps(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _translate(exc, name) from None

        return run_steps

    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _translate(exc, name) from None

    return run


def user_facing(fn: F) -> F:
    """Every error a handler raises reaches the user as a gr.Error with a readable
    message (never a traceback); unexpected ones are logged with their traceback.
    Keeps the signature and type hints, which gr.api reads. The first requests wait until
    the shared heavy libraries are imported (model_zoo.core.imports: one thread at a time)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                imports.ensure_primed()
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _translate(exc, fn.__name__) from None

        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            imports.ensure_primed()
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _translate(exc, fn.__name__) from None

    return wrapper  # type: ignore[return-value]


def reshaped(fn: Callable, call: Callable[..., Any], signature: inspect.Signature) -> Callable:
    """A function running `call(*args, **kwargs)` that looks like `fn` with `signature`: its
    name, docstring, a generator if `fn` is one, and type hints matching the signature (those
    of `fn`'s module still resolve). Gradio reads all of these: gr.api builds an endpoint from
    the signature and hints, a gr.Request parameter is found by its hint, a generator streams."""
    if inspect.isgeneratorfunction(fn):
        def wrapper(*args, **kwargs):
            yield from call(*args, **kwargs)
    else:
        def wrapper(*args, **kwargs):
            return call(*args, **kwargs)
    functools.update_wrapper(wrapper, fn)
    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    hints = {name: p.annotation for name, p in signature.parameters.items() if p.annotation is not p.empty}
    if signature.return_annotation is not signature.empty:
        hints["return"] = signature.return_annotation
    wrapper.__annotations__ = hints  # a new dict: update_wrapper shared fn's
    return wrapper


def bind(ctx: Any, fn: F) -> Callable[..., Any]:
    """`fn(ctx, ...)` with `ctx` given, as an event or gr.api wants it: the rest of the
    signature, the type hints and the docstring stay `fn`'s (functools.partial keeps neither
    the hints nor the docstring that gr.api reads). Guarded: whatever `fn` raises reaches a
    visitor as a gr.Error without raw exception text (see _translate)."""
    signature = inspect.signature(fn)
    _, *rest = signature.parameters.values()
    return reshaped(fn, functools.partial(guarded(fn, fn.__name__), ctx), signature.replace(parameters=rest))


def mcp_tool(fn: F) -> F:
    """Mark an endpoint function as an MCP tool: `gr.api(mcp_tool(bind(ctx, fn)), api_name=...)`
    serves it to agents too, as the tool named like the endpoint (app/mcp_server.py lists only
    marked endpoints). Its docstring is the tool's description (say when to use it) and its "Args:"
    lines, one line per parameter, describe the parameters (allowed values, units, defaults)."""
    return gr.mcp.tool()(fn)


def file_data(path: str | Path) -> dict:
    """A file handed back inside a JSON result: gradio_client downloads it, an MCP client gets its
    URL (and image content for an image). Never put at the result's top level: a dict with a
    `path` key reaches gradio_client as a file, not as the dict."""
    from gradio import FileData

    return FileData(path=str(path), orig_name=Path(path).name).model_dump()


def file_path(value: Any, what: str = "upload.file", required: bool = True) -> str | None:
    """A local path from whatever Gradio hands over: a FileData dict, an object with
    .path, or a plain string. None/empty -> InputError if required, naming `what` (a
    "upload.*" key of the tables, or a plain English noun) in the visitor's language."""
    if isinstance(value, dict):
        value = value.get("path") or value.get("name")
    elif value is not None and not isinstance(value, (str, Path)):
        value = getattr(value, "path", None) or getattr(value, "name", None)
    if not value:
        if required:
            noun = text_or(what, what)
            article = "an" if noun[:1].lower() in "aeiou" else "a"  # English only; the Chinese text has none
            raise InputError(t("error.provide", article=article, what=noun))
        return None
    path = Path(str(value))
    if not path.is_file():
        raise InputError(t("error.file_gone", what=text_or(what, what), name=path.name))
    return str(path)


def upload_path(ctx: Any, value: Any, what: str = "upload.file", required: bool = True) -> str | None:
    """file_path, then the rules every upload path shares (model_zoo.core.uploads, with the
    context's limits from the settings; the defaults for a bare context): the file is there, not
    empty, within the size limit. `what` as file_path takes it; model_zoo's refusals name it in
    English, as every message from model_zoo is."""
    path = file_path(value, what, required)
    if path is not None:
        limits = getattr(ctx, "upload_limits", None) or uploads.UploadLimits()
        uploads.check_file(path, limits, text_or(what, what, "en"))
    return path
