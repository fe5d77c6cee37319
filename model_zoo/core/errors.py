"""Errors a person can act on. The UI layer turns these into gr.Error messages."""
from __future__ import annotations


class StudioError(Exception):
    """Base for every error whose message is meant for the user, not a traceback."""


class InputError(StudioError):
    """The user's input is wrong (bad file, empty text, out-of-range value)."""


class WeightsUnavailable(StudioError):
    """A model's weights are not on this machine and cannot be fetched."""

    def __init__(self, model_key: str, detail: str, how_to_fix: str) -> None:
        self.model_key = model_key
        self.detail = detail
        self.how_to_fix = how_to_fix
        super().__init__(f"Model '{model_key}' is not available: {detail} How to fix: {how_to_fix}")


class PackError(WeightsUnavailable):
    """A packaged weight pack is missing or corrupt."""
