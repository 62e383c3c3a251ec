"""The scheduler's view of the cluster: nodes, and what is placed on each.

A pod counts on its node from the moment the scheduler *assumes* it there
(before the binding is even sent, so the next pod already sees the
resources taken) until it is deleted or ends (Succeeded or Failed). The
watch later confirms the pod on the same node; a failed binding forgets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controllers.scheduling.resources import PodRequest, amount

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass
class NodeInfo:
    name: str
    node: dict
    labels: dict = field(default_factory=dict)
    allocatable: dict[str, int] = field(default_factory=dict)
    taints: list[dict] = field(default_factory=list)
    unschedulable: bool = False
    # The taint the node lifecycle controller puts on a node that is not
    # Ready, as a key; "" when the node is Ready.
    readiness_taint: str = ""
    requested: dict[str, int] = field(default_factory=dict)
    nonzero_cpu: int = 0
    nonzero_memory: int = 0
    pods: set[str] = field(default_factory=set)
    ports: dict[str, set] = field(default_factory=dict)
    owners: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, node: dict) -> "NodeInfo":
        info = cls(node["metadata"]["name"], node)
        info.set_node(node)
        return info

    def set_node(self, node: dict) -> None:
        spec, status = node.get("spec") or {}, node.get("status") or {}
        self.node = node
        self.labels = node["metadata"].get("labels") or {}
        self.taints = spec.get("taints") or []
        self.unschedulable = bool(spec.get("unschedulable"))
        self.readiness_taint = _readiness_taint(status)
        self.allocatable = {}
        for name, value in (status.get("allocatable") or {}).items():
            try:
                self.allocatable[name] = amount(name, value)
            except ValueError:
                continue

    def used_ports(self) -> set:
        used = set()
        for ports in self.ports.values():
            used |= ports
        return used

    def add(self, uid: str, request: PodRequest) -> None:
        self.pods.add(uid)
        for name, value in request.requests.items():
            self.requested[name] = self.requested.get(name, 0) + value
        self.nonzero_cpu += request.nonzero_cpu
        self.nonzero_memory += request.nonzero_memory
        if request.ports:
            self.ports[uid] = request.ports
        if request.owner:
            self.owners[request.owner] = self.owners.get(request.owner, 0) + 1

    def remove(self, uid: str, request: PodRequest) -> None:
        self.pods.discard(uid)
        for name, value in request.requests.items():
            self.requested[name] = self.requested.get(name, 0) - value
        self.nonzero_cpu -= request.nonzero_cpu
        self.nonzero_memory -= request.nonzero_memory
        self.ports.pop(uid, None)
        if request.owner:
            self.owners[request.owner] = self.owners.get(request.owner, 1) - 1


def _readiness_taint(status: dict) -> str:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            if condition.get("status") == "True":
                return ""
            if condition.get("status") == "False":
                return NOT_READY_TAINT
            return UNREACHABLE_TAINT
    return NOT_READY_TAINT


def counts_on_node(pod: dict) -> bool:
    """Whether a pod takes resources of its node: bound, not ended."""
    return bool((pod.get("spec") or {}).get("nodeName")) and \
        (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES


class SchedulerCache:
    def __init__(self):
        self.nodes: dict[str, NodeInfo] = {}
        # uid -> (node name, request) of every pod counted on a node.
        self.placed: dict[str, tuple[str, PodRequest]] = {}
        # Pods whose binding is in flight, and the node they are assumed on.
        self.assumed: dict[str, str] = {}

    # -- nodes --------------------------------------------------------------

    def set_node(self, node: dict) -> NodeInfo:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is None:
            info = self.nodes[name] = NodeInfo.of(node)
            self._recount(info)
        else:
            info.set_node(node)
        return info

    def remove_node(self, name: str) -> None:
        # Pods stay counted under the name: a node that comes back has them.
        self.nodes.pop(name, None)

    def replace_nodes(self, nodes: list[dict]) -> None:
        wanted = {n["metadata"]["name"] for n in nodes}
        for name in list(self.nodes):
            if name not in wanted:
                self.remove_node(name)
        for node in nodes:
            self.set_node(node)

    def _recount(self, info: NodeInfo) -> None:
        for uid, (node, request) in self.placed.items():
            if node == info.name:
                info.add(uid, request)

    # -- pods ---------------------------------------------------------------

    def place(self, uid: str, node: str, request: PodRequest) -> None:
        """Count ``uid`` on ``node``; a pod moved or recounted is taken off first."""
        self.unplace(uid)
        self.placed[uid] = (node, request)
        info = self.nodes.get(node)
        if info is not None:
            info.add(uid, request)

    def unplace(self, uid: str) -> None:
        previous = self.placed.pop(uid, None)
        if previous is None:
            return
        info = self.nodes.get(previous[0])
        if info is not None:
            info.remove(uid, previous[1])

    def assume(self, uid: str, node: str, request: PodRequest) -> None:
        self.assumed[uid] = node
        self.place(uid, node, request)

    def forget(self, uid: str) -> None:
        """A binding failed: the pod is not on the node after all."""
        if self.assumed.pop(uid, None) is not None:
            self.unplace(uid)

    def observe_pod(self, pod: dict) -> None:
        """A pod as the watch sees it (added or modified)."""
        uid = pod["metadata"]["uid"]
        if counts_on_node(pod):
            self.assumed.pop(uid, None)
            node = pod["spec"]["nodeName"]
            if self.placed.get(uid, ("",))[0] != node:
                self.place(uid, node, PodRequest.of(pod))
        elif uid not in self.assumed:
            self.unplace(uid)

    def pod_gone(self, uid: str) -> None:
        self.assumed.pop(uid, None)
        self.unplace(uid)

    def replace_pods(self, pods: list[dict]) -> None:
        """After a (re)list: recount from scratch, keeping bindings in flight."""
        in_flight = {uid: self.placed[uid] for uid in self.assumed
                     if uid in self.placed}
        self.placed = {}
        for info in self.nodes.values():
            info.requested, info.pods, info.ports, info.owners = {}, set(), {}, {}
            info.nonzero_cpu = info.nonzero_memory = 0
        for uid, (node, request) in in_flight.items():
            self.place(uid, node, request)
        for pod in pods:
            self.observe_pod(pod)
