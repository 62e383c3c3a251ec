"""core/v1 volumes: the volume sources a pod can mount.

Field numbers from k8s.io/api/core/v1/generated.proto.
"""

from __future__ import annotations

SCHEMAS = []
