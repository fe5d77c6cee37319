"""What every tab gets: the shared model manager and the settings."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from model_zoo.manager import ModelManager

if TYPE_CHECKING:  # type only: components never import the app layer at run time
    from app.settings import Settings


@dataclass
class StudioContext:
    manager: ModelManager
    settings: "Settings"

    def queue_slot(self, model: str, limit: int | None = None) -> dict:
        """Event kwargs that make every event driving `model` (UI buttons and the API
        endpoint alike) share one queue slot pool, so a heavy model never runs more
        than `limit` (default: --concurrency) jobs at once, whoever asks."""
        return {"concurrency_id": f"model:{model}", "concurrency_limit": limit or self.settings.concurrency}

    def data_path(self, *parts: str) -> Path:
        """A folder under the data dir for what a tab writes (created on demand)."""
        path = Path(self.settings.data_dir).joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path
