"""Who is asking: a Gradio request -> the owner whose galleries and heads it may see.

In order: an owner key the caller presents (the X-Studio-Key header, or `Authorization: Bearer
mms_...`), then, for a call through the MCP server (which has no browser session: the session
Gradio shows is its own, shared by every agent), a fresh key of its own, so what it makes is
reachable only through the handle it gets back (`name@key`); otherwise the Hugging Face user
signed in through the Space's OAuth (`gr.LoginButton`; the profile comes the documented way, as
a `gr.OAuthProfile` parameter Gradio fills from the session), a user of `--auth`
(request.username), the anonymous browser (an id this server issued, kept in the browser with
gr.BrowserState so a reload keeps your gallery), else the gradio session (request.session_hash:
every gradio_client Client is a session of its own). A handle in an item's name ('holiday@mms_...')
names its owner too (for_caller(item=...)). A signed-in profile that cannot be read is logged and
refused with a message, never taken for an anonymous visitor (whose items would silently be
someone else's). The owner id is always derived here (model_zoo.core.ownership hashes it under a
server secret); nothing a visitor types names a folder."""
from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
from typing import Any, Callable, Optional, TypeVar

import gradio as gr

from model_zoo.core.errors import InputError
from model_zoo.core.ownership import KEY_PREFIX, OPERATOR, Owner

from .common import error_code, reshaped
from .common.i18n import language_of, t
from .context import StudioContext

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("studio.visitor")

STORAGE_KEY = "mms-visitor"
KEY_HEADER = "x-studio-key"  # an owner key, for callers without a browser session (MCP clients)
HANDLE_MARK = "@"  # 'holiday@mms_...': an item's name and the owner key that reaches it
MCP_USER = "mcp"  # the x-gradio-user header of the calls Gradio's MCP server makes for an agent


def oauth_enabled(ctx: StudioContext) -> bool:
    """Sign-in offered: --oauth, on by default where the Space enables OAuth (app.settings)."""
    return bool(ctx.settings.oauth)


def setup(ctx: StudioContext) -> None:
    """Inside the page's Blocks, before the tabs: the browser-kept visitor id (private
    mode) and, where the Space enables OAuth, a sign-in button."""
    if not ctx.space.private:
        return
    if oauth_enabled(ctx):
        gr.LoginButton(value="Sign in with Hugging Face to keep your galleries and heads")
    # The secret encrypts the id in localStorage; derived from the data dir's secret so a
    # restart can still read the ids it issued.
    secret = hmac.new(ctx.space.secret, b"browser-state", hashlib.sha256).hexdigest()[:32]
    ctx.visitor_state = gr.BrowserState(None, storage_key=STORAGE_KEY, secret=secret)


def on_page_load(ctx: StudioContext, fn, inputs: list, outputs: list) -> None:
    """Run `fn` once a page knows its visitor (e.g. to list the visitor's own galleries)."""
    ctx.page_load.append((fn, inputs, outputs))


def wire(demo: gr.Blocks, ctx: StudioContext) -> None:
    """On page load: give a browser without a valid id a fresh one (server-issued), then
    run what the tabs asked for with it."""
    quiet = dict(api_visibility="private", queue=False)
    if ctx.visitor_state is None:
        for fn, fn_inputs, fn_outputs in ctx.page_load:
            demo.load(fn, fn_inputs, fn_outputs, **quiet)
        return

    def issue(current: Any) -> str:
        return current if ctx.space.valid_browser_id(current) else ctx.space.new_browser_id()

    loaded = demo.load(issue, ctx.visitor_state, ctx.visitor_state, **quiet)
    for fn, fn_inputs, fn_outputs in ctx.page_load:
        loaded.then(fn, fn_inputs, fn_outputs, **quiet)


def inputs(ctx: StudioContext) -> list:
    """Extra inputs a UI event passes so its handler knows the browser: [BrowserState] or []."""
    return [ctx.visitor_state] if ctx.visitor_state is not None else []


def owner(ctx: StudioContext, request: gr.Request | None, browser_id: Any = None,
          profile: gr.OAuthProfile | None = None) -> Owner:
    """The owner a request acts for (the operator in the shared data mode). `profile` is the
    signed-in Hugging Face user Gradio hands a handler (None: nobody is signed in)."""
    space = ctx.space
    if not space.private:
        return OPERATOR
    if (key := presented_key(request)) is not None:
        return space.keyed(key)
    if from_agent(request):  # never the session: under MCP it is the server's own, every agent's
        return space.keyed(space.new_key())
    if profile is not None and oauth_enabled(ctx):
        return space.user("hf", signed_in_username(profile))
    if request is not None and getattr(request, "username", None):
        return space.user("auth", str(request.username))
    if browser_id is not None and (found := space.anonymous("browser", browser_id)) is not None:
        return found
    session = getattr(request, "session_hash", None) if request is not None else None
    if session and (found := space.anonymous("session", session)) is not None:
        return found
    raise InputError(t("visitor.unknown", language_of(request)))


def _headers(request: gr.Request | None) -> Any:
    try:
        return getattr(request, "headers", None) or {}
    except Exception:  # a gr.Request made without a request (tests, scripts)
        return {}


def presented_key(request: gr.Request | None) -> str | None:
    """The owner key a caller sends: the X-Studio-Key header, else `Authorization: Bearer mms_...`
    (a bearer token without the prefix is someone else's: e.g. a Hub token for a private Space)."""
    headers = _headers(request)
    value = headers.get(KEY_HEADER)
    if value is None:
        scheme, _, token = str(headers.get("authorization") or "").partition(" ")
        value = token if scheme.lower() == "bearer" and token.strip().startswith(KEY_PREFIX) else None
    return None if value is None else value.strip()


def from_agent(request: gr.Request | None) -> bool:
    """Whether Gradio's MCP server made this call for an agent: its loopback client marks each
    call x-gradio-user: mcp (and drops that header from what the agent sent); an unqueued tool
    runs on the MCP request itself."""
    if request is None:
        return False
    if _headers(request).get("x-gradio-user") == MCP_USER:
        return True
    try:
        return "/gradio_api/mcp" in str(request.url.path)
    except Exception:
        return False


def split_handle(value: Any) -> tuple[Any, str | None]:
    """'holiday@mms_...' -> ('holiday', 'mms_...'); anything else -> (value, None)."""
    if not isinstance(value, str) or HANDLE_MARK not in value:
        return value, None
    name, _, key = value.partition(HANDLE_MARK)
    return name.strip(), key.strip()


def handle(who: Owner, name: str) -> str | None:
    """The handle that reaches `name` of a keyed owner ('name@key'), None for everyone else
    (a browser, a gradio_client session, a signed-in user: their own session reaches it)."""
    return f"{name}{HANDLE_MARK}{who.key}" if who.key and name else None


def page_of(request: gr.Request | None) -> str:
    """The browser page a request comes from (Gradio's session hash; "local" outside a
    server): what is per page rather than per owner, such as a live captioning session or a
    run the page may cancel. In the shared data mode every visitor is the same owner, but
    each page is still its own."""
    return getattr(request, "session_hash", None) or "local"


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def for_caller(fn: F | None = None, *, api: bool = False, item: str | None = None) -> Any:
    """Decorator for a handler `fn(ctx, *inputs, ..., owner)` (and/or `page`): the one place a
    handler learns who is asking. The decorated handler takes (ctx, *inputs, browser_id,
    request) instead, the way Gradio calls it, and passes `owner` (visitor.owner: whose
    galleries and heads) and `page` (page_of: which browser page) to `fn`.

    A UI event's inputs end with visitor.inputs(ctx): the browser's visitor id fills
    `browser_id`. api=True: a gr.api endpoint's (no browser_id, whose signature the API
    shows; a gradio_client Client is identified by its session). Parameters Gradio fills by
    default value (progress=gr.Progress()) stay last. Called with owner=... / page=..., the
    handler acts for them without a request (tests, scripts). `item`: the parameter naming the
    item the handler acts on (a gallery, a video, a head); a handle there ('name@key') is that
    item of the key's owner, whoever calls."""
    if fn is None:
        return lambda f: for_caller(f, api=api, item=item)
    signature = inspect.signature(fn)
    wants = [name for name in ("owner", "page") if name in signature.parameters]
    if not wants:
        raise TypeError(f"{fn.__name__} takes neither `owner` nor `page`: it needs no caller")
    kept = [p for name, p in signature.parameters.items() if name not in wants]
    added = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                               annotation=gr.Request)]
    if "owner" in wants:  # Gradio fills it from the session by its hint (None when nobody is signed in)
        added.append(inspect.Parameter("profile", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                       annotation=Optional[gr.OAuthProfile]))
    if "owner" in wants and not api:
        added.insert(0, inspect.Parameter("browser_id", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None))
    at = next((i for i, p in enumerate(kept) if p.kind not in _POSITIONAL or isinstance(p.default, gr.Progress)),
              len(kept))
    shown = signature.replace(parameters=kept[:at] + added + kept[at:])
    first = kept[0].name  # the context

    def call(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in wants if name in kwargs}  # tests, scripts
        arguments = shown.bind(*args, **kwargs).arguments
        request, browser_id = arguments.pop("request", None), arguments.pop("browser_id", None)
        profile = arguments.pop("profile", None)
        if item in arguments and "owner" in wants:
            name, key = split_handle(arguments[item])
            if key is not None:  # the handle names its owner
                arguments[item], given["owner"] = name, arguments[first].space.keyed(key)
        if "owner" in wants and "owner" not in given:
            given["owner"] = owner(arguments[first], request, browser_id, profile)
        if "page" in wants and "page" not in given:
            given["page"] = page_of(request)
        return fn(**arguments, **given)

    return reshaped(fn, call, shown)


def signed_in_username(profile: Any) -> str:
    """The username of a signed-in profile as Gradio hands it over (gr.OAuthProfile). A
    profile without one is a sign-in this server cannot read: it is logged and the request
    refused with a message (an error code the log line quotes), never served as anonymous."""
    username = getattr(profile, "username", None)
    if username is None and isinstance(profile, dict):
        username = profile.get("preferred_username")
    if isinstance(username, str) and username.strip():
        return username.strip()
    code = error_code()
    fields = sorted(profile) if isinstance(profile, dict) else type(profile).__name__
    log.error("sign-in: a signed-in profile without a username (error %s); its fields: %s", code, fields)
    raise InputError(t("visitor.sign_in_unreadable", code=code))


def page_owner(ctx: StudioContext) -> Owner | None:
    """Whose items a page shows before anyone has asked: everyone's in the shared mode,
    no one's (only the shared items) in the private mode."""
    return None if ctx.space.private else OPERATOR
