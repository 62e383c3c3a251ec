"""What a client may ask about itself: SelfSubjectReview (who am I),
SelfSubjectAccessReview (may I) and SelfSubjectRulesReview (what may I).

These kinds are created and answered, never stored. This server authorizes
every request it has authenticated (there is no RBAC), so every question of
"may I" is answered yes, and says why.
"""

from __future__ import annotations

from server.auth import User
from server.errors import FieldError
from server.registry.base import Kind
from server.registry.podspec import as_dict

ANONYMOUS = User("system:anonymous", "", ("system:unauthenticated",))
REASON = "kctl allows every request it has authenticated"


class ReviewKind(Kind):
    """A kind that is only ever created, and answered in the created object."""

    virtual = True
    namespaced = False
    verbs = ("create",)

    def review(self, obj: dict, user: User | None) -> dict:
        raise NotImplementedError


def _answered(obj: dict, status: dict) -> dict:
    meta = as_dict(obj.get("metadata"))
    meta.setdefault("creationTimestamp", None)
    return {"kind": obj.get("kind"), "apiVersion": obj.get("apiVersion"),
            "metadata": meta, **({"spec": obj["spec"]} if "spec" in obj else {}),
            "status": status}


class SelfSubjectReviewKind(ReviewKind):
    group = "authentication.k8s.io"
    kind = "SelfSubjectReview"
    resource = "selfsubjectreviews"
    singular = "selfsubjectreview"

    def review(self, obj: dict, user: User | None) -> dict:
        user = user or ANONYMOUS
        info = {"username": user.name}
        if user.uid:
            info["uid"] = user.uid
        groups = list(user.groups)
        if user is not ANONYMOUS and "system:authenticated" not in groups:
            groups.append("system:authenticated")
        info["groups"] = groups
        return _answered(obj, {"userInfo": info})


class SelfSubjectAccessReviewKind(ReviewKind):
    group = "authorization.k8s.io"
    kind = "SelfSubjectAccessReview"
    resource = "selfsubjectaccessreviews"
    singular = "selfsubjectaccessreview"

    def validate(self, obj: dict) -> list[FieldError]:
        # kube's ValidateSelfSubjectAccessReviewSpec.
        spec = as_dict(obj.get("spec"))
        resource = spec.get("resourceAttributes")
        url = spec.get("nonResourceAttributes")
        if resource and url:
            return [FieldError("Invalid value", "spec.nonResourceAttributes", url,
                               "cannot be specified in combination with "
                               "resourceAttributes")]
        if not resource and not url:
            return [FieldError("Invalid value", "spec.resourceAttributes", None,
                               "exactly one of nonResourceAttributes or "
                               "resourceAttributes must be specified")]
        return []

    def review(self, obj: dict, user: User | None) -> dict:
        return _answered(obj, {"allowed": True, "reason": REASON})


class SelfSubjectRulesReviewKind(ReviewKind):
    group = "authorization.k8s.io"
    kind = "SelfSubjectRulesReview"
    resource = "selfsubjectrulesreviews"
    singular = "selfsubjectrulesreview"

    def validate(self, obj: dict) -> list[FieldError]:
        if not as_dict(obj.get("spec")).get("namespace"):
            return [FieldError("Required value", "spec.namespace")]
        return []

    def review(self, obj: dict, user: User | None) -> dict:
        return _answered(obj, {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"],
                               "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False})


def kinds() -> list[Kind]:
    return [SelfSubjectReviewKind(), SelfSubjectAccessReviewKind(),
            SelfSubjectRulesReviewKind()]
