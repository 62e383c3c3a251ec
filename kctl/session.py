"""What every command shares: the streams, the connection flags, the client.

Built once per invocation and handed to commands through click's context
object; the client and the discovery are made on first use, so commands that
never talk to the server (config, completion) never pay for them.
"""

from __future__ import annotations

import os
import sys
from kctl.record import field, record

from kctl.config import Overrides


@record
class Session:
    overrides: Overrides = field(default_factory=Overrides)
    out: object = None
    err: object = None
    debug: bool = False
    _connection: object = None
    _client: object = None
    _discovery: object = None
    _warned: set = field(default_factory=set)

    def __post_init__(self):
        self.out = self.out or sys.stdout
        self.err = self.err or sys.stderr

    @property
    def terminal(self) -> bool:
        """Rich output only on a real terminal, and never when NO_COLOR asks."""
        isatty = getattr(self.out, "isatty", None)
        return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"

    @property
    def connection(self):
        if self._connection is None:
            from kctl.config import resolve

            self._connection = resolve(self.overrides)
        return self._connection

    @property
    def namespace(self) -> str:
        return self.connection.namespace

    @property
    def namespace_explicit(self) -> bool:
        return bool(self.overrides.namespace)

    @property
    def client(self):
        if self._client is None:
            from kctl.client import Client

            self._client = Client(self.connection, warn=self._server_warning)
        return self._client

    def _server_warning(self, text: str) -> None:
        # As kubectl's warning writer (Deduplicate: true): each distinct text
        # once per run, however many answers carry it.
        if text not in self._warned:
            self._warned.add(text)
            self.warn(f"Warning: {text}")

    @property
    def discovery(self):
        if self._discovery is None:
            from kctl.discovery import Discovery

            self._discovery = Discovery(self.client)
        return self._discovery

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def warn(self, text: str) -> None:
        self.err.write(text + "\n")
