"""A networked improvement community's documents in Python: an offline-first replica of a
nic-hub's documents, synced in the background. Values are plain Python (dicts, lists,
strings, numbers) following the published schema (docs/schema/ in the repository)."""

from typing import Any, Optional

__version__: str

class NicError(Exception):
    """Anything the replica or the hub refused or could not do."""

class InvalidArgument(NicError):
    """An address, token, id, kind or TLS file that cannot be used."""

class Unreachable(NicError):
    """The hub could not be reached; the replica keeps working offline."""

class HubRefused(NicError):
    """The hub refused: not signed in, not allowed, or the hub's own rules."""

class EditRefused(NicError):
    """A change that does not fit the document's kind or breaks its rules; nothing was written."""

class UnknownDocument(NicError):
    """The document is not in this replica: subscribe to its network first."""

class Timeout(NicError):
    """A wait ran out of time; what it waited for may still happen."""

class Changes:
    """Every change to the documents held here from the moment it was asked for, local or
    from the hub, with its authors. Iterating waits for each next change."""

    def __iter__(self) -> "Changes": ...
    def __next__(self) -> dict[str, Any]:
        """doc, origin ("local" | "remote"), authors (member ids), changes (hash, actor,
        author, message, time_ms each) and heads; or {"missed": n, "message": ...} if the
        iterator fell behind (re-read what you show)."""
    def next(self, timeout: Optional[float] = None) -> Optional[dict[str, Any]]:
        """The next event, or None if none comes within `timeout` seconds."""

class Replica:
    """A NIC's documents held here, synced with a nic-hub in the background."""

    def __init__(self, hub: str, token: str, path: Optional[str] = None,
                 ca_file: Optional[str] = None, cert_file: Optional[str] = None,
                 key_file: Optional[str] = None) -> None:
        """Opens a replica of the hub at `hub` signed in with `token`: in the folder `path`
        (kept across runs), or in memory. Returns at once, reachable hub or not. `ca_file`
        trusts a private CA for the hub's TLS certificate; `cert_file` and `key_file` give
        this client's certificate to a hub that requires them (mutual TLS)."""
    def networks(self) -> list[dict[str, Any]]:
        """The member's networks (every network, for a hub admin), as records."""
    def whoami(self) -> dict[str, Any]:
        """Who the token signs in as: `member` (id, name, grants), `token`, `hub_version`."""
    def sites(self, network: str) -> list[dict[str, Any]]:
        """A network's sites (schools), as records."""
    def members(self, network: str, site: Optional[str] = None) -> list[dict[str, Any]]:
        """A network's members (or one site's), with their roles, as records."""
    def audit_log(self, network: Optional[str] = None, after: int = 0,
                  limit: int = 1000) -> list[dict[str, Any]]:
        """Audit entries after sequence number `after`, oldest first, at most `limit`: the
        whole hub's for a hub admin, one network's for its leads."""
    def subscribe(self, network: str) -> None:
        """Syncs the network's documents here from now on (kept across runs)."""
    def wait_caught_up(self, network: str, timeout: float = 30.0) -> None:
        """Waits until every document the network had is held here."""
    def documents(self, network: Optional[str] = None, kind: Optional[str] = None,
                  site: Optional[str] = None) -> list[dict[str, Any]]:
        """Metadata records of the documents held here: id, kind, network, site,
        visibility, title, created_at_ms, archived."""
    def get(self, doc: str) -> dict[str, Any]:
        """A document's content as plain values, with `id` and `meta` beside its fields."""
    def get_many(self, docs: list[str]) -> list[dict[str, Any]]:
        """Several documents' content, as `get` gives each, in order; much faster than one
        `get` each. Raises UnknownDocument if any is not held here."""
    def update(self, doc: str, changes: dict[str, Any], message: str) -> None:
        """Merges `changes` into the document as one change; raises EditRefused, writing
        nothing, when they do not fit the kind or break its rules."""
    def create(self, network: str, kind: str, title: str,
               content: Optional[dict[str, Any]] = None, site: Optional[str] = None) -> str:
        """Creates a document of `kind` (e.g. "pdsa_cycle") with `content` merged into the
        kind's defaults; returns its id."""
    def start_next_cycle(self, doc: str) -> str:
        """After an "adapt" decision, starts the ramp's next cycle; returns its id."""
    def changes(self) -> Changes:
        """Every change from now on, with its authors."""
    def insight(self, table: str, network: Optional[str] = None, measure: Optional[str] = None,
                change_idea: Optional[str] = None, group: Optional[str] = None,
                focal_group: Optional[str] = None) -> list[dict[str, Any]]:
        """An Insight table as records, the columns `nic export` writes: "series"
        (measure=), "cycles" (network=, change_idea=), "overview" (network=), "district"."""
    def status(self) -> dict[str, Any]:
        """connection ("online" | "connecting" | "offline"), offline_reason, documents,
        pending_changes, pending_documents, unsent_documents, synced, up_to_date."""
    def wait_synced(self, timeout: float = 30.0) -> None:
        """Waits until everything made here is durable on the hub."""
    def wait_saved(self, doc: str, timeout: float = 30.0) -> None:
        """Waits until every change made here to the document is durable on the hub."""
    def go_offline(self) -> None:
        """Stops syncing until `reconnect`; edits go on locally."""
    def reconnect(self) -> None:
        """Connects again now."""
    def close(self) -> None:
        """Saves and stops syncing; further calls raise NicError."""
    def __enter__(self) -> "Replica": ...
    def __exit__(self, *exc: object) -> bool: ...
