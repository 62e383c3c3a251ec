"""What ``kctl controllers`` can be told, shared by every controller.

Defaults are kube-controller-manager's (and kube-scheduler's). A controller
reads only its own fields; one that needs a new setting adds a field here with
its upstream default and a flag in ``controllers.manager``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ControllerOptions:
    # nodelifecycle: how long a node's Lease may go unrenewed before the node
    # is Unknown, and how often nodes are checked (--node-monitor-period).
    node_monitor_grace_period: float = 40.0
    node_monitor_period: float = 5.0
    # tainteviction: when set, pods on a node tainted unreachable or
    # not-ready are evicted after this many seconds whatever their
    # tolerations say (kube's old --pod-eviction-timeout; a kctl knob for
    # short tests); None honours each pod's tolerationSeconds (the API server
    # defaults 300 s), as the taint manager does. Other taints: always theirs.
    pod_eviction_timeout: float | None = None
    # podgc: how long a pod's node must be missing before the pod is
    # force-deleted (kube's quarantineTime, 40 s, not a flag there).
    pod_gc_quarantine_time: float = 40.0
    # scheduler: how often unschedulable pods are tried again even when
    # nothing changed (kube-scheduler: podMaxInUnschedulablePodsDuration, 5m).
    scheduler_resync_period: float = 300.0
    # Anything a controller added without its own field yet.
    extra: dict = field(default_factory=dict)
