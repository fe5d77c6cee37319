"""Who owns what on disk: per-owner namespaces, last-use records, expiry, quotas, the cleaner.

On a public demo every visitor gets a folder of their own under `<data dir>/owners/<id>/`
(galleries/, heads/, batches/, videos/); the operator's items (the sample gallery, galleries built by
the command-line scripts, `<data dir>/heads`) stay where they always were and are shared,
read-only to visitors. An owner id is never typed by anyone: it is an HMAC, under a secret
kept in the data dir, of who the server says the visitor is ("u-..." for a signed-in user,
whose items are kept; "a-..." for an anonymous browser or API session, or for a caller holding
an owner key (an agent over MCP: see `keyed`), whose items expire `ttl` after their last
use). In the "shared" data mode (a trusted local install) everyone is the operator: one
namespace, nothing expires, no quota.

Deleting is crash-safe: an expired item is first renamed into `owners/.trash/` (atomic),
then removed; a kill in between leaves the item or trash, never half an item, and the next
start empties the trash. An item a request is using is pinned and never deleted (the
ModelManager's pinning idea, for files). Time comes from an injectable clock so tests
control it. No gradio here.

Quotas hold under concurrency: a write is admitted under its owner's lock, never checked
first and written later. Code that writes an owner's items is handed the owner's `quota`
(`OwnerSpace.quota(owner)`) and either reserves the exact bytes it is about to add
(`quota.reserve(n)`, held until the bytes are on disk: galleries, result files) or builds the
item aside and puts it in place inside `quota.admit(staged, target)` (heads, video indexes:
the size is measured when the item is whole). Either way the check and the write cannot be
split by another request of the same owner, and what is reserved or staged counts as used
meanwhile, so six writes at once see each other.

Several app processes may share one data dir (replicas): a pin is also a shared flock on a
file in `owners/.pins/` (one per item, one per owner), which a sweep in any process must take
exclusively, without waiting, before it deletes the item (or drops the owner's folder); an
owner's quota is checked under an flock as well as a thread lock (exact across processes for
items admitted whole; a reservation is seen by other processes once its bytes are on disk:
with sticky sessions one visitor's writes reach one replica); the data dir's secret is
made once, under a lock, whoever starts first."""

from model_zoo.core.ownership.cleaning import DiskReport, SweepReport
from model_zoo.core.ownership.owners import (KEY_PREFIX, KINDS, LAST_USE_DIR, MODES, OPERATOR, OWNERS_DIR, PINS_DIR,
                                            SECRET_FILE, TRANSIENT_KINDS, TRASH_DIR, Owner)
from model_zoo.core.ownership.quota import NO_QUOTA, OwnerQuota, QuotaExceeded, Unlimited, tree_bytes
from model_zoo.core.ownership.space import Cleaner, OwnerSpace

__all__ = ["KEY_PREFIX", "KINDS", "LAST_USE_DIR", "MODES", "NO_QUOTA", "OPERATOR", "OWNERS_DIR", "PINS_DIR",
           "SECRET_FILE", "TRANSIENT_KINDS", "TRASH_DIR", "Cleaner", "DiskReport", "Owner", "OwnerQuota",
           "OwnerSpace", "QuotaExceeded", "SweepReport", "Unlimited", "tree_bytes"]
