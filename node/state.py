"""What the agent keeps under its data dir to survive its own restart.

Per pod, ``pods/<uid>/state.json`` holds the pod's name and namespace, its
start time, its grace period and, per container, the record the status is
computed from, including the identity (pid, start time in clock ticks, boot
id) of a running process. A restarted agent adopts a process only if that very
identity is still alive, so a recycled pid is never mistaken for a container.
Files are replaced atomically (write, fsync, rename).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import orjson

log = logging.getLogger("node.state")


class StateStore:
    """The data dir: pod state files, container pipes, logs, working dirs."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.pods_dir = data_dir / "pods"
        self.logs_dir = data_dir / "logs"
        self.pods_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)

    def pod_dir(self, uid: str) -> Path:
        return self.pods_dir / uid

    def run_dir(self, uid: str, container: str, restart_count: int) -> Path:
        """Where the pipes of one container run live."""
        return self.pod_dir(uid) / "containers" / container / str(restart_count)

    def work_dir(self, uid: str) -> Path:
        """The default working directory of a pod's containers."""
        return self.pod_dir(uid) / "work"

    def log_dir(self, namespace: str, name: str, uid: str, container: str) -> Path:
        # The kubelet's layout: /var/log/pods/<namespace>_<name>_<uid>/<container>/
        return self.logs_dir / f"{namespace}_{name}_{uid}" / container

    def save(self, uid: str, state: dict) -> None:
        path = self.pod_dir(uid) / "state.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            handle.write(orjson.dumps(state, option=orjson.OPT_INDENT_2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def load(self, uid: str) -> dict | None:
        path = self.pod_dir(uid) / "state.json"
        try:
            return orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except orjson.JSONDecodeError:
            log.warning("ignoring unreadable state file %s", path)
            return None

    def load_all(self) -> dict[str, dict]:
        """Every pod's saved state, by UID."""
        states = {}
        for pod_dir in sorted(self.pods_dir.iterdir()):
            state = self.load(pod_dir.name)
            if state is not None:
                states[pod_dir.name] = state
        return states

    def remove(self, uid: str, namespace: str = "", name: str = "") -> None:
        """Forget a pod: its state, pipes, working dir and logs."""
        shutil.rmtree(self.pod_dir(uid), ignore_errors=True)
        if namespace and name:
            shutil.rmtree(self.logs_dir / f"{namespace}_{name}_{uid}",
                          ignore_errors=True)
