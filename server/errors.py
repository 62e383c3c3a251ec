"""The API errors of the server, and their rendering as a Kubernetes Status.

Handlers, the registry and validation raise an :class:`APIError` anywhere; one
middleware in :mod:`server.app` turns it into a ``Status`` body. The reasons and
codes are those of k8s.io/apimachinery/pkg/apis/meta/v1 (StatusReason).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One invalid field, as k8s.io/apimachinery/pkg/util/validation/field.Error."""

    type: str  # "Required value", "Invalid value", ...
    field: str  # "spec.containers[0].image"
    value: object = None
    detail: str = ""

    # The cause reason Kubernetes puts in Status.details.causes for each type.
    REASONS = {
        "Required value": "FieldValueRequired",
        "Invalid value": "FieldValueInvalid",
        "Unsupported value": "FieldValueNotSupported",
        "Duplicate value": "FieldValueDuplicate",
        "Forbidden": "FieldValueForbidden",
        "Too long": "FieldValueTooLong",
        "Too many": "FieldValueTooMany",
        "Not found": "FieldValueNotFound",
    }

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def body(self) -> str:
        """The error without its field path, as field.Error.ErrorBody writes it."""
        text = self.type
        if self.type in ("Invalid value", "Unsupported value", "Duplicate value",
                         "Not found", "Too many"):
            text += f": {_go_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def cause(self) -> dict:
        return {
            "reason": self.REASONS.get(self.type, "FieldValueInvalid"),
            "message": self.body(),
            "field": self.field,
        }


def _go_value(value: object) -> str:
    # field.Error prints strings quoted and other values as Go's %v would.
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


class APIError(Exception):
    """An error the API answers with, as a Status of ``code`` and ``reason``."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict | None = None,
                 code: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code
        if reason is not None:
            self.reason = reason

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details:
            body["details"] = self.details
        return body


def _details(resource: str, name: str, group: str = "") -> dict:
    details = {"name": name, "kind": resource}
    if group:
        details["group"] = group
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


class BadRequest(APIError):
    code = 400
    reason = "BadRequest"


class Unauthorized(APIError):
    code = 401
    reason = "Unauthorized"


class Forbidden(APIError):
    code = 403
    reason = "Forbidden"


class NotFound(APIError):
    code = 404
    reason = "NotFound"

    @classmethod
    def object(cls, resource: str, name: str, group: str = "") -> "NotFound":
        message = f'{_qualified(resource, group)} "{name}" not found'
        return cls(message, details=_details(resource, name, group))


class MethodNotAllowed(APIError):
    code = 405
    reason = "MethodNotAllowed"


class NotAcceptable(APIError):
    code = 406
    reason = "NotAcceptable"


class AlreadyExists(APIError):
    code = 409
    reason = "AlreadyExists"

    @classmethod
    def object(cls, resource: str, name: str, group: str = "") -> "AlreadyExists":
        message = f'{_qualified(resource, group)} "{name}" already exists'
        return cls(message, details=_details(resource, name, group))


class Conflict(APIError):
    code = 409
    reason = "Conflict"

    @classmethod
    def stale(cls, resource: str, name: str, group: str = "") -> "Conflict":
        # The message kube-apiserver gives for a stale resourceVersion.
        message = (
            f'Operation cannot be fulfilled on {_qualified(resource, group)} '
            f'"{name}": the object has been modified; please apply your changes '
            "to the latest version and try again"
        )
        return cls(message, details=_details(resource, name, group))

    @classmethod
    def object(cls, resource: str, name: str, why: str,
               group: str = "") -> "Conflict":
        message = (f"Operation cannot be fulfilled on "
                   f'{_qualified(resource, group)} "{name}": {why}')
        return cls(message, details=_details(resource, name, group))


class Gone(APIError):
    code = 410
    reason = "Expired"

    def __init__(self, message: str, *, continue_token: str = "", **kw):
        super().__init__(message, **kw)
        self.continue_token = continue_token

    def status(self) -> dict:
        # An expired continue token's Status offers one to go on with, in
        # its ListMeta, as kube-apiserver's does.
        body = super().status()
        if self.continue_token:
            body["metadata"]["continue"] = self.continue_token
        return body


class RequestEntityTooLarge(APIError):
    code = 413
    reason = "RequestEntityTooLarge"


class UnsupportedMediaType(APIError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(APIError):
    code = 422
    reason = "Invalid"

    def __init__(self, kind: str, name: str, errors: list[FieldError],
                 group: str = ""):
        if len(errors) == 1:
            summary = str(errors[0])
        else:
            summary = "[" + ", ".join(str(e) for e in errors) + "]"
        # Kubernetes names a kind outside the core group with its group:
        # Deployment.apps "x" is invalid.
        qualified = f"{kind}.{group}" if group else kind
        message = f'{qualified} "{name}" is invalid: {summary}'
        details = {"name": name, "kind": kind,
                   "causes": [e.cause() for e in errors]}
        if group:
            details["group"] = group
        super().__init__(message, details=details)
        self.errors = errors


class TooManyRequests(APIError):
    code = 429
    reason = "TooManyRequests"


class Timeout(APIError):
    code = 504
    reason = "Timeout"

    @classmethod
    def too_large_resource_version(cls, minimum: int, current: int) -> "Timeout":
        # storage.NewTooLargeResourceVersionError, as the watch cache answers
        # a resourceVersion it has not reached after waiting for it; client-go
        # retries after retryAfterSeconds.
        details = {"causes": [{"reason": "ResourceVersionTooLarge",
                               "message": "Too large resource version"}],
                   "retryAfterSeconds": 1}
        return cls(f"Timeout: Too large resource version: {minimum}, "
                   f"current: {current}", details=details)


class InternalError(APIError):
    code = 500
    reason = "InternalError"


class ServiceUnavailable(APIError):
    code = 503
    reason = "ServiceUnavailable"
