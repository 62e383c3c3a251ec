"""The query of a list, watch or get: its ListOptions, parsed and checked.

kube-apiserver converts the query to ListOptions (a bad integer is a 400 of
the conversion), validates them (a 422 naming ``ListOptions.meta.k8s.io``:
k8s.io/apimachinery/pkg/apis/meta/internalversion/validation) and leaves the
resourceVersion to its storage to parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from server.cache import Cache
from server.errors import BadRequest, FieldError, Invalid, Timeout
from server.request import query_bool, query_int
from server.validation import forbidden, not_supported

EXACT, NOT_OLDER_THAN = "Exact", "NotOlderThan"
_UINT64_MAX = 2**64 - 1


@dataclass
class ListOptions:
    resource_version: str  # as the client wrote it
    match: str  # resourceVersionMatch
    limit: int  # 0: no limit
    continue_token: str
    send_initial_events: bool | None  # None: not given

    @property
    def revision(self) -> int:
        """The resourceVersion as a revision; 0 for none and for "0"."""
        return parse_resource_version(self.resource_version)

    def exact(self) -> bool:
        """Whether the list is of the state at exactly the resourceVersion:
        asked for, or the legacy meaning of a resourceVersion with a limit."""
        if self.match == EXACT:
            return True
        return self.match == "" and self.limit > 0 and self.revision > 0


def list_options(request: web.Request, watch: bool) -> ListOptions:
    """The request's ListOptions; 400 for a query that does not convert, 422
    for options kube's ValidateListOptions refuses."""
    query = request.query
    limit = query_int(request, "limit") or 0
    query_int(request, "timeoutSeconds")  # a ListOptions field: it must parse
    send = query_bool(request, "sendInitialEvents") \
        if "sendInitialEvents" in query else None
    options = ListOptions(query.get("resourceVersion", ""),
                          query.get("resourceVersionMatch", ""),
                          # A negative limit is no limit, as in kube's storage.
                          max(limit, 0), query.get("continue", ""), send)
    errors = _watch_errors(options) if watch else _list_errors(options)
    if errors:
        raise Invalid("ListOptions", "", errors, group="meta.k8s.io")
    return options


def _list_errors(options: ListOptions) -> list[FieldError]:
    errors, match = [], options.match
    if match:
        if not options.resource_version:
            errors.append(forbidden("resourceVersionMatch", "resourceVersionMatch "
                                    "is forbidden unless resourceVersion is provided"))
        if options.continue_token:
            errors.append(forbidden("resourceVersionMatch", "resourceVersionMatch "
                                    "is forbidden when continue is provided"))
        if match not in (EXACT, NOT_OLDER_THAN):
            errors.append(not_supported("resourceVersionMatch", match,
                                        (EXACT, NOT_OLDER_THAN, "")))
        if match == EXACT and options.resource_version == "0":
            errors.append(forbidden("resourceVersionMatch", 'resourceVersionMatch '
                                    '"exact" is forbidden for resourceVersion "0"'))
    if options.send_initial_events is not None:
        errors.append(forbidden("sendInitialEvents",
                                "sendInitialEvents is forbidden for list"))
    return errors


def _watch_errors(options: ListOptions) -> list[FieldError]:
    errors, match = [], options.match
    if options.send_initial_events is not None and match != NOT_OLDER_THAN:
        errors.append(forbidden("resourceVersionMatch", "sendInitialEvents "
                                "requires setting resourceVersionMatch to "
                                "NotOlderThan"))
    if match:
        if options.send_initial_events is None:
            errors.append(forbidden("resourceVersionMatch", "resourceVersionMatch "
                                    "is forbidden for watch unless "
                                    "sendInitialEvents is provided"))
        if match != NOT_OLDER_THAN:
            errors.append(not_supported("resourceVersionMatch", match,
                                        (NOT_OLDER_THAN,)))
        if options.continue_token:
            errors.append(forbidden("resourceVersionMatch", "resourceVersionMatch "
                                    "is forbidden when continue is provided"))
    return errors


def parse_resource_version(text: str) -> int:
    """A resourceVersion as a revision, as kube's storage reads it (ParseUint).

    kube-apiserver answers a bad one from its etcd store with this 400, but
    from its watch cache with a 500 of the same text (kubernetes#139485);
    kctl answers the 400 for lists, watches and gets alike.
    """
    if text in ("", "0"):
        return 0
    reason = "invalid syntax"
    if re.fullmatch(r"[0-9]+", text):
        if int(text) <= _UINT64_MAX:
            return int(text)
        reason = "value out of range"
    raise BadRequest(f'invalid resource version: resourceVersion: Invalid value: '
                     f'"{text}": strconv.ParseUint: parsing "{text}": {reason}')


async def wait_fresh(cache: Cache, revision: int) -> None:
    """Wait for the cache to reach a resourceVersion newer than its own, as
    kube's watch cache does; 504 if it does not in time."""
    if not await cache.wait_fresh(revision):
        raise Timeout.too_large_resource_version(revision, cache.revision)
