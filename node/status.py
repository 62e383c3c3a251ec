"""Pod status as the kubelet computes it, from the records of its containers.

Pure functions: ``pod_status`` takes the pod, the container records and the
time, and returns the ``status`` the agent writes. The phase follows the
kubelet's getPhase, the conditions its generate*Condition functions
(pkg/kubelet/status/generate.go), with the same reasons and messages.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

# The zero time containerd reports as startedAt of a container that never ran.
ZERO_TIME = "1970-01-01T00:00:00Z"

KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready",
                      "ContainersReady")


def now_rfc3339(now: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(time.time() if now is None else now))


@dataclass
class ContainerRecord:
    """What the agent knows of one container: its current run and the ones before.

    ``state`` is ``waiting``, ``running`` or ``terminated``. ``terminated`` is
    the API ContainerStateTerminated of the latest run that ended (kept while a
    new run waits or runs, when it is the API's lastState) and
    ``last_terminated`` the one before it. ``run_index`` maps a run's
    containerID to the restart count it ran under, which names its log file.
    """

    name: str
    image: str = ""
    restart_count: int = 0
    state: str = "waiting"
    reason: str = "ContainerCreating"
    message: str = ""
    container_id: str = ""
    started_at: str = ""
    terminated: dict | None = None
    last_terminated: dict | None = None
    finished: float = 0.0  # when the latest run ended, for the back-off
    started: bool = False
    ready: bool = False
    runs: int = 0  # how many runs were tried, including failed starts
    process: dict | None = None  # ProcessIdentity of the running process
    run_index: dict = field(default_factory=dict)
    # Stopped because its spec changed: started again whatever the policy.
    restart_pending: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ContainerRecord":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    def succeeded(self) -> bool:
        return self.terminated is not None and self.terminated.get("exitCode") == 0

    def waiting(self, reason: str, message: str = "") -> bool:
        """Wait with a reason; return whether that is news."""
        news = (self.state, self.reason, self.message) != ("waiting", reason, message)
        self.state, self.reason, self.message = "waiting", reason, message
        self.ready = self.started = False
        return news

    def begin_run(self, container_id: str) -> None:
        """A new run is about to start: a restart unless it is the first."""
        if self.runs:
            self.restart_count += 1
        self.runs += 1
        self.container_id = container_id
        kept = dict(list(self.run_index.items())[-2:])
        self.run_index = {**kept, container_id: self.restart_count}

    def running(self, started_at: str, process: dict) -> None:
        self.state, self.reason, self.message = "running", "", ""
        self.started_at, self.process = started_at, process

    def ended(self, terminated: dict, finished: float) -> None:
        """A run ended (or failed to start): it becomes the latest terminated."""
        self.last_terminated, self.terminated = self.terminated, terminated
        self.finished = finished
        self.state, self.reason, self.message = "terminated", "", ""
        self.process = None
        self.ready = self.started = False

    def api_state(self) -> dict:
        if self.state == "running":
            return {"running": {"startedAt": self.started_at}}
        if self.state == "terminated" and self.terminated is not None:
            return {"terminated": dict(self.terminated)}
        waiting = {"reason": self.reason}
        if self.message:
            waiting["message"] = self.message
        return {"waiting": waiting}

    def api_last_state(self) -> dict:
        last = self.last_terminated if self.state == "terminated" else self.terminated
        return {"terminated": dict(last)} if last else {}

    def api_status(self) -> dict:
        """The ContainerStatus of this container."""
        status = {
            "name": self.name,
            "state": self.api_state(),
            "lastState": self.api_last_state(),
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image,
            "imageID": "",
            "started": self.started,
        }
        if self.container_id:
            status["containerID"] = self.container_id
        return status


def terminated_state(exit_code: int, started_at: str, finished_at: str,
                     container_id: str, reason: str = "",
                     message: str = "") -> dict:
    """A ContainerStateTerminated; the reason defaults as containerd's does."""
    state = {
        "exitCode": exit_code,
        "reason": reason or ("Completed" if exit_code == 0 else "Error"),
        "startedAt": started_at,
        "finishedAt": finished_at,
        "containerID": container_id,
    }
    if message:
        state["message"] = message
    return state


def _go_list(names: list[str]) -> str:
    # Go prints a []string with %s as [a b c].
    return "[" + " ".join(names) + "]"


def is_sidecar(container: dict | None) -> bool:
    """A native sidecar: an init container with restartPolicy Always."""
    return bool(container) and container.get("restartPolicy") == "Always"


def _init_counts(spec: dict, by_name: dict) -> tuple[int, int, int]:
    """Pending regular init containers, failed ones, and pending sidecars."""
    pending = failed = pending_sidecars = 0
    for container in spec.get("initContainers") or []:
        status = by_name.get(container["name"])
        state = status["state"] if status else {}
        last = (status or {}).get("lastState", {}).get("terminated")
        if is_sidecar(container):
            # A sidecar that ran is done initializing; one that exited is ignored.
            if "running" in state:
                pending_sidecars += not status.get("started")
            elif "terminated" not in state and last is None:
                pending_sidecars += 1
        elif "terminated" in state:
            failed += state["terminated"]["exitCode"] != 0
        elif "waiting" in state and last is not None:
            failed += last["exitCode"] != 0
        else:
            pending += 1
    return pending, failed, pending_sidecars


def pod_phase(spec: dict, init: list[dict], app: list[dict],
              terminal: bool = False) -> str:
    """The kubelet's getPhase over API ContainerStatus objects."""
    by_name = {s["name"]: s for s in init + app}
    pending_init, failed_init, pending_sidecars = _init_counts(spec, by_name)

    unknown = running = waiting = stopped = succeeded = 0
    for container in spec.get("initContainers") or []:
        status = by_name.get(container["name"])
        if is_sidecar(container):
            unknown += status is None
            running += status is not None and "running" in status["state"]
    for container in spec.get("containers") or []:
        status = by_name.get(container["name"])
        if status is None:
            unknown += 1
            continue
        state = status["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif "waiting" in state and status.get("lastState", {}).get("terminated"):
            stopped += 1
        elif "waiting" in state:
            waiting += 1
        else:
            unknown += 1

    policy = spec.get("restartPolicy", "Always")
    if failed_init and policy == "Never":
        return "Failed"
    if ((pending_init or pending_sidecars) and not _any_started(app)) or waiting:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _any_started(app: list[dict]) -> bool:
    """Whether an app container has run: the pod was initialized before."""
    return any("running" in s["state"] or "terminated" in s["state"] for s in app)


def _incomplete_message(unknown: list[str], other: list[str], word: str) -> str:
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_go_list(unknown)}")
    if other:
        messages.append(f"containers with {word} status: {_go_list(other)}")
    return ", ".join(messages)


def containers_ready_condition(spec: dict, app: list[dict], phase: str,
                               init: list[dict] = ()) -> dict:
    # Sidecars count as the pod's containers, and come first.
    by_name = {s["name"]: s for s in list(init) + app}
    counted = [c for c in spec.get("initContainers") or [] if is_sidecar(c)] + \
        spec["containers"]
    unknown = [c["name"] for c in counted if c["name"] not in by_name]
    unready = [c["name"] for c in counted
               if c["name"] in by_name and not by_name[c["name"]]["ready"]]
    if phase == "Succeeded" and not unknown:
        return {"type": "ContainersReady", "status": "False", "reason": "PodCompleted"}
    if phase == "Failed":
        return {"type": "ContainersReady", "status": "False", "reason": "PodFailed"}
    message = _incomplete_message(unknown, unready, "unready")
    if message:
        return {"type": "ContainersReady", "status": "False",
                "reason": "ContainersNotReady", "message": message}
    return {"type": "ContainersReady", "status": "True"}


def ready_condition(containers_ready: dict) -> dict:
    condition = dict(containers_ready, type="Ready")
    return condition


def initialized_condition(spec: dict, init: list[dict], app: list[dict],
                          phase: str) -> dict:
    by_name = {s["name"]: s for s in init}
    unknown, incomplete = [], []
    for container in spec.get("initContainers") or []:
        status = by_name.get(container["name"])
        if status is None:
            unknown.append(container["name"])
        elif is_sidecar(container):
            if not status.get("started"):
                incomplete.append(container["name"])
        elif not ("terminated" in status["state"]
                  and status["state"]["terminated"]["exitCode"] == 0):
            incomplete.append(container["name"])
    if phase == "Succeeded" and not unknown:
        return {"type": "Initialized", "status": "True", "reason": "PodCompleted"}
    if _any_started(app):
        return {"type": "Initialized", "status": "True"}
    message = _incomplete_message(unknown, incomplete, "incomplete")
    if message:
        return {"type": "Initialized", "status": "False",
                "reason": "ContainersNotInitialized", "message": message}
    return {"type": "Initialized", "status": "True"}


def ready_to_start_condition(sandbox: bool) -> dict:
    return {"type": "PodReadyToStartContainers",
            "status": "True" if sandbox else "False"}


def with_transition_times(conditions: list[dict], old: list[dict],
                          now: str) -> list[dict]:
    """Keep lastTransitionTime of a condition whose status did not change."""
    previous = {c.get("type"): c for c in old}
    out = []
    for condition in conditions:
        before = previous.get(condition["type"])
        same = before is not None and before.get("status") == condition["status"]
        transition = before.get("lastTransitionTime") if same else None
        out.append(dict(condition, lastProbeTime=None,
                        lastTransitionTime=transition or now))
    return out


def qos_class(spec: dict) -> str:
    """BestEffort, Burstable or Guaranteed, as v1qos.GetPodQOS decides."""
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    any_set, guaranteed = False, True
    for container in containers:
        resources = container.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        if limits or requests:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in limits or requests.get(name, limits[name]) != limits[name]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod_status(pod: dict, init: list[ContainerRecord], app: list[ContainerRecord],
               host_ip: str, start_time: str, now: str, terminal: bool = False,
               sandbox: bool = True) -> dict:
    """The status of ``pod`` from its container records."""
    spec = pod["spec"]
    init_statuses = [r.api_status() for r in init]
    app_statuses = sorted((r.api_status() for r in app), key=lambda s: s["name"])
    phase = pod_phase(spec, init_statuses, app_statuses, terminal)
    old = pod.get("status") or {}
    if old.get("phase") in ("Succeeded", "Failed"):
        phase = old["phase"]  # a terminal phase never changes again

    containers_ready = containers_ready_condition(spec, app_statuses, phase,
                                                  init_statuses)
    conditions = [
        ready_to_start_condition(sandbox and phase not in ("Succeeded", "Failed")),
        initialized_condition(spec, init_statuses, app_statuses, phase),
        ready_condition(containers_ready),
        containers_ready,
        {"type": "PodScheduled", "status": "True"},
    ]
    kept = [c for c in old.get("conditions") or []
            if c.get("type") not in KUBELET_CONDITIONS + ("PodScheduled",)]
    status = {
        "phase": phase,
        "conditions": kept + with_transition_times(
            conditions, old.get("conditions") or [], now),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": host_ip,
        "podIPs": [{"ip": host_ip}],
        "startTime": start_time,
        "containerStatuses": app_statuses,
        "qosClass": old.get("qosClass") or qos_class(spec),
    }
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    return status
