"""The SQLite revision log: compare-and-swap, reads at a revision, watch,
compaction and durability across a reopen."""

from __future__ import annotations

import asyncio
import os

import pytest

from server.store import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    RevisionMismatchError,
    open_store,
)

PODS = "/registry/pods/"


def run(coroutine):
    return asyncio.run(coroutine)


async def opened(path, **options):
    store = open_store("sqlite", path=str(path), **options)
    await store.start()
    return store


def test_every_write_is_a_new_revision(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db")
        first = await store.create(PODS + "ns/a", b"1")
        second = await store.update(PODS + "ns/a", b"2", first)
        third = await store.create(PODS + "ns/b", b"3")
        fourth = await store.delete(PODS + "ns/a", second)
        await store.close()
        return first, second, third, fourth

    assert run(scenario()) == (1, 2, 3, 4)


@pytest.mark.parametrize("write", ["update", "delete"], ids=["update", "delete"])
def test_a_stale_expected_revision_is_a_mismatch_carrying_the_current_value(
        tmp_path, write):
    async def scenario():
        store = await opened(tmp_path / "s.db")
        created = await store.create(PODS + "ns/a", b"1")
        updated = await store.update(PODS + "ns/a", b"2", created)
        args = (b"3", created) if write == "update" else (created,)
        with pytest.raises(RevisionMismatchError) as lost:
            await getattr(store, write)(PODS + "ns/a", *args)
        kept = await store.get(PODS + "ns/a")
        await store.close()
        return lost.value.current, kept, updated

    current, kept, updated = run(scenario())
    assert (current.value, current.mod_revision) == (b"2", updated)
    assert kept.value == b"2"


def test_create_of_an_existing_key_and_writes_to_a_missing_one(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db")
        await store.create(PODS + "ns/a", b"1")
        with pytest.raises(KeyExistsError):
            await store.create(PODS + "ns/a", b"again")
        with pytest.raises(KeyNotFoundError):
            await store.update(PODS + "ns/missing", b"x", 1)
        with pytest.raises(KeyNotFoundError):
            await store.delete(PODS + "ns/missing", 1)
        value = await store.get(PODS + "ns/a")
        await store.close()
        return value.value

    assert run(scenario()) == b"1"


def test_range_reads_the_state_at_an_older_revision_in_key_order(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db")
        a = await store.create(PODS + "ns/b", b"b1")
        await store.create(PODS + "ns/a", b"a1")
        at = store.current_revision()
        await store.update(PODS + "ns/b", b"b2", a)
        await store.create(PODS + "ns/c", b"c1")
        await store.create("/registry/services/ns/a", b"svc")
        old, _, _ = await store.range(PODS, revision=at)
        new, _, _ = await store.range(PODS)
        page, _, more = await store.range(PODS, start=PODS + "ns/b", limit=1)
        await store.close()
        return old, new, page, more

    old, new, page, more = run(scenario())
    assert [(kv.key[-1], kv.value) for kv in old] == [("a", b"a1"), ("b", b"b1")]
    assert [kv.value for kv in new] == [b"a1", b"b2", b"c1"]
    assert [kv.value for kv in page] == [b"b2"] and more


def test_watch_replays_history_then_follows_live_writes_in_order(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db")
        first = await store.create(PODS + "ns/a", b"1")
        await store.update(PODS + "ns/a", b"2", first)
        stream = store.watch(PODS, first + 1)
        history = await anext(stream)
        await store.create("/registry/services/ns/x", b"not a pod")
        deleted = await store.delete(PODS + "ns/a", first + 1)
        live = await anext(stream)
        await stream.aclose()
        await store.close()
        return history, live, deleted

    history, live, deleted = run(scenario())
    assert [(e.type, e.kv.value) for e in history] == [("PUT", b"2")]
    assert [(e.type, e.kv.value, e.kv.mod_revision) for e in live] == [
        ("DELETE", b"2", deleted)]


def test_history_is_bounded_and_carries_each_previous_value(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db")
        first = await store.create(PODS + "ns/a", b"1")
        second = await store.update(PODS + "ns/a", b"2", first)
        deleted = await store.delete(PODS + "ns/a", second)
        again = await store.create(PODS + "ns/a", b"3")
        await store.create("/registry/services/ns/x", b"not a pod")
        events = await store.history(PODS, first, store.current_revision())
        page = await store.history(PODS, first, again, limit=1)
        # Nothing in the range: an answer now, not a wait for the next write.
        none = await asyncio.wait_for(
            store.history("/registry/secrets/", 0, store.current_revision()), 5)
        await store.close()
        return events, page, none, (first, second, deleted, again)

    events, page, none, (first, second, deleted, again) = run(scenario())
    assert [(e.type, e.kv.value, e.kv.mod_revision) for e in events] == [
        ("PUT", b"2", second), ("DELETE", b"2", deleted), ("PUT", b"3", again)]
    assert [(e.prev_kv.value, e.prev_kv.mod_revision) if e.prev_kv else None
            for e in events] == [(b"1", first), (b"2", second), None]
    assert [e.kv.mod_revision for e in page] == [second]
    assert none == []


def test_history_older_than_the_compaction_is_compacted(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db", compact_interval=3600)
        revision = await store.create(PODS + "ns/churn", b"0")
        for n in range(1, 10):
            revision = await store.update(PODS + "ns/churn", str(n).encode(),
                                          revision)
        await store.compact(revision - 3)
        with pytest.raises(CompactedError):
            await store.history(PODS, revision - 4, revision)
        kept = await store.history(PODS, revision - 3, revision)
        await store.close()
        return revision, kept

    revision, kept = run(scenario())
    assert [(e.kv.mod_revision, e.prev_kv.mod_revision) for e in kept] == [
        (r, r - 1) for r in range(revision - 2, revision + 1)]


def test_compaction_drops_old_history_but_keeps_every_live_key(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db", keep_revisions=5, keep_seconds=0,
                             compact_interval=0)
        revision = await store.create(PODS + "ns/churn", b"0")
        for n in range(1, 30):
            revision = await store.update(PODS + "ns/churn", str(n).encode(),
                                          revision)
        await store.create(PODS + "ns/kept", b"k")
        gone = await store.create(PODS + "ns/gone", b"g")
        await store.delete(PODS + "ns/gone", gone)
        for _ in range(10):  # the writer compacts between batches
            await store.create(PODS + f"ns/filler-{_}", b"f")
        compacted = store.compact_revision()
        with pytest.raises(CompactedError):
            await store.range(PODS, revision=1)
        with pytest.raises(CompactedError):
            await anext(store.watch(PODS, 1))
        latest, _, _ = await store.range(PODS)
        await store.close()
        return compacted, {kv.key.rsplit("/", 1)[1]: kv.value for kv in latest}

    compacted, latest = run(scenario())
    assert compacted > 1
    assert latest["churn"] == b"29" and latest["kept"] == b"k"
    assert "gone" not in latest


def test_compact_drops_the_history_before_a_revision_on_request(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db", compact_interval=3600)
        first = await store.create(PODS + "ns/a", b"1")
        second = await store.update(PODS + "ns/a", b"2", first)
        third = await store.update(PODS + "ns/a", b"3", second)
        await store.compact(second)
        at_second, _, _ = await store.range(PODS, revision=second)
        with pytest.raises(CompactedError):
            await store.range(PODS, revision=first)
        kept = await store.history(PODS, second, third)
        with pytest.raises(CompactedError):
            await store.compact(second)
        with pytest.raises(ValueError):
            await store.compact(third + 1)
        compacted = store.compact_revision()
        await store.close()
        return compacted, at_second, kept, second

    compacted, at_second, kept, second = run(scenario())
    assert compacted == second
    assert [kv.value for kv in at_second] == [b"2"]
    assert [(e.kv.value, e.prev_kv.value) for e in kept] == [(b"3", b"2")]


def test_history_is_dated_by_one_sample_a_second_not_one_per_commit(tmp_path):
    async def scenario():
        store = await opened(tmp_path / "s.db", compact_interval=3600)
        for n in range(200):
            await store.create(PODS + f"ns/p{n}", b"x")
        samples = list(store._writer.samples)
        await store.close()
        return samples, store.current_revision()

    samples, last = run(scenario())
    assert len(samples) <= 3  # 200 commits take well under two seconds
    assert samples[-1][1] == last


def test_acknowledged_writes_survive_a_reopen_and_revisions_keep_growing(tmp_path):
    async def first_life():
        store = await opened(tmp_path / "s.db")
        await asyncio.gather(*(store.create(PODS + f"ns/p{n}", b"x")
                               for n in range(50)))
        last = store.current_revision()
        await store.close()
        return last

    async def second_life():
        store = await opened(tmp_path / "s.db")
        kvs, _, _ = await store.range(PODS)
        next_revision = await store.create(PODS + "ns/after", b"y")
        await store.close()
        return len(kvs), next_revision

    last = run(first_life())
    count, next_revision = run(second_life())
    assert count == 50 and next_revision == last + 1
    assert os.path.exists(tmp_path / "s.db")
