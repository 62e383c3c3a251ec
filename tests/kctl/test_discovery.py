"""The on-disk discovery cache: written once, read by later runs, refreshed
when older than its bounded age."""

from __future__ import annotations

import json
import os
import time

import pytest

from kctl.discovery import CACHE_TTL


@pytest.fixture
def cache_file(api_server, kctl_env):
    host_port = api_server.url.split("://", 1)[1].replace(":", "_")
    return kctl_env / "cache" / "kctl" / "discovery" / f"{host_port}.json"


def _add_short_name(path, resource: str, short_name: str) -> None:
    """A short name only the cache knows, so only a cached read can resolve it."""
    rows = json.loads(path.read_text())
    for row in rows:
        if row["name"] == resource and not row["group"]:
            row["short_names"].append(short_name)
    path.write_text(json.dumps(rows))


def test_the_first_get_writes_the_servers_resources_to_the_cache(kctl, cache_file):
    kctl("get", "pods")

    rows = json.loads(cache_file.read_text())
    assert {"name": "pods", "kind": "Pod", "group": "", "version": "v1"}.items() <= \
        next(row for row in rows if row["name"] == "pods").items()


def test_a_later_get_reads_discovery_from_the_cache(kctl, namespace, cache_file):
    kctl("get", "pods", "-n", namespace)
    _add_short_name(cache_file, "pods", "cachedpo")

    done = kctl("get", "cachedpo", "-n", namespace)

    assert (done.code, done.out) == (0, "")
    assert done.err == f"No resources found in {namespace} namespace.\n"


def test_a_cache_older_than_its_age_is_fetched_again(kctl, namespace, cache_file):
    kctl("get", "pods", "-n", namespace)
    _add_short_name(cache_file, "pods", "cachedpo")
    stale = time.time() - CACHE_TTL - 60
    os.utime(cache_file, (stale, stale))

    done = kctl("get", "cachedpo", "-n", namespace)

    assert (done.code, done.out) == (1, "")
    assert done.err == 'error: the server doesn\'t have a resource type "cachedpo"\n'
    assert "cachedpo" not in cache_file.read_text()
