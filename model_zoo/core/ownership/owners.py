"""Who an owner is, the kinds of items they hold and where: names and patterns only."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MODES = ("private", "shared")
KINDS = ("galleries", "heads", "batches", "videos")  # what an owner can have
TRANSIENT_KINDS = ("batches",)  # results to download: expire for signed-in owners too
OWNERS_DIR = "owners"
TRASH_DIR = ".trash"
LAST_USE_DIR = ".last-use"
SECRET_FILE = ".secret"
PINS_DIR = ".pins"  # flock files: <owner id> and <owner id>.<kind>.<name> (pins), <owner id>.quota
_OWNER_ID = re.compile(r"^[ua]-[0-9a-f]{32}$")
_BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")  # what new_browser_id issues, nothing else
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,128}$")  # gradio session hashes (uuid4 from gradio_client)
# An owner key: what a caller with no browser session (an MCP client) holds to reach its items.
# Long enough to be unguessable when random (22 url-safe characters: 132 bits; new_key issues 32).
KEY_PREFIX = "mms_"
_KEY = re.compile(r"^mms_[A-Za-z0-9_-]{22,128}$")
_ITEM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # one folder name: never '..' or a path



@dataclass(frozen=True)
class Owner:
    """Whose items a request sees. id "" is the operator (the shared namespace). `key`: the
    owner key a keyed owner was reached with (OwnerSpace.keyed), so a handler can hand it back
    in a handle; never part of the identity, never shown."""

    id: str = ""
    key: str | None = field(default=None, compare=False, repr=False)

    @property
    def is_operator(self) -> bool:
        return not self.id

    @property
    def signed_in(self) -> bool:
        return self.id.startswith("u-")

    @property
    def anonymous(self) -> bool:
        return self.id.startswith("a-")


OPERATOR = Owner("")


