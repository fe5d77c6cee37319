"""What every tab gets: the shared model manager, the settings, and the state the app
builds once and shares between requests (the sentiment service, the live captioning
sessions, the open galleries, the video indexes read, runs a page may cancel). Handlers are
handed the context and pass on what a service needs; nothing is cached in module globals."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model_zoo.core.manager import ModelManager
from model_zoo.core.ownership import OwnerSpace
from model_zoo.core.uploads import UploadLimits
from model_zoo.sentiment.head_scope import scoped_service
from model_zoo.sentiment.service import SentimentService
from model_zoo.speech.live import LiveSessions
from model_zoo.video.store import VideoIndexCache
from model_zoo.vision.search.galleries import GalleryRegistry

if TYPE_CHECKING:  # type only: components never import the app layer at run time
    from app.settings import Settings


# Names under which tabs share components (StudioContext.share).
SHARED_TABS = "tabs"  # the top-level gr.Tabs: select a tab by its module name
SHARED_CAPTION_IMAGE = "captioning.image"  # the Captioning tab's image input (a filepath gr.Image)


@dataclass
class StudioContext:
    manager: ModelManager
    settings: "Settings"
    # where each visitor's items live (model_zoo.core.ownership); made from the settings if not given
    space: OwnerSpace | None = None
    # the gr.BrowserState holding an anonymous visitor's id (components.visitor); None outside a page
    visitor_state: Any = field(default=None, repr=False)
    # (fn, inputs, outputs) the tabs want run once a page knows its visitor (components.visitor)
    page_load: list = field(default_factory=list, repr=False)
    # components a tab offers to the others by name (see share / shared)
    components: dict = field(default_factory=dict, repr=False)
    cleaner: Any = field(default=None, repr=False)  # model_zoo.core.ownership.Cleaner, started with the app
    # one sentiment service (and its caches) for every visitor, its heads scoped per request
    # (components.common.heads); made from the settings if not given
    sentiment: SentimentService | None = field(default=None, repr=False)
    # the live captioning sessions, at most one per Whisper model (components.speech.live)
    live_sessions: LiveSessions | None = field(default=None, repr=False)
    # a flag per page for the run it may cancel (Imagine's Cancel), by visitor.page_of
    cancel_flags: dict[str, threading.Event] = field(default_factory=dict, repr=False)
    # what one request's files may be (model_zoo.core.uploads: every upload path reads them so);
    # made from the settings if not given
    upload_limits: UploadLimits | None = None
    # the galleries this process holds open, one instance per folder, checked against disk on
    # every open (model_zoo.vision.search: every call that opens a gallery is handed this)
    galleries: GalleryRegistry = field(default_factory=GalleryRegistry, repr=False)
    # the video indexes read, each checked against its file's stamp on every use (model_zoo.video)
    videos: VideoIndexCache = field(default_factory=VideoIndexCache, repr=False)

    def __post_init__(self) -> None:
        s = self.settings
        if self.space is None:
            self.space = OwnerSpace(Path(s.data_dir), s.data_mode, s.anonymous_ttl_hours, s.owner_quota_mb)
        self.space.on_delete.append(self.forget_deleted)
        if self.sentiment is None:  # cheap: nothing loads before the first prediction
            self.sentiment = scoped_service(self.manager, self.data_path("heads"), s.sentiment_max_chars,
                                            precision=s.sentiment_precision)
        if self.live_sessions is None:
            self.live_sessions = LiveSessions(self.manager, background=True)
        if self.upload_limits is None:
            self.upload_limits = UploadLimits.from_mb(s.max_file_size_mb, s.max_expanded_mb, s.max_upload_files)

    def forget_deleted(self, kind: str, path: Path) -> None:
        """After the cleaner deletes a gallery or a video index: drop what this process holds
        of it, so a new one of that name starts empty (OwnerSpace.on_delete; model_zoo.core
        knows no galleries)."""
        if kind == "galleries":
            self.galleries.forget(path)
        elif kind == "videos":
            self.videos.forget(path)

    def close(self) -> None:
        """Stop what runs beside the app (the cleaner), and unhook this context from the space's
        deletions; the server is closed by its owner."""
        if self.cleaner is not None:
            self.cleaner.stop()
        self.space.on_delete[:] = [hook for hook in self.space.on_delete if hook != self.forget_deleted]

    def queue_slot(self, model: str, limit: int | None = None, lane: str = "") -> dict:
        """Event kwargs that make every event driving `model` (UI buttons and the API
        endpoint alike) share one queue slot pool, so a heavy model never runs more
        than `limit` (default: --concurrency) jobs at once, whoever asks. A `lane`
        ("bulk") gives a model's long jobs (a folder, a video, a batch) a pool of their
        own (--bulk-concurrency slots), so they never hold the slots its quick calls wait for."""
        if lane:
            return {"concurrency_id": f"model:{model}:{lane}",
                    "concurrency_limit": limit or self.settings.bulk_concurrency}
        return {"concurrency_id": f"model:{model}", "concurrency_limit": limit or self.settings.concurrency}

    def share(self, name: str, component: Any) -> Any:
        """Offer a component to the other tabs by name (e.g. SHARED_CAPTION_IMAGE), so one
        tab can hand work to another (send it an image, select it) without importing its
        internals. Returns the component."""
        if name in self.components:
            raise ValueError(f"a component named '{name}' is already shared")
        self.components[name] = component
        return component

    def shared(self, name: str) -> Any | None:
        """A component another tab shared (None if that tab is not built, or not yet)."""
        return self.components.get(name)

    def data_path(self, *parts: str) -> Path:
        """A folder under the data dir for what a tab writes (created on demand)."""
        path = Path(self.settings.data_dir).joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path
