"""The store: a revisioned key-value log, shaped like etcd v3's API.

Every write gets the next *revision* of the whole store. A key's
``mod_revision`` is the revision of its last write and ``create_revision`` of
its creation; writes are compare-and-swap on the expected ``mod_revision``, as
etcd transactions are, so an etcd backend fits the same interface.

Backends are chosen by name with :func:`open_store`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import AsyncIterator


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int


@dataclass(frozen=True, slots=True)
class Event:
    """One change: ``PUT`` or ``DELETE``.

    A PUT that created its key has ``kv.create_revision == kv.mod_revision``,
    as in etcd. A DELETE carries the last value of the key with the revision
    of the delete as ``mod_revision``, so a watcher can tell what was removed.
    ``prev_kv`` is the key's value before the change, as etcd's watch gives it
    when asked for ``prev_kv``: history() sets it; watch() leaves it None.
    """

    type: str
    kv: KeyValue
    prev_kv: KeyValue | None = None

    @property
    def created(self) -> bool:
        return self.type == "PUT" and self.kv.create_revision == self.kv.mod_revision


class StoreError(Exception):
    """The base of the store's own outcomes; never shown to API clients as is."""


class KeyExistsError(StoreError):
    pass


class KeyNotFoundError(StoreError):
    pass


class RevisionMismatchError(StoreError):
    """The key's mod_revision is not the expected one: a lost race, not a fault.

    ``current`` is the key's value now, or None when it no longer exists.
    """

    def __init__(self, current: KeyValue | None):
        super().__init__("revision mismatch")
        self.current = current


class CompactedError(StoreError):
    """The revision asked for is older than the kept history."""

    def __init__(self, compact_revision: int):
        super().__init__(f"revision compacted at {compact_revision}")
        self.compact_revision = compact_revision


class Store(abc.ABC):
    @abc.abstractmethod
    async def start(self) -> None:
        """Open the backend; afterwards current_revision() is valid."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish the writes in flight, end the watches and release the backend."""

    @abc.abstractmethod
    def current_revision(self) -> int: ...

    @abc.abstractmethod
    def compact_revision(self) -> int:
        """The oldest revision history is kept from; older reads are compacted."""

    @abc.abstractmethod
    async def compact(self, revision: int) -> None:
        """Drop the history before ``revision``, as etcd's Compact does: reads
        at older revisions and watches from them raise CompactedError after.

        Raises CompactedError when history is already compacted to
        ``revision`` or later, and ValueError for a revision not yet written.
        """

    @abc.abstractmethod
    async def get(self, key: str) -> KeyValue | None: ...

    @abc.abstractmethod
    async def range(self, prefix: str, *, revision: int = 0, start: str = "",
                    limit: int = 0) -> tuple[list[KeyValue], int, bool]:
        """Keys under ``prefix`` from ``start`` (inclusive), in key order.

        ``revision`` 0 reads the latest state. Returns the values, the
        revision read at, and whether more keys follow ``limit``.
        """

    @abc.abstractmethod
    async def create(self, key: str, value: bytes) -> int:
        """Store a new key; raises KeyExistsError. Returns the revision."""

    @abc.abstractmethod
    async def update(self, key: str, value: bytes, expected: int) -> int:
        """Replace a key whose mod_revision is ``expected``; returns the revision.

        Raises RevisionMismatchError, or KeyNotFoundError if the key is gone.
        """

    @abc.abstractmethod
    async def delete(self, key: str, expected: int) -> int:
        """Remove a key whose mod_revision is ``expected``; as update()."""

    @abc.abstractmethod
    async def history(self, prefix: str, after: int, until: int, *,
                      limit: int = 0) -> list[Event]:
        """Events under ``prefix`` with ``after < revision <= until``, in order,
        each with its ``prev_kv``; the first ``limit`` of them (0: every one).

        Unlike watch() it ends at ``until`` (at most current_revision()) and
        never waits for a write. Raises CompactedError when ``after`` is older
        than the kept history. On etcd: a watch from ``after + 1`` with
        ``prev_kv``, closed once past ``until``.
        """

    @abc.abstractmethod
    def watch(self, prefix: str, revision: int) -> AsyncIterator[list[Event]]:
        """Batches of events under ``prefix`` from ``revision`` on, in order.

        Raises CompactedError when ``revision`` is older than the kept
        history. The iterator ends when the store closes.
        """


def open_store(name: str, **options) -> Store:
    """The store backend called ``name`` ("sqlite")."""
    if name == "sqlite":
        from server.store.sqlite import SQLiteStore

        return SQLiteStore(**options)
    raise ValueError(f"unknown store backend {name!r}; known: sqlite")
