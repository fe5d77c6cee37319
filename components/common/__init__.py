"""Shared by the tabs: turning errors into messages, reading uploaded files. Its modules
`galleries` and `heads` hold the gallery and head helpers several tabs use."""
from __future__ import annotations

import errno
import functools
import inspect
import logging
from pathlib import Path
from typing import Any, Callable, TypeVar

import gradio as gr

from model_zoo.core import imports
from model_zoo.core.errors import InputError, StudioError

log = logging.getLogger("studio")
F = TypeVar("F", bound=Callable[..., Any])


DISK_FULL = ("The server's disk is full, so nothing was saved (what was saved before is intact). "
             "Remove images or heads you no longer need, or ask the operator to free space.")


def _translate(exc: BaseException, name: str) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, StudioError):
        return gr.Error(str(exc))
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        log.error("handler %s: disk full (%s)", name, exc)
        return gr.Error(DISK_FULL)
    log.exception("handler %s failed", name)
    return gr.Error(f"Something went wrong on the server ({type(exc).__name__}: {exc}). The details are in the server log.")


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
    the hints nor the docstring that gr.api reads)."""
    signature = inspect.signature(fn)
    _, *rest = signature.parameters.values()
    return reshaped(fn, functools.partial(fn, ctx), signature.replace(parameters=rest))


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


def file_path(value: Any, what: str = "file", required: bool = True) -> str | None:
    """A local path from whatever Gradio hands over: a FileData dict, an object with
    .path, or a plain string. None/empty -> InputError if required."""
    if isinstance(value, dict):
        value = value.get("path") or value.get("name")
    elif value is not None and not isinstance(value, (str, Path)):
        value = getattr(value, "path", None) or getattr(value, "name", None)
    if not value:
        if required:
            article = "an" if what[:1].lower() in "aeiou" else "a"
            raise InputError(f"Please provide {article} {what}.")
        return None
    path = Path(str(value))
    if not path.is_file():
        raise InputError(f"The {what} could not be found on the server ({path.name}); please upload it again.")
    return str(path)
