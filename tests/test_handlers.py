"""The tabs' handlers and endpoints as plain functions: a context on tiny models, a named
owner, no server. In the app, visitor.for_caller works the owner out of the request (and the
browser's visitor id) and common.bind hands in the context; both are checked here too, and on
the built app: every event's handler shows Gradio its inputs and a gr.Request, never the
context or the owner."""
from __future__ import annotations

import inspect
import threading
import typing
from types import SimpleNamespace

import gradio as gr
import pytest

from app.settings import load_settings
from components import imagine, search, sentiment, system, visitor
from components.common import bind
from components.common.heads import service
from components.context import StudioContext
from components.speech import live
from model_zoo.core.errors import InputError
from model_zoo.core.ownership import OPERATOR, Owner
from model_zoo.sentiment.head_scope import ScopedHeadStore


def make_ctx(manager, data_dir) -> StudioContext:
    return StudioContext(manager, load_settings(["--data-dir", str(data_dir)], environ={}))  # private mode


@pytest.fixture
def ctx(tiny_bridge_manager, tmp_path) -> StudioContext:
    return make_ctx(tiny_bridge_manager, tmp_path / "data")


def request(session: str) -> SimpleNamespace:
    """What a handler reads of a gr.Request: Gradio's session hash (a gradio_client Client's own)."""
    return SimpleNamespace(session_hash=session, username=None)


# -- visitor.for_caller and common.bind ---------------------------------------------------------
def test_for_caller_shows_gradio_the_inputs_and_supplies_the_owner(ctx):
    @visitor.for_caller
    def on_click(ctx: StudioContext, text: str, progress=gr.Progress(), *, owner: Owner) -> str:
        """Say who asked."""
        return f"{owner.id}:{text}"

    handler = bind(ctx, on_click)
    assert list(inspect.signature(handler).parameters) == ["text", "browser_id", "request", "profile", "progress"]
    hints = typing.get_type_hints(handler)
    # gradio injects the request and the signed-in profile by their hints
    assert hints == {"text": str, "request": gr.Request, "profile": typing.Optional[gr.OAuthProfile], "return": str}
    assert handler.__doc__ == "Say who asked." and handler.__name__ == "on_click"
    alice = ctx.space.anonymous("session", "alice-session")
    assert handler("hi", None, request("alice-session")) == f"{alice.id}:hi"
    browser = ctx.space.new_browser_id()  # the page's visitor id, kept in the browser, comes first
    assert handler("hi", browser, request("alice-session")) == f"{ctx.space.anonymous('browser', browser).id}:hi"
    with pytest.raises(gr.Error, match="could not tell who is asking"):  # bound: as a visitor reads it
        handler("hi")
    assert on_click(ctx, "hi", owner=OPERATOR) == ":hi"  # tests and scripts name the owner


def test_an_endpoint_shows_no_browser_id_and_a_page_handler_gets_its_page(ctx):
    @visitor.for_caller(api=True)
    def endpoint(ctx: StudioContext, query: str = "", k: int = 8, *, owner: Owner) -> dict:
        return {"owner": owner.id, "query": query, "k": k}

    bound = bind(ctx, endpoint)
    assert list(inspect.signature(bound).parameters) == ["query", "k", "request", "profile"]  # /info shows: query, k
    assert typing.get_type_hints(bound) == {"query": str, "k": int, "request": gr.Request,
                                            "profile": typing.Optional[gr.OAuthProfile], "return": dict}
    assert bound("cats", request=request("bob-session"))["owner"] == ctx.space.anonymous("session", "bob-session").id

    @visitor.for_caller
    def per_page(ctx: StudioContext, *, page: str) -> str:
        return page

    assert list(inspect.signature(bind(ctx, per_page)).parameters) == ["request"]  # no owner: no browser id
    assert bind(ctx, per_page)(request("page-one-1")) == "page-one-1"
    with pytest.raises(TypeError, match="neither"):
        visitor.for_caller(lambda ctx, text: text)


def test_streaming_handlers_stay_generators(ctx):
    @visitor.for_caller
    def steps(ctx: StudioContext, n: int, *, owner: Owner):
        yield from range(n)

    handler = bind(ctx, steps)
    assert inspect.isgeneratorfunction(handler)  # how Gradio knows to stream
    assert list(handler(3, None, request("carol-session"))) == [0, 1, 2]


# -- the tabs' handlers, for a named owner -------------------------------------------------------
def test_search_endpoints_and_handlers_act_for_their_owner(ctx):
    alice, bob = ctx.space.anonymous("session", "alice-session"), ctx.space.anonymous("session", "bob-session")
    photos = [{"path": str(p)} for p in sorted(search.SAMPLE_DIR.glob("*.jpg"))[:3]]
    assert search.index_images_api(ctx, photos, "mine", owner=alice)["added"] == 3
    assert "mine" in search.galleries_api(ctx, owner=alice)["galleries"]
    assert "mine" not in search.galleries_api(ctx, owner=bob)["galleries"]
    found = search.search_api(ctx, "a cat", None, 2, "mine", owner=alice)
    assert len(found["results"]) == 2
    with pytest.raises(gr.Error, match="No such gallery 'mine'"):
        search.search_api(ctx, "a cat", None, 2, "mine", owner=bob)
    tiles, note = search.ui_search(ctx, "a cat", None, 2, 1.0, "mine", owner=alice)  # what the page shows
    assert len(tiles) == 2 and note.startswith("2 results")
    summary, _ = search.gallery_changed(ctx, "mine", owner=alice)
    assert "3 images" in summary
    # as the app calls them: bound to the context, the owner from the request
    assert "mine" in bind(ctx, search.galleries_api)(request("alice-session"))["galleries"]
    assert "mine" not in bind(ctx, search.galleries_api)(request("bob-session"))["galleries"]
    first = found["results"][0]["id"]
    assert search.remove_images_api(ctx, str(first), "mine", owner=alice)["images"] == 2


def test_reindexing_a_shared_gallery_lands_in_the_visitor_s_own_space(tiny_bridge_manager, tiny_bridge_overrides,
                                                                     tiny_clip_dir, tmp_path):
    """A visitor's "Re-index with CLIP" of the shared sample gallery used to write
    '<name>-clip' into the shared folders, for every visitor to see: visitors never write
    into the shared namespace. The copy is the visitor's own (and counts in their quota)."""
    from model_zoo.core.manager import ManagerConfig, ModelManager

    both = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "cache", offline=True,
                                      overrides={**tiny_bridge_overrides, "clip": str(tiny_clip_dir)}))
    ctx = make_ctx(both, tmp_path / "data")
    shared = ctx.space.shared_folder("galleries")
    photos = sorted(search.SAMPLE_DIR.glob("*.jpg"))[:3]
    search.service.add_files(tiny_bridge_manager, shared / "sample", photos)  # the operator's, by the label bridge
    alice, bob = ctx.space.anonymous("session", "alice-session"), ctx.space.anonymous("session", "bob-session")
    copy = search.reindex_gallery(ctx, "sample", owner=alice)
    assert copy["gallery"] == "sample-clip" and copy["engine"] == "clip" and copy["added"] == 3
    assert not (shared / "sample-clip").exists()  # nothing new in the shared namespace
    assert "sample-clip" in search.galleries_api(ctx, owner=alice)["galleries"]
    assert "sample-clip" not in search.galleries_api(ctx, owner=bob)["galleries"]
    assert ctx.space.used_bytes(alice) > 0
    search.reindex_gallery(ctx, "sample")  # the operator's copy of a shared gallery is shared
    assert (shared / "sample-clip" / "manifest.json").is_file()
    with pytest.raises(InputError, match="already shared"):  # bob is pointed at it, not given a copy
        search.reindex_gallery(ctx, "sample", owner=bob)


def agent_request(loopback: str = "mcp-loopback-session", **headers: str) -> SimpleNamespace:
    """A call Gradio's MCP server makes for an agent: the session is its loopback client's, the
    same for every agent; x-gradio-user is "mcp"; the agent's own headers come along."""
    return SimpleNamespace(session_hash=loopback, username=None, headers={"x-gradio-user": "mcp", **headers})


def test_an_agent_reaches_its_items_by_key_or_handle_never_by_the_shared_mcp_session(ctx):
    index, find = bind(ctx, search.index_images_api), bind(ctx, search.search_api)
    photos = [{"path": str(p)} for p in sorted(search.SAMPLE_DIR.glob("*.jpg"))[:2]]
    made = index(photos, "mine", request=agent_request())
    name, key = visitor.split_handle(made["handle"])
    assert name == "mine" and ctx.space.valid_key(key) and made["added"] == 2
    assert len(find("a cat", None, 2, made["handle"], request=agent_request())["results"]) == 2
    with pytest.raises(gr.Error, match="No such gallery 'mine'"):  # the same loopback session, another agent
        find("a cat", None, 2, "mine", request=agent_request())
    assert index(photos[:1], "mine", request=agent_request())["handle"] != made["handle"]  # a fresh key each time
    # the key in a header reaches the same items by name, from an agent or a gradio_client session alike
    for asking in (agent_request(**{"x-studio-key": key}), agent_request(authorization=f"Bearer {key}"),
                   SimpleNamespace(session_hash="alice-session", username=None, headers={"x-studio-key": key})):
        assert len(find("a cat", None, 2, "mine", request=asking)["results"]) == 2
    assert made["handle"] == index(photos, made["handle"], request=agent_request())["handle"]  # adds to it
    assert visitor.owner(ctx, agent_request(authorization="Bearer hf_a-hub-token-for-a-private-space")).key
    with pytest.raises(InputError, match="An owner key is 'mms_'"):
        visitor.owner(ctx, agent_request(**{"x-studio-key": "guessable"}))
    with pytest.raises(gr.Error, match="An owner key"):
        find("a cat", None, 2, "mine@mms_short", request=request("alice-session"))
    # a browser or gradio_client session is still itself, and gets no handle (its session reaches its items)
    assert index(photos[:1], "theirs", request=request("bob-session"))["handle"] is None
    shared = StudioContext(ctx.manager, load_settings(["--data-dir", str(ctx.settings.data_dir) + "-shared",
                                                       "--data-mode", "shared"], environ={}))
    # a trusted local install: one namespace, keys change nothing
    assert visitor.owner(shared, agent_request(**{"x-studio-key": key})) == OPERATOR


def test_small_handlers_need_no_server(ctx):
    alice = ctx.space.anonymous("session", "alice-session")
    assert {"default", "fast"} <= set(sentiment.heads_api(ctx, owner=alice)["heads"])
    assert sentiment.refresh_heads(ctx, "fast", owner=alice).value == "fast"
    assert {"clip", "whisper-base"} <= {m["key"] for m in system.models(ctx)}
    local = SimpleNamespace(username=None, headers={}, client=SimpleNamespace(host="127.0.0.1"))
    with pytest.raises(gr.Error, match="Choose a model"):
        system.unload_model(ctx, "", local)
    mine, theirs = threading.Event(), threading.Event()
    ctx.cancel_flags.update({"page-one-1": mine, "page-two-2": theirs})
    assert imagine.on_cancel(ctx, page="page-one-1").startswith("Cancelled")
    assert mine.is_set() and not theirs.is_set()  # Cancel stops this page's run only
    assert live.on_stop(ctx, page="page-one-1") == (gr.update(), gr.update())  # nothing live: the page stays


def test_each_context_makes_its_own_services(tiny_bridge_manager, tmp_path):
    one, two = make_ctx(tiny_bridge_manager, tmp_path / "one"), make_ctx(tiny_bridge_manager, tmp_path / "two")
    assert service(one) is one.sentiment and one.sentiment is not two.sentiment  # one manager, two apps
    assert isinstance(one.sentiment.store, ScopedHeadStore)  # scoped from the start, never swapped
    assert one.sentiment.store.trained_root == one.data_path("heads")
    assert live.sessions_for(one) is one.live_sessions and one.live_sessions is not two.live_sessions


# -- the built app ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["private", "shared"])
def test_every_event_handler_is_what_gradio_expects(tmp_path, mode):
    from app.blocks import build_demo

    studio = build_demo(load_settings(["--data-dir", str(tmp_path), "--offline", "--data-mode", mode], environ={}))
    try:
        assert studio.ctx.space.private == (mode == "private") and studio.ctx.cleaner is not None
        assert not hasattr(studio.demo, "studio")  # the context comes with the Studio, not on the Blocks
        for block_fn in studio.demo.fns.values():
            if block_fn.fn is None:
                continue
            parameters = inspect.signature(block_fn.fn).parameters
            assert not {"ctx", "owner", "page"} & set(parameters), block_fn.name
            if "request" in parameters:
                assert typing.get_type_hints(block_fn.fn)["request"] is gr.Request, block_fn.name
    finally:
        studio.close()
    assert studio.ctx.cleaner._stop.is_set()  # closing the Studio stops the cleaner


# -- the operator's controls --------------------------------------------------------------------
def visit(host: str = "127.0.0.1", username: str | None = None, **headers: str) -> SimpleNamespace:
    return SimpleNamespace(username=username, headers=headers, client=SimpleNamespace(host=host))


def test_only_the_operator_unloads_or_sees_the_server(ctx, tmp_path):
    """Locally with no auth the machine's own browser operates; a visitor from elsewhere, or one
    relayed by a proxy on this machine, sees the models read-only, on the page and through a
    request made by hand against the private events."""
    assert system.operator_of(ctx, visit("127.0.0.1")) and system.operator_of(ctx, visit("::1"))
    for stranger in (visit("203.0.113.9"), visit("127.0.0.1", **{"X-Forwarded-For": "203.0.113.9"}), None):
        assert not system.operator_of(ctx, stranger)
        with pytest.raises(gr.Error, match="Only the operator"):
            system.unload_model(ctx, "minilm", stranger)
        with pytest.raises(gr.Error, match="Only the operator"):
            system.disk_report(ctx, stranger)
        assert system.operator_view(ctx, stranger)["visible"] is False
        assert str(ctx.settings.data_dir) not in system.refresh_view(ctx, stranger)[0]
    assert str(ctx.settings.data_dir) in system.refresh_view(ctx, visit())[0]
    assert system.operator_view(ctx, visit())["visible"] is True


def test_who_operates_with_auth_and_on_spaces(tmp_path):
    def settings(*argv: str, **environ: str):
        return load_settings(["--data-dir", str(tmp_path), *argv], environ=environ)

    with_auth = settings("--auth", "ann:pw,bob:pw")
    assert system.is_operator(with_auth, "ann", None, "203.0.113.9", False)  # every --auth user
    assert not system.is_operator(with_auth, None, None, "127.0.0.1", False)  # not signed in: not even locally
    named = settings("--auth", "ann:pw,bob:pw", "--operators", "ann")
    assert system.is_operator(named, "ann", None, "203.0.113.9", False)
    assert not system.is_operator(named, "bob", None, "127.0.0.1", False)
    space = settings(SPACE_AUTHOR_NAME="carol", OAUTH_CLIENT_ID="x")  # a Space with sign-in
    assert space.operator_names == {"carol"}
    assert system.is_operator(space, None, "carol", "10.0.0.2", True)  # its owner, signed in with HF
    assert not system.is_operator(space, None, "dave", "10.0.0.2", True)
    assert not system.is_operator(settings(OAUTH_CLIENT_ID="x"), None, None, "127.0.0.1", False)
