"""Bearer tokens from a static token file, as kube-apiserver's --token-file."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from server.errors import Unauthorized


@dataclass(frozen=True)
class User:
    name: str
    uid: str
    groups: tuple[str, ...] = ()


class TokenAuthenticator:
    def __init__(self, tokens: dict[str, User]):
        self.tokens = tokens

    @classmethod
    def from_file(cls, path: str) -> "TokenAuthenticator":
        """Read ``token,user,uid[,"group1,group2"]`` lines."""
        tokens = {}
        with open(path, newline="") as f:
            for number, row in enumerate(csv.reader(f), 1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) < 3 or not row[0]:
                    raise ValueError(f"{path}:{number}: want token,user,uid")
                groups = tuple(g for g in row[3].split(",") if g) if len(row) > 3 else ()
                tokens[row[0]] = User(row[1], row[2], groups)
        if not tokens:
            raise ValueError(f"{path}: no tokens")
        return cls(tokens)

    def authenticate(self, header: str) -> User:
        scheme, _, token = header.partition(" ")
        user = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise Unauthorized("Unauthorized")
        return user

    def any_token(self) -> str:
        return next(iter(self.tokens))
