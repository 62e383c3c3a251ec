"""The review kinds clients create to ask about themselves: who am I
(authentication.k8s.io/v1 SelfSubjectReview) and may I
(authorization.k8s.io/v1 SelfSubjectAccessReview, SelfSubjectRulesReview).

Field numbers from k8s.io/api/authorization/v1 and authentication/v1
generated.proto: kubectl auth sends these as protobuf.
"""

from __future__ import annotations

from server.schema.dsl import (
    AUTHENTICATION, AUTHORIZATION, BOOL, STRING, TYPE_META, field, list_of, obj,
    ref,
)

AUTHZ = ("authorization.k8s.io", "v1")
AUTHN = ("authentication.k8s.io", "v1")


def _review(kind: str, package: str, gvk: tuple[str, str], description: str,
            spec: str | None, status: str) -> list:
    fields = [*TYPE_META,
              field("metadata", 1, ref("ObjectMeta"), "Standard object metadata.")]
    if spec:
        fields.append(field("spec", 2, ref(spec), "The question asked.",
                            required=True))
        fields.append(field("status", 3, ref(status), "The server's answer."))
    else:
        fields.append(field("status", 2, ref(status), "The server's answer."))
    return obj(kind, package, description, *fields, gvk=(*gvk, kind))


SCHEMAS = [
    _review("SelfSubjectAccessReview", AUTHORIZATION, AUTHZ,
            "Whether the requesting user may perform an action.",
            "SelfSubjectAccessReviewSpec", "SubjectAccessReviewStatus"),
    obj("SelfSubjectAccessReviewSpec", AUTHORIZATION,
        "The action asked about: on a resource or on a non-resource URL.",
        field("resourceAttributes", 1, ref("ResourceAttributes"),
              "An action on a resource.", ptr=True),
        field("nonResourceAttributes", 2, ref("NonResourceAttributes"),
              "An action on a non-resource URL.", ptr=True)),
    obj("ResourceAttributes", AUTHORIZATION, "An action on a resource.",
        field("namespace", 1, STRING, "The namespace; empty for all."),
        field("verb", 2, STRING, "The verb: get, list, create, ... or *."),
        field("group", 3, STRING, "The API group; * for all."),
        field("version", 4, STRING, "The API version; * for all."),
        field("resource", 5, STRING, "The resource; * for all."),
        field("subresource", 6, STRING, "The subresource; empty for none."),
        field("name", 7, STRING, "The object's name; empty for all."),
        field("fieldSelector", 8, ref("FieldSelectorAttributes"),
              "The field selector of a list or watch.", ptr=True),
        field("labelSelector", 9, ref("LabelSelectorAttributes"),
              "The label selector of a list or watch.", ptr=True)),
    # TODO: the parsed requirements of the selectors (field 2 of each) are
    # not read; the raw selectors are, and no answer here depends on them.
    obj("FieldSelectorAttributes", AUTHORIZATION, "A field selector.",
        field("rawSelector", 1, STRING, "The selector as written.")),
    obj("LabelSelectorAttributes", AUTHORIZATION, "A label selector.",
        field("rawSelector", 1, STRING, "The selector as written.")),
    obj("NonResourceAttributes", AUTHORIZATION, "An action on a URL path.",
        field("path", 1, STRING, "The URL path."),
        field("verb", 2, STRING, "The HTTP verb, lower case.")),
    obj("SubjectAccessReviewStatus", AUTHORIZATION, "The answer.",
        field("allowed", 1, BOOL, "Whether the action is allowed.",
              required=True),
        field("denied", 4, BOOL, "Whether the action is explicitly denied."),
        field("reason", 2, STRING, "Why."),
        field("evaluationError", 3, STRING,
              "What went wrong while deciding, if anything.")),
    _review("SelfSubjectRulesReview", AUTHORIZATION, AUTHZ,
            "Every action the requesting user may perform in a namespace.",
            "SelfSubjectRulesReviewSpec", "SubjectRulesReviewStatus"),
    obj("SelfSubjectRulesReviewSpec", AUTHORIZATION, "The namespace asked about.",
        field("namespace", 1, STRING, "The namespace.")),
    obj("SubjectRulesReviewStatus", AUTHORIZATION, "The rules that apply.",
        field("resourceRules", 1, list_of(ref("ResourceRule")),
              "Actions allowed on resources.", required=True),
        field("nonResourceRules", 2, list_of(ref("NonResourceRule")),
              "Actions allowed on URL paths.", required=True),
        field("incomplete", 3, BOOL, "Whether the list may be missing rules.",
              required=True),
        field("evaluationError", 4, STRING, "What went wrong, if anything.")),
    obj("ResourceRule", AUTHORIZATION, "Verbs allowed on resources.",
        field("verbs", 1, list_of(STRING), "The verbs.", required=True),
        field("apiGroups", 2, list_of(STRING), "The API groups."),
        field("resources", 3, list_of(STRING), "The resources."),
        field("resourceNames", 4, list_of(STRING), "The object names.")),
    obj("NonResourceRule", AUTHORIZATION, "Verbs allowed on URL paths.",
        field("verbs", 1, list_of(STRING), "The verbs.", required=True),
        field("nonResourceURLs", 2, list_of(STRING), "The URL paths.")),
    _review("SelfSubjectReview", AUTHENTICATION, AUTHN,
            "Who the server takes the requesting user to be.", None,
            "SelfSubjectReviewStatus"),
    obj("SelfSubjectReviewStatus", AUTHENTICATION, "The user.",
        field("userInfo", 1, ref("UserInfo"), "The user's attributes.")),
    # TODO: UserInfo.extra (field 4, a map of string lists) is never set here.
    obj("UserInfo", AUTHENTICATION, "A user's attributes.",
        field("username", 1, STRING, "The user's name."),
        field("uid", 2, STRING, "The user's unique id."),
        field("groups", 3, list_of(STRING), "The groups the user is in.")),
]
