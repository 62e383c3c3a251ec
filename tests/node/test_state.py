"""The agent's state under its data dir (node/state.py)."""

from node.state import StateStore


def test_state_round_trips_and_is_listed_by_uid(tmp_path):
    store = StateStore(tmp_path)

    store.save("uid-1", {"name": "a", "containers": {"c": {"pid": 1}}})
    store.save("uid-2", {"name": "b"})
    store.save("uid-1", {"name": "a", "containers": {}})

    assert store.load("uid-1") == {"name": "a", "containers": {}}
    assert sorted(store.load_all()) == ["uid-1", "uid-2"]
    assert not list(tmp_path.glob("pods/*/*.tmp"))


def test_an_unreadable_state_file_is_ignored(tmp_path):
    store = StateStore(tmp_path)
    store.save("uid-1", {"name": "a"})
    (tmp_path / "pods" / "uid-1" / "state.json").write_text("{not json")

    assert store.load_all() == {}


def test_remove_forgets_state_pipes_and_logs(tmp_path):
    store = StateStore(tmp_path)
    store.save("uid-1", {"name": "a"})
    store.run_dir("uid-1", "c", 0).mkdir(parents=True)
    log_dir = store.log_dir("ns", "a", "uid-1", "c")
    log_dir.mkdir(parents=True)

    store.remove("uid-1", "ns", "a")

    assert store.load("uid-1") is None
    assert not store.pod_dir("uid-1").exists()
    assert not log_dir.parent.exists()
