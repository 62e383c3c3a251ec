"""Names that do not exist fail at run time, often in a path no other test
takes (a controller's retry, an error branch): pyflakes finds them statically.
Only the messages that are always bugs count here, not style."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyflakes import api, messages, reporter

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("server", "node", "kctl", "controllers", "bench")
BUGS = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport,
        messages.DuplicateArgument, messages.ReturnOutsideFunction)


class Collector(reporter.Reporter):
    def __init__(self):
        self.problems: list[str] = []

    def flake(self, message):
        if isinstance(message, BUGS):
            self.problems.append(str(message))

    def syntaxError(self, filename, msg, lineno, offset, text):
        self.problems.append(f"{filename}:{lineno}: {msg}")

    def unexpectedError(self, filename, msg):
        self.problems.append(f"{filename}: {msg}")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_undefined_names(package):
    collector = Collector()

    api.checkRecursive([str(ROOT / package)], collector)

    assert collector.problems == []
