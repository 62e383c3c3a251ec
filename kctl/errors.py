"""Errors a command raises for the single boundary in kctl.main to print.

Exit codes (docs/cli.md): 0 success, 1 an error from the server or a failed
command, 2 a usage error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """The command failed; the message is printed as ``error: MESSAGE``."""

    exit_code = EXIT_ERROR


class UsageError(CommandError):
    """The command line itself is wrong."""

    exit_code = EXIT_USAGE


class AlreadyReported(CommandError):
    """Some items failed and each failure has been printed already."""

    def __init__(self):
        super().__init__("")
