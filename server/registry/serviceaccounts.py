"""ServiceAccounts: the identities that pods run as."""

from __future__ import annotations

from server.errors import FieldError
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podspec import as_list
from server.validation import (
    name_is_dns_subdomain,
    validate_object_meta,
    validate_object_meta_update,
)

_SECRETS_DOC = (
    "Secrets is a list of the secrets in the same namespace that pods running "
    "using this ServiceAccount are allowed to use. Pods are only limited to this "
    'list if this service account has a "kubernetes.io/enforce-mountable-secrets" '
    'annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" '
    "annotation is deprecated since v1.32. Prefer separate namespaces to isolate "
    "access to mounted secrets. This field should not be used to find "
    "auto-generated service account token secrets for use outside of pods. "
    "Instead, tokens can be requested directly using the TokenRequest API, or "
    "service account token secrets can be manually created. More info: "
    "https://kubernetes.io/docs/concepts/configuration/secret"
)


class ServiceAccountKind(Kind):
    kind = "ServiceAccount"
    resource = "serviceaccounts"
    singular = "serviceaccount"
    short_names = ("sa",)
    # TODO: kube-apiserver also serves serviceaccounts/token (TokenRequest);
    # it needs a token signer and an authenticator that trusts its tokens,
    # and this server only knows the static tokens of --token-file.

    def prepare_create(self, obj: dict) -> None:
        _clean_secret_references(obj)

    def prepare_update(self, obj: dict, old: dict) -> None:
        _clean_secret_references(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        return validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns_subdomain)

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        return validate_object_meta_update(obj, old) + self.validate(obj)

    def columns(self) -> list[Column]:
        return [name_column(),
                Column("Secrets", lambda o: len(as_list(o.get("secrets"))),
                       description=_SECRETS_DOC),
                age_column()]


def _clean_secret_references(obj: dict) -> None:
    # A secret of a service account is always in its namespace: kube keeps
    # only the name of each reference (cleanSecretReferences).
    secrets = obj.get("secrets")
    if isinstance(secrets, list):
        obj["secrets"] = [_name_only(ref) for ref in secrets]


def _name_only(ref: object) -> object:
    if not isinstance(ref, dict):
        return ref
    return {"name": ref["name"]} if ref.get("name") else {}
