"""The node agent: a kubelet that runs a pod's containers as local processes."""

from __future__ import annotations

import configparser
from importlib import metadata
from pathlib import Path


def version() -> str:
    """The kctl version, from the installed distribution or the source tree."""
    try:
        return metadata.version("kctl")
    except metadata.PackageNotFoundError:
        # Running from a checkout (python -m node): read setup.cfg beside us.
        parser = configparser.ConfigParser()
        parser.read(Path(__file__).resolve().parent.parent / "setup.cfg")
        return parser.get("metadata", "version", fallback="0.0.0")
