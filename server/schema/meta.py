"""meta/v1: the metadata every object carries, and the API's own kinds.

Field numbers from k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto.
"""

from __future__ import annotations

from server.schema.dsl import (
    BOOL, INT32, INT64, META, RAW, STRING, TIME, TYPE_META, field, list_of,
    map_of, obj, ref,
)

OBJECT_META = obj(
    "ObjectMeta", META,
    "Metadata every persisted object has: name, namespace, labels, "
    "annotations, and the fields the server maintains.",
    field("name", 1, STRING,
          "The object's name, unique within its namespace (or the cluster, "
          "for cluster-scoped kinds). Cannot be changed."),
    field("generateName", 2, STRING,
          "A prefix from which the server makes a unique name when name is "
          "empty."),
    field("namespace", 3, STRING,
          "The namespace the object lives in; empty for cluster-scoped kinds. "
          "Cannot be changed."),
    field("selfLink", 4, STRING, "Deprecated and always empty."),
    field("uid", 5, STRING,
          "A unique identifier the server assigns at creation. Read-only."),
    field("resourceVersion", 6, STRING,
          "An opaque version of this object, changed on every write; used "
          "for optimistic concurrency and to resume watches. Read-only."),
    field("generation", 7, INT64,
          "A number the server bumps each time the desired state changes. "
          "Read-only."),
    field("creationTimestamp", 8, TIME,
          "When the server created the object (RFC 3339, UTC). Read-only."),
    field("deletionTimestamp", 9, TIME,
          "When a graceful deletion was requested to complete. Read-only.",
          ptr=True),
    field("deletionGracePeriodSeconds", 10, INT64,
          "Seconds the object has to terminate gracefully once deletion is "
          "requested. Read-only.", ptr=True),
    field("labels", 11, map_of(STRING),
          "Key-value pairs used to organise and select objects."),
    field("annotations", 12, map_of(STRING),
          "Key-value pairs for tools and extensions; not used to select."),
    field("ownerReferences", 13, list_of(ref("OwnerReference")),
          "The objects this one depends on; when all of them are gone, the "
          "garbage collector deletes this one.",
          merge_key="uid", strategy="merge", list_type="map",
          map_keys=("uid",)),
    field("finalizers", 14, list_of(STRING),
          "Names of the components that must act before the object is "
          "removed; deletion waits until the list is empty.",
          strategy="merge", list_type="set"),
    field("managedFields", 17, list_of(ref("ManagedFieldsEntry")),
          "Which manager owns which fields, for server-side apply."),
)

LIST_META = obj(
    "ListMeta", META,
    "Metadata of a list: the version it was read at and how to continue it.",
    field("selfLink", 1, STRING, "Deprecated and always empty."),
    field("resourceVersion", 2, STRING,
          "The version the list was read at; start a watch from it."),
    field("continue", 3, STRING,
          "A token to fetch the next chunk when the request set a limit."),
    field("remainingItemCount", 4, INT64,
          "How many items remain after this chunk, when the server knows.",
          ptr=True),
)

OWNER_REFERENCE = obj(
    "OwnerReference", META,
    "Identifies an object that owns this one, in the same namespace.",
    field("apiVersion", 5, STRING, "The owner's API version.", required=True,
          omitempty=False),
    field("kind", 1, STRING, "The owner's kind.", required=True,
          omitempty=False),
    field("name", 3, STRING, "The owner's name.", required=True,
          omitempty=False),
    field("uid", 4, STRING, "The owner's uid.", required=True,
          omitempty=False),
    field("controller", 6, BOOL,
          "Whether the owner is the controller managing this object.",
          ptr=True),
    field("blockOwnerDeletion", 7, BOOL,
          "Whether a foreground deletion of the owner waits for this object.",
          ptr=True),
)

MANAGED_FIELDS_ENTRY = obj(
    "ManagedFieldsEntry", META,
    "The set of fields one manager owns, and how it last wrote them.",
    field("manager", 1, STRING, "The name of the managing workflow."),
    field("operation", 2, STRING, "Apply or Update.",
          enum=("Apply", "Update")),
    field("apiVersion", 3, STRING, "The version the fields are given in."),
    field("time", 4, TIME, "When the manager last changed these fields.",
          ptr=True),
    field("fieldsType", 6, STRING, "The format of fieldsV1: FieldsV1."),
    field("fieldsV1", 7, RAW, "The owned fields, as a field set."),
    field("subresource", 8, STRING,
          "The subresource the fields were written through, if any."),
)

LABEL_SELECTOR = obj(
    "LabelSelector", META,
    "A query over labels: all matchLabels and matchExpressions must hold. An "
    "empty selector matches everything.",
    field("matchLabels", 1, map_of(STRING),
          "Labels that must be present with exactly these values."),
    field("matchExpressions", 2, list_of(ref("LabelSelectorRequirement")),
          "Requirements on label values.", list_type="atomic"),
)

LABEL_SELECTOR_REQUIREMENT = obj(
    "LabelSelectorRequirement", META,
    "One requirement on a label: a key, an operator and values.",
    field("key", 1, STRING, "The label key.", required=True,
          omitempty=False),
    field("operator", 2, STRING, "How the key relates to the values.",
          required=True, omitempty=False,
          enum=("DoesNotExist", "Exists", "In", "NotIn")),
    field("values", 3, list_of(STRING),
          "Values for In and NotIn; empty for Exists and DoesNotExist.",
          list_type="atomic"),
)

STATUS = obj(
    "Status", META,
    "The result of an operation that returns no object, usually a failure.",
    *TYPE_META,
    field("metadata", 1, ref("ListMeta"), "Standard list metadata."),
    field("status", 2, STRING, "Success or Failure."),
    field("message", 3, STRING, "What happened, for a human reader."),
    field("reason", 4, STRING,
          "Why the operation failed, as a CamelCase word (NotFound, "
          "AlreadyExists, Invalid)."),
    field("details", 5, ref("StatusDetails"),
          "More about the failure, depending on the reason.", ptr=True),
    field("code", 6, INT32, "The HTTP status code of the response."),
    gvk=("", "v1", "Status"),
)

STATUS_DETAILS = obj(
    "StatusDetails", META,
    "The object a failure concerns, and its causes.",
    field("name", 1, STRING, "The name of the object concerned."),
    field("group", 2, STRING, "The API group of the object concerned."),
    field("kind", 3, STRING, "The kind (or resource) concerned."),
    field("uid", 6, STRING, "The uid of the object concerned."),
    field("causes", 4, list_of(ref("StatusCause")),
          "The individual problems, such as invalid fields.",
          list_type="atomic"),
    field("retryAfterSeconds", 5, INT32,
          "How long to wait before retrying, when the server suggests it."),
)

STATUS_CAUSE = obj(
    "StatusCause", META,
    "One cause of a failure.",
    field("reason", 1, STRING, "A machine-readable reason."),
    field("message", 2, STRING, "The problem, for a human reader."),
    field("field", 3, STRING, "The path of the field concerned."),
)

PRECONDITIONS = obj(
    "Preconditions", META,
    "Conditions a delete requires of the object.",
    field("uid", 1, STRING, "The uid the object must have.", ptr=True),
    field("resourceVersion", 2, STRING,
          "The resourceVersion the object must have.", ptr=True),
)

DELETE_OPTIONS = obj(
    "DeleteOptions", META,
    "Options of a delete request.",
    *TYPE_META,
    field("gracePeriodSeconds", 1, INT64,
          "Seconds the object may take to terminate; 0 deletes at once.",
          ptr=True),
    field("preconditions", 2, ref("Preconditions"),
          "Conditions the object must meet to be deleted.", ptr=True),
    field("orphanDependents", 3, BOOL,
          "Deprecated: use propagationPolicy.", ptr=True),
    field("propagationPolicy", 4, STRING,
          "Whether and how dependents are garbage collected.", ptr=True,
          enum=("Background", "Foreground", "Orphan")),
    field("dryRun", 5, list_of(STRING),
          "All: go through every step without persisting anything.",
          list_type="atomic"),
    field("ignoreStoreReadErrorWithClusterBreakingPotential", 6, BOOL,
          "Delete an object the server cannot read; may break the cluster.",
          ptr=True),
    gvk=("", "v1", "DeleteOptions"),
)

WATCH_EVENT = obj(
    "WatchEvent", META,
    "One change seen by a watch.",
    field("type", 1, STRING, "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.",
          required=True, omitempty=False),
    field("object", 2, RAW,
          "The object after the change (before it, for DELETED), or a "
          "Status for ERROR.", required=True, omitempty=False),
    gvk=("", "v1", "WatchEvent"),
)

CONDITION = obj(
    "Condition", META, "One condition of an object, in the standard shape.",
    field("type", 1, STRING, "The condition, in CamelCase.", required=True),
    field("status", 2, STRING, "True, False or Unknown.", required=True,
          enum=("False", "True", "Unknown")),
    field("observedGeneration", 3, INT64,
          "The generation the condition was set for."),
    field("lastTransitionTime", 4, TIME, "When the status last changed.",
          required=True),
    field("reason", 5, STRING, "Why, in one CamelCase word.", required=True),
    field("message", 6, STRING, "Why, for a human.", required=True),
)

SCHEMAS = [
    CONDITION,
    OBJECT_META, LIST_META, OWNER_REFERENCE, MANAGED_FIELDS_ENTRY,
    LABEL_SELECTOR, LABEL_SELECTOR_REQUIREMENT, STATUS, STATUS_DETAILS,
    STATUS_CAUSE, PRECONDITIONS, DELETE_OPTIONS, WATCH_EVENT,
]
