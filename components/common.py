"""Shared by the tabs: turning errors into messages, reading uploaded files."""
from __future__ import annotations

import functools
import inspect
import logging
from pathlib import Path
from typing import Any, Callable, TypeVar

import gradio as gr

from model_zoo.core.errors import InputError, StudioError

log = logging.getLogger("studio")
F = TypeVar("F", bound=Callable[..., Any])


def _translate(exc: BaseException, name: str) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, StudioError):
        return gr.Error(str(exc))
    log.exception("handler %s failed", name)
    return gr.Error(f"Something went wrong on the server ({type(exc).__name__}: {exc}). The details are in the server log.")


def user_facing(fn: F) -> F:
    """Every error a handler raises reaches the user as a gr.Error with a readable
    message (never a traceback); unexpected ones are logged with their traceback.
    Keeps the signature and type hints, which gr.api reads."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _translate(exc, fn.__name__) from None

        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _translate(exc, fn.__name__) from None

    return wrapper  # type: ignore[return-value]


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


def forget_uploads(values: Any) -> int:
    """Delete uploaded files once processed, so a visitor's upload does not outlive its use
    (gradio's delete_cache sweeps the rest later). Only files inside Gradio's upload folder
    go; anything else (the app's own assets) is never touched. Returns files deleted."""
    from gradio.utils import get_upload_folder

    root = Path(get_upload_folder()).resolve()
    deleted = 0
    for value in values if isinstance(values, (list, tuple)) else [values]:
        try:
            path = file_path(value, required=False)
        except InputError:  # already gone
            continue
        if path and Path(path).resolve().is_relative_to(root):
            Path(path).unlink(missing_ok=True)
            deleted += 1
    return deleted
