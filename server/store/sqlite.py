"""The embedded store: a revision log in SQLite, as k3s's kine keeps one.

Each write appends a row to ``log``; the row's primary key is its revision. A
key's state is its newest row, and a tombstone row (``deleted = 1``) ends it.
One writer thread owns the write connection and commits whatever requests
have queued up as one transaction (group commit: one fsync for many writes),
checks the compare-and-swap of each against an in-memory index of live keys,
and compacts old history in small chunks between batches. WAL checkpoints run
on a thread of their own, so neither stalls a commit for long.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sqlite3
import threading
import time
from collections import deque
from typing import AsyncIterator

from server.store import (
    CompactedError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RevisionMismatchError,
    Store,
)

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    revision INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# Requests committed in one transaction at most; more wait for the next.
MAX_BATCH = 512
# Rows a compaction chunk deletes at most, so a chunk holds the writer briefly.
COMPACT_CHUNK = 2000
# Seconds between the (time, revision) samples that date the history: one a
# second finds the revision of keep_seconds ago closely enough, and keeps 300
# samples for five minutes where one per commit kept hundreds of thousands.
SAMPLE_INTERVAL = 1.0


def _prefix_end(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class SQLiteStore(Store):
    def __init__(self, path: str, *, keep_revisions: int = 1000,
                 keep_seconds: float = 300.0, compact_interval: float = 30.0,
                 checkpoint_interval: float = 1.0, synchronous: str = "FULL"):
        self.path = path
        self.keep_revisions = keep_revisions
        self.keep_seconds = keep_seconds
        self.compact_interval = compact_interval
        self.checkpoint_interval = checkpoint_interval
        self.synchronous = synchronous
        self._requests: queue.Queue = queue.Queue()
        self._subscribers: list[tuple[str, asyncio.Queue]] = []
        self._delivered = 0
        self._closed = False
        self._local = threading.local()

    # Lifecycle.

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        conn = _connect(self.path)
        conn.executescript(SCHEMA)
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        # Checkpoints are ours to run, off the commit path (see _checkpointer).
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("PRAGMA journal_size_limit=67108864")
        self._writer = _Writer(self, conn)
        self._delivered = self._writer.revision
        self._writer.thread.start()
        self._stop_checkpoints = threading.Event()
        self._checkpoints = threading.Thread(
            target=self._checkpointer, name="sqlite-checkpoint", daemon=True)
        self._checkpoints.start()
        log.debug("store opened path=%s revision=%d", self.path, self._delivered)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        done = self._loop.create_future()
        self._requests.put(("stop", done))
        await done
        self._stop_checkpoints.set()
        await asyncio.to_thread(self._checkpoints.join)
        for _, q in self._subscribers:
            q.put_nowait(None)
        self._subscribers.clear()

    def current_revision(self) -> int:
        return self._delivered

    def compact_revision(self) -> int:
        # Set by the writer after its compaction commits; reading an int is
        # atomic, and compaction may run while no write is delivered.
        return self._writer.compacted

    async def compact(self, revision: int) -> None:
        await self._submit("compact", revision)

    def _checkpointer(self) -> None:
        conn = _connect(self.path)
        try:
            while not self._stop_checkpoints.wait(self.checkpoint_interval):
                started = time.monotonic()
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                log.debug("checkpoint took=%.1fms",
                          (time.monotonic() - started) * 1000)
        finally:
            conn.close()

    # Writes go through the writer thread.

    def _submit(self, *request) -> asyncio.Future:
        if self._closed:
            raise RuntimeError("store is closed")
        future = self._loop.create_future()
        self._requests.put((*request, future))
        return future

    async def create(self, key: str, value: bytes) -> int:
        return await self._submit("create", key, value)

    async def update(self, key: str, value: bytes, expected: int) -> int:
        return await self._submit("update", key, value, expected)

    async def delete(self, key: str, expected: int) -> int:
        return await self._submit("delete", key, expected)

    def _deliver(self, outcomes: list, events: list[Event], revision: int) -> None:
        """Runs on the event loop after each commit."""
        self._delivered = max(self._delivered, revision)
        for prefix, q in self._subscribers:
            matching = [e for e in events if e.kv.key.startswith(prefix)]
            if matching:
                q.put_nowait(matching)
        for future, result in outcomes:
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    # Reads use a connection per thread of the default executor.

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self.path)
        return conn

    async def get(self, key: str) -> KeyValue | None:
        return await asyncio.to_thread(self._get, key)

    def _get(self, key: str) -> KeyValue | None:
        row = self._reader().execute(
            "SELECT key, value, create_revision, revision, deleted FROM log "
            "WHERE key = ? ORDER BY revision DESC LIMIT 1", (key,)).fetchone()
        if row is None or row[4]:
            return None
        return KeyValue(row[0], row[1], row[2], row[3])

    async def range(self, prefix: str, *, revision: int = 0, start: str = "",
                    limit: int = 0) -> tuple[list[KeyValue], int, bool]:
        revision = revision or self._delivered
        if revision < self.compact_revision():
            raise CompactedError(self.compact_revision())
        return await asyncio.to_thread(self._range, prefix, revision, start, limit)

    def _range(self, prefix: str, revision: int, start: str,
               limit: int) -> tuple[list[KeyValue], int, bool]:
        low = max(prefix, start)
        fetch = limit + 1 if limit else -1
        rows = self._read_kept(
            revision,
            "SELECT l.key, l.value, l.create_revision, l.revision FROM log l "
            "JOIN (SELECT MAX(revision) AS revision FROM log "
            "      WHERE key >= ? AND key < ? AND revision <= ? GROUP BY key) m "
            "ON l.revision = m.revision WHERE l.deleted = 0 "
            "ORDER BY l.key LIMIT ?",
            (low, _prefix_end(prefix), revision, fetch))
        more = bool(limit) and len(rows) > limit
        if more:
            rows = rows[:limit]
        return [KeyValue(*r) for r in rows], revision, more

    async def watch(self, prefix: str, revision: int) -> AsyncIterator[list[Event]]:
        if revision and revision <= self.compact_revision():
            raise CompactedError(self.compact_revision())
        live: asyncio.Queue = asyncio.Queue()
        subscriber = (prefix, live)
        self._subscribers.append(subscriber)
        try:
            seen = self._delivered
            if revision and revision <= seen:
                history = await asyncio.to_thread(
                    self._history, prefix, revision, seen)
                if history:
                    yield history
            while (batch := await live.get()) is not None:
                batch = [e for e in batch if e.kv.mod_revision > seen]
                if batch:
                    yield batch
        finally:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def _history(self, prefix: str, first: int, last: int) -> list[Event]:
        rows = self._read_kept(
            first - 1,
            "SELECT key, value, create_revision, revision, deleted FROM log "
            "WHERE revision >= ? AND revision <= ? AND key >= ? AND key < ? "
            "ORDER BY revision", (first, last, prefix, _prefix_end(prefix)))
        return [Event("DELETE" if r[4] else "PUT", KeyValue(r[0], r[1], r[2], r[3]))
                for r in rows]

    async def history(self, prefix: str, after: int, until: int, *,
                      limit: int = 0) -> list[Event]:
        if after < self.compact_revision():
            raise CompactedError(self.compact_revision())
        return await asyncio.to_thread(self._history_with_prev, prefix, after,
                                       until, limit or -1)

    def _history_with_prev(self, prefix: str, after: int, until: int,
                           limit: int) -> list[Event]:
        # Each row names the row it replaced; compaction keeps that row for
        # as long as the replacing one, so every event kept has its prev_kv.
        rows = self._read_kept(
            after,
            "SELECT l.key, l.value, l.create_revision, l.revision, l.deleted, "
            "p.value, p.create_revision, p.revision FROM log l "
            "LEFT JOIN log p ON p.revision = l.prev_revision AND l.prev_revision != 0 "
            "WHERE l.revision > ? AND l.revision <= ? AND l.key >= ? AND l.key < ? "
            "ORDER BY l.revision LIMIT ?",
            (after, until, prefix, _prefix_end(prefix), limit))
        return [_event_with_prev(row) for row in rows]

    def _read_kept(self, oldest: int, query: str, args: tuple) -> list[tuple]:
        """The rows of ``query``, which needs the history from ``oldest`` on.

        The compaction point is read in the same snapshot: a compaction that
        commits between the caller's check and this read raises
        CompactedError instead of leaving rows missing from the answer.
        """
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            row = conn.execute("SELECT value FROM meta "
                               "WHERE name = 'compact_revision'").fetchone()
            if row and oldest < row[0]:
                raise CompactedError(row[0])
            return conn.execute(query, args).fetchall()
        finally:
            conn.execute("COMMIT")


class _Writer:
    """The single writer: group commit, compare-and-swap, compaction."""

    def __init__(self, store: SQLiteStore, conn: sqlite3.Connection):
        self.store = store
        self.conn = conn
        self.revision = conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'log'").fetchone()
        self.revision = self.revision[0] if self.revision else 0
        row = conn.execute(
            "SELECT value FROM meta WHERE name = 'compact_revision'").fetchone()
        self.compacted = row[0] if row else 0
        # key -> (create_revision, mod_revision) of every live key.
        self.index: dict[str, tuple[int, int]] = {}
        for key, create, mod, deleted in conn.execute(
                "SELECT key, create_revision, revision, deleted FROM log "
                "WHERE revision IN (SELECT MAX(revision) FROM log GROUP BY key)"):
            if not deleted:
                self.index[key] = (create, mod)
        # (monotonic time, revision) samples, to find the revision of 5 min ago.
        self.samples: deque[tuple[float, int]] = deque()
        self.sampling_since = 0.0
        self.next_compaction = time.monotonic() + store.compact_interval
        self.thread = threading.Thread(
            target=self.run, name="sqlite-writer", daemon=True)

    def run(self) -> None:
        stop = None
        while stop is None:
            try:
                request = self.store._requests.get(timeout=1.0)
            except queue.Empty:
                self.maybe_compact()
                continue
            batch = [request]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.store._requests.get_nowait())
                except queue.Empty:
                    break
            stop = next((r for r in batch if r[0] == "stop"), None)
            self.commit([r for r in batch if r[0] not in ("stop", "compact")])
            for request in batch:
                if request[0] == "compact":
                    self.compact_request(*request[1:])
            self.maybe_compact()
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()
        self.store._loop.call_soon_threadsafe(_resolve, stop[-1])

    def commit(self, batch: list[tuple]) -> None:
        if not batch:
            return
        saved_revision, changed = self.revision, {}
        outcomes, events = [], []
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            for request in batch:
                op, args, future = request[0], request[1:-1], request[-1]
                try:
                    event = getattr(self, op)(changed, *args)
                except (KeyExistsError, KeyNotFoundError,
                        RevisionMismatchError) as outcome:
                    outcomes.append((future, outcome))
                    continue
                events.append(event)
                outcomes.append((future, event.kv.mod_revision))
            self.conn.execute("COMMIT")
        except sqlite3.Error as error:
            log.error("commit of %d writes failed: %s", len(batch), error)
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.revision = saved_revision
            outcomes = [(r[-1], error) for r in batch]
            events = []
        else:
            self.apply(changed)
            self.sample(time.monotonic())
        self.store._loop.call_soon_threadsafe(
            self.store._deliver, outcomes, events, self.revision)

    def sample(self, now: float) -> None:
        # The newest commit of each interval stands for it: still a true
        # (time, revision) pair, so compaction never goes past keep_seconds.
        if self.samples and now - self.sampling_since < SAMPLE_INTERVAL:
            self.samples[-1] = (now, self.revision)
        else:
            self.sampling_since = now
            self.samples.append((now, self.revision))

    def apply(self, changed: dict) -> None:
        for key, state in changed.items():
            if state is None:
                self.index.pop(key, None)
            else:
                self.index[key] = state

    def lookup(self, changed: dict, key: str) -> tuple[int, int] | None:
        return changed[key] if key in changed else self.index.get(key)

    def insert(self, key: str, deleted: int, create: int, prev: int,
               value: bytes) -> int:
        self.revision += 1
        self.conn.execute(
            "INSERT INTO log (revision, key, deleted, create_revision, "
            "prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)",
            (self.revision, key, deleted, create or self.revision, prev, value))
        return self.revision

    def current(self, key: str, state: tuple[int, int]) -> KeyValue:
        value = self.conn.execute(
            "SELECT value FROM log WHERE revision = ?", (state[1],)).fetchone()[0]
        return KeyValue(key, value, state[0], state[1])

    def create(self, changed: dict, key: str, value: bytes) -> Event:
        if self.lookup(changed, key) is not None:
            raise KeyExistsError(key)
        revision = self.insert(key, 0, 0, 0, value)
        changed[key] = (revision, revision)
        return Event("PUT", KeyValue(key, value, revision, revision))

    def update(self, changed: dict, key: str, value: bytes, expected: int) -> Event:
        state = self.check(changed, key, expected)
        revision = self.insert(key, 0, state[0], state[1], value)
        changed[key] = (state[0], revision)
        return Event("PUT", KeyValue(key, value, state[0], revision))

    def delete(self, changed: dict, key: str, expected: int) -> Event:
        state = self.check(changed, key, expected)
        last = self.current(key, state).value
        revision = self.insert(key, 1, state[0], state[1], last)
        changed[key] = None
        return Event("DELETE", KeyValue(key, last, state[0], revision))

    def check(self, changed: dict, key: str, expected: int) -> tuple[int, int]:
        state = self.lookup(changed, key)
        if state is None:
            raise KeyNotFoundError(key)
        if state[1] != expected:
            raise RevisionMismatchError(self.current(key, state))
        return state

    # Compaction: drop history older than both bounds, a chunk at a time.

    def maybe_compact(self) -> None:
        now = time.monotonic()
        if now < self.next_compaction:
            return
        self.next_compaction = now + self.store.compact_interval
        target = self.compaction_target(now)
        if target > self.compacted:
            self.compact(target)

    def compact_request(self, revision: int, future: asyncio.Future) -> None:
        """Store.compact(), run between commits as the background compaction."""
        outcome = None
        if revision <= self.compacted:
            outcome = CompactedError(self.compacted)
        elif revision > self.revision:
            outcome = ValueError(f"revision {revision} is a future revision")
        else:
            try:
                self.compact(revision)
            except sqlite3.Error as error:
                log.error("compaction to revision %d failed: %s", revision, error)
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                outcome = error
        self.store._loop.call_soon_threadsafe(
            self.store._deliver, [(future, outcome)], [], self.revision)

    def compact(self, target: int) -> None:
        started, removed = time.monotonic(), 0
        low = self.compacted
        while low < target:
            high = min(low + COMPACT_CHUNK, target)
            removed += self.compact_chunk(low, high)
            low = high
        log.log(logging.INFO if removed else logging.DEBUG,
                "compacted history to revision %d: %d rows removed in %.0fms",
                target, removed, (time.monotonic() - started) * 1000)

    def compaction_target(self, now: float) -> int:
        by_count = self.revision - self.store.keep_revisions
        cutoff = now - self.store.keep_seconds
        by_age = 0
        while self.samples and self.samples[0][0] <= cutoff:
            by_age = self.samples.popleft()[1]
        return min(by_count, by_age)

    def compact_chunk(self, low: int, high: int) -> int:
        # Every write in the window replaced its key's previous row, which may
        # lie before the window: that row goes. A tombstone goes itself.
        self.conn.execute("BEGIN IMMEDIATE")
        replaced = self.conn.execute(
            "DELETE FROM log WHERE revision IN (SELECT prev_revision FROM log"
            " WHERE revision > ? AND revision <= ? AND prev_revision != 0)",
            (low, high)).rowcount
        tombstones = self.conn.execute(
            "DELETE FROM log WHERE revision > ? AND revision <= ? AND deleted = 1",
            (low, high)).rowcount
        self.conn.execute(
            "INSERT INTO meta (name, value) VALUES ('compact_revision', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (high,))
        self.conn.execute("COMMIT")
        self.compacted = high
        return replaced + tombstones


def _event_with_prev(row: tuple) -> Event:
    key, kv = row[0], KeyValue(*row[:4])
    prev = KeyValue(key, *row[5:]) if row[7] is not None else None
    return Event("DELETE" if row[4] else "PUT", kv, prev)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def ensure_data_dir(path: str) -> str:
    """Create the data directory and check it is writable; return the db path."""
    os.makedirs(path, exist_ok=True)
    probe = os.path.join(path, ".write-test")
    with open(probe, "w"):
        pass
    os.unlink(probe)
    return os.path.join(path, "state.db")
