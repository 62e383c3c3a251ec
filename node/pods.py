"""Pod workers: each pod bound to this node has one, reconciling what its spec
asks for against the processes that run, and writing the status back.

A worker wakes on a watch event, on a container's exit, on a probe result, on a
back-off deadline and on the periodic resync. Each sync:

- terminating (deletionTimestamp set, or the pod is gone): stop every container
  with the grace period, record the final state, then delete the pod with grace
  0 and a UID precondition;
- otherwise: record exits, restart containers that failed a liveness or startup
  probe, run the init containers one by one, then start the app containers
  together, honouring restartPolicy and the restart back-off;
- compute the status and write it when it changed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

from node.backoff import RestartBackoff, RetryDelay, go_duration
from node.client import TRANSIENT, APIClient, Conflict, NotFound, pod_path
from node.env import ConfigError, command_line, container_env, pod_services, \
    service_env
from node.events import EventRecorder
from node.probes import ContainerProbes
from node.runtime import process as proc
from node import termination
from node.runtime.logfile import LogFile, PipeReader, parse_rfc3339
from node.state import StateStore
from node.hooks import run_hook
from node.status import ZERO_TIME, ContainerRecord, is_sidecar, now_rfc3339, \
    pod_status, terminated_state, with_transition_times

log = logging.getLogger("node.pods")

NO_COMMAND = "CommandRequired"
NO_COMMAND_MESSAGE = (
    'container "{name}" has no command or args: the kctl process runtime runs a '
    "local command and cannot run an image's entrypoint; set command (and args)")
LOST_EXIT = ("ContainerStatusUnknown",
             "The container's exit code was lost: it ended while the node agent "
             "was not running")
DEFAULT_GRACE = 30
# The kubelet gives every container at least this long between SIGTERM and
# SIGKILL, whatever its hooks and turn took (minimumGracePeriodInSeconds).
MINIMUM_GRACE = 2
# The kubelet's graceful node shutdown (pkg/kubelet/nodeshutdown): what a pod it
# stopped because the node goes away says.
SHUTDOWN_REASON = "Terminated"
SHUTDOWN_MESSAGE = "Pod was terminated in response to imminent node shutdown."
# Not a kubelet reason: the kubelet mounts every volume or does not start the pod.
VOLUMES_REASON = "VolumesNotMounted"


@dataclass
class NodeContext:
    """What every pod worker shares."""

    client: APIClient
    store: StateStore
    events: EventRecorder
    backoff: RestartBackoff
    http: aiohttp.ClientSession
    node_name: str
    host_ip: str
    retry_period: float = 10.0
    services: "ServiceReader" = field(default_factory=lambda: ServiceReader())


class ServiceReader:
    """The services of a namespace, read once for every container that starts
    within a second of another: a hundred pods starting together would
    otherwise each list them.

    TODO: the kubelet keeps an informer of services instead.
    """

    FRESH_FOR = 1.0

    def __init__(self):
        self.read: dict[str, tuple[float, asyncio.Future]] = {}

    async def get(self, client: APIClient, path: str):
        """The answer to GET ``path`` (NotFound as None), at most a second old;
        requests made while one is in flight share it."""
        now = time.monotonic()
        cached = self.read.get(path)
        if cached is None or now - cached[0] > self.FRESH_FOR or (
                cached[1].done() and cached[1].exception() is not None):
            future = asyncio.ensure_future(self._fetch(client, path))
            cached = self.read[path] = (now, future)
        return await asyncio.shield(cached[1])

    @staticmethod
    async def _fetch(client: APIClient, path: str):
        try:
            return await client.get(path)
        except NotFound:
            return None


@dataclass
class Run:
    """A live container process and what reads its pipes and probes it."""

    process: proc.ContainerProcess
    logfile: LogFile
    readers: list[PipeReader]
    probes: ContainerProbes
    watcher: asyncio.Task | None = None
    env: dict = field(default_factory=dict)
    cwd: str = ""


class LogUnavailable(Exception):
    """No log for this request; the message is the kubelet's."""


class ExecUnavailable(Exception):
    """No command can run in this container now; the message is the kubelet's."""


class PodWorker:
    def __init__(self, ctx: NodeContext, pod: dict, saved: dict | None = None,
                 rejection: tuple[str, str] | None = None):
        self.ctx = ctx
        self.pod = pod
        meta = pod["metadata"]
        self.uid = meta["uid"]
        self.namespace = meta.get("namespace", "default")
        self.name = meta["name"]
        self.rejection = rejection
        self.saved = saved or {}
        self.start_time = (self.saved.get("startTime")
                           or (pod.get("status") or {}).get("startTime")
                           or now_rfc3339())
        self.records: dict[str, ContainerRecord] = {
            name: ContainerRecord.from_dict(data)
            for name, data in (self.saved.get("containers") or {}).items()}
        self.runs: dict[str, Run] = {}
        self.gone = False
        self.done = False
        self.shut_down = False
        self.wake = asyncio.Event()
        self.changed = asyncio.Event()  # the pod was updated or removed
        self.task: asyncio.Task | None = None
        self._deadline: float | None = None
        self._sent: dict | None = None
        self._saved_bytes = b""
        self.volumes_warned = bool(self.saved.get("volumesWarned"))

    # -- the loop ---------------------------------------------------------------

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def start(self) -> asyncio.Task:
        self.task = asyncio.create_task(self.run(), name=f"pod {self.key}")
        return self.task

    def update(self, pod: dict) -> None:
        self.pod = pod
        self.wake.set()
        self.changed.set()

    def removed(self) -> None:
        """The pod is gone from the API server: stop what is left of it."""
        self.gone = True
        self.wake.set()
        self.changed.set()

    async def run(self) -> None:
        retry = RetryDelay(initial=1.0, cap=30.0)
        await self._adopt()
        while not self.done:
            self.wake.clear()
            self._deadline = None
            try:
                await self.sync()
                retry.reset()
            except TRANSIENT as err:
                log.warning("pod %s: sync failed: %s", self.key, err)
                self._wake_in(retry())
            except Exception:
                log.error("pod %s: sync failed", self.key, exc_info=True)
                self._wake_in(retry())
            if not self.done:
                await self._sleep()

    async def _sleep(self) -> None:
        timeout = None
        if self._deadline is not None:
            timeout = max(0.0, self._deadline - asyncio.get_running_loop().time())
        try:
            await asyncio.wait_for(self.wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def _wake_in(self, seconds: float) -> None:
        at = asyncio.get_running_loop().time() + seconds
        self._deadline = at if self._deadline is None else min(self._deadline, at)

    async def sync(self) -> None:
        if self._terminating():
            await self._terminate()
            return
        if self.rejection is None and not self.is_terminal():
            self._warn_of_volumes()
            self._collect_exits()
            await self._restart_unhealthy()
            await self._restart_changed()
            if await self._sync_init_containers():
                for spec in self.pod["spec"]["containers"]:
                    await self._sync_container(spec)
                await self._stop_sidecars_when_done()
        elif self.runs:
            # A failed init container made the pod Failed: its sidecars go too.
            await self._stop_containers(self._grace())
        await self._report()
        self.save()

    # -- desired state ----------------------------------------------------------

    def _terminating(self) -> bool:
        return self.gone or bool(self.pod["metadata"].get("deletionTimestamp"))

    def is_terminal(self) -> bool:
        return (self.pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")

    def _record(self, spec: dict) -> ContainerRecord:
        record = self.records.get(spec["name"])
        if record is None:
            record = self.records[spec["name"]] = ContainerRecord(spec["name"])
            if self.pod["spec"].get("initContainers"):
                # The kubelet's default waiting reason in a pod with init
                # containers, until each container is started.
                record.reason = "PodInitializing"
        if record.state != "running":
            # A running container reports the image it was started as.
            record.image = spec.get("image", "")
        return record

    def _is_init(self, spec: dict) -> bool:
        return spec in (self.pod["spec"].get("initContainers") or [])

    def _warn_of_volumes(self) -> None:
        """Say once that the pod's volumes are not there: a process has no
        mount namespace, so a mountPath such as /etc/config cannot be made."""
        # TODO: configMap, secret and emptyDir volumes could be written to a
        # per-pod directory whose path a variable names; no mountPath would
        # hold them still, so the pods would need changing either way.
        volumes = [v.get("name", "") for v in self.pod["spec"].get("volumes") or []]
        if self.volumes_warned or not volumes:
            return
        self.volumes_warned = True
        mounts = sorted({m.get("mountPath", "") for c in self._containers()
                         for m in c.get("volumeMounts") or []})
        message = (f"volumes [{' '.join(volumes)}] are not mounted: the kctl process "
                   "runtime does not mount volumes")
        if mounts:
            message += f", so [{' '.join(mounts)}] do not exist for the containers"
        log.warning("pod %s: %s", self.key, message)
        self._event(None, "Warning", VOLUMES_REASON, message)

    def _containers(self) -> list[dict]:
        spec = self.pod["spec"]
        return (spec.get("initContainers") or []) + spec["containers"]

    def _should_restart(self, spec: dict, record: ContainerRecord) -> bool:
        policy = self.pod["spec"].get("restartPolicy", "Always")
        if is_sidecar(spec):
            # Restarted whatever the pod's policy, until the app containers are done.
            return not self._app_containers_done()
        if self._is_init(spec):
            return policy != "Never" and not record.succeeded()
        return policy == "Always" or (policy == "OnFailure" and not record.succeeded())

    def _app_containers_done(self) -> bool:
        """Every app container has ended and will not run again."""
        for spec in self.pod["spec"]["containers"]:
            record = self.records.get(spec["name"])
            if record is None or not record.runs or record.state == "running" or \
                    record.restart_pending or self._should_restart(spec, record):
                return False
        return True

    async def _sync_init_containers(self) -> bool:
        """Start the init containers in order: a regular one must succeed, a
        sidecar must have started (its startup probe passed) before the next
        begins; True once all did. Sidecars that exit are started again."""
        initialized = any(self.records.get(c["name"]) and
                          self.records[c["name"]].runs
                          for c in self.pod["spec"]["containers"])
        for spec in self.pod["spec"].get("initContainers") or []:
            record = self._record(spec)
            if is_sidecar(spec):
                if record.state != "running":
                    await self._sync_container(spec)
                run = self.runs.get(spec["name"])
                if not initialized and not (run and run.probes.started):
                    return False
                continue
            if initialized or (record.succeeded() and record.state == "terminated"):
                continue
            if record.state != "running":
                await self._sync_container(spec)
            return False
        return True

    async def _stop_sidecars_when_done(self) -> None:
        """Once the app containers are done for good, the sidecars stop, and
        the pod can complete."""
        if self.runs and self._app_containers_done() and all(
                is_sidecar(self.spec_of(name)) for name in self.runs):
            await self._stop_containers(self._grace())

    async def _sync_container(self, spec: dict) -> None:
        record = self._record(spec)
        if record.state == "running":
            return
        if record.restart_pending:
            record.restart_pending = False
        elif record.runs:
            if not self._should_restart(spec, record):
                return
            key = f"{self.uid}/{spec['name']}"
            backoff = self.ctx.backoff
            if backoff.in_backoff_since(key, record.finished):
                self._wait_back_off(spec, record, key)
                return
            backoff.next(key, record.finished)
        await self._start(spec, record)

    def _wait_back_off(self, spec: dict, record: ContainerRecord, key: str) -> None:
        delay = go_duration(self.ctx.backoff.delay(key))
        message = (f"back-off {delay} restarting failed container={spec['name']} "
                   f"pod={self.name}_{self.namespace}({self.uid})")
        if record.waiting("CrashLoopBackOff", message):
            self._event(spec, "Warning", "BackOff",
                        f"Back-off restarting failed container {spec['name']} in pod "
                        f"{self.name}_{self.namespace}({self.uid})")
        self._wake_in(self.ctx.backoff.remaining(key, record.finished))

    # -- starting and stopping --------------------------------------------------

    async def _start(self, spec: dict, record: ContainerRecord) -> None:
        # With args alone, the image's entrypoint would run them. Images whose
        # entrypoint is empty (busybox, alpine, python) run the args as the
        # command, and so does the process runtime: `kubectl run x -- sleep 1`
        # sends exactly that.
        if not spec.get("command") and not spec.get("args"):
            self._fail_config(spec, record, NO_COMMAND,
                              NO_COMMAND_MESSAGE.format(name=spec["name"]))
            return
        # Nothing is pulled: the image names what the local command stands for.
        # The kubelet's event for an image already on the machine fits that.
        self._event(spec, "Normal", "Pulled",
                    f'Container image "{spec.get("image", "")}" already present '
                    "on machine")
        try:
            env = await container_env(self.pod, spec, self.ctx.host_ip, self._lookup,
                                      await self._service_variables())
        except ConfigError as err:
            self._fail_config(spec, record, "CreateContainerConfigError", str(err))
            self._wake_in(self.ctx.retry_period)
            return
        full_env = {**proc.base_env(), "HOSTNAME": self._hostname(), **env}
        container_id = "process://" + secrets.token_hex(32)
        record.begin_run(container_id)
        full_env[termination.ENV_VAR] = str(termination.prepare(
            self.ctx.store.run_dir(self.uid, spec["name"], record.restart_count)))
        cwd = spec.get("workingDir") or str(self._work_dir())
        logfile, readers, pipes = self._open_logs(spec["name"], record.restart_count)
        try:
            process = proc.start(command_line(spec, env), full_env, cwd, *pipes)
        except proc.StartError as err:
            self._close_logs(logfile, readers)
            record.ended(terminated_state(128, ZERO_TIME, now_rfc3339(), container_id,
                                          "StartError", err.message), time.time())
            self._event(spec, "Warning", "Failed", f"Error: {err.message}")
            self.wake.set()
            return
        record.running(now_rfc3339(), process.identity.to_dict())
        run = self._attach(spec, process, logfile, readers, full_env, cwd)
        self.save()
        log.info("pod %s: started container %s (pid %d)", self.key, spec["name"],
                 process.pid)
        self._event(spec, "Normal", "Created", f"Created container {spec['name']}")
        self._event(spec, "Normal", "Started", f"Started container {spec['name']}")
        await self._post_start(spec, record, run)

    async def _post_start(self, spec: dict, record: ContainerRecord, run: Run) -> None:
        """Run the postStart hook; the kubelet kills a container whose hook
        failed. Nothing else of the pod starts until the hook has ended, and a
        deletion cuts it short."""
        handler = (spec.get("lifecycle") or {}).get("postStart")
        if not handler:
            return
        hook = asyncio.create_task(run_hook(handler, self.pod, spec, run.env,
                                            run.cwd, self.ctx.http))
        stopping = asyncio.create_task(self._deletion_requested())
        await asyncio.wait({hook, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not hook.done():
            hook.cancel()
            return
        message = hook.result()
        if message is None:
            return
        log.warning("pod %s: %s", self.key, message)
        # Only this much in the event, as the kubelet: the message may hold secrets.
        self._event(spec, "Warning", "FailedPostStartHook", "PostStartHook failed")
        self._event(spec, "Normal", "Killing", "FailedPostStartHook")
        await self._kill(spec["name"], self._grace())
        self._finish(spec["name"], run)
        if self._should_restart(spec, record):
            record.waiting("PostStartHookError", message)

    async def _deletion_requested(self) -> None:
        while not self._terminating():
            await self.changed.wait()
            self.changed.clear()

    def _fail_config(self, spec: dict, record: ContainerRecord, reason: str,
                     message: str) -> None:
        if record.waiting(reason, message):
            log.warning("pod %s: container %s: %s", self.key, spec["name"], message)
            self._event(spec, "Warning", "Failed", f"Error: {message}")

    def _open_logs(self, name: str, restart_count: int
                   ) -> tuple[LogFile, list[PipeReader], tuple[Path, Path]]:
        store = self.ctx.store
        pipes = proc.make_pipes(store.run_dir(self.uid, name, restart_count))
        logfile = LogFile(store.log_dir(self.namespace, self.name, self.uid, name),
                          restart_count)
        readers = [PipeReader(proc.open_reader(path), stream, logfile)
                   for path, stream in zip(pipes, ("stdout", "stderr"))]
        return logfile, readers, pipes

    @staticmethod
    def _close_logs(logfile: LogFile, readers: list[PipeReader]) -> None:
        for reader in readers:
            reader.drain()
            reader.close()
        logfile.close()

    def _attach(self, spec: dict, process: proc.ContainerProcess, logfile: LogFile,
                readers: list[PipeReader], env: dict, cwd: str) -> Run:
        name = spec["name"]
        probes = ContainerProbes(
            spec, env, cwd, self.ctx.http, on_change=self.wake.set,
            on_event=lambda m: self._event(spec, "Warning", "Unhealthy", m))
        run = Run(process, logfile, readers, probes, env=env, cwd=cwd)
        run.watcher = asyncio.create_task(self._watch_exit(process))
        self.runs[name] = run
        probes.start()
        return run

    async def _watch_exit(self, process: proc.ContainerProcess) -> None:
        await process.exited.wait()
        self.wake.set()

    def _collect_exits(self) -> None:
        for name, run in list(self.runs.items()):
            if run.process.exited.is_set():
                self._finish(name, run)

    def _finish(self, name: str, run: Run) -> None:
        """Record a run that ended and release what watched it."""
        run.probes.stop()
        self._close_logs(run.logfile, run.readers)
        del self.runs[name]
        record = self.records[name]
        code = run.process.exit_code
        reason, message = ("", "") if code is not None else LOST_EXIT
        code = 137 if code is None else code
        message = ": ".join(m for m in (message, self._message(name, code)) if m)
        record.ended(terminated_state(code, record.started_at, now_rfc3339(),
                                      record.container_id, reason, message),
                     time.time())
        log.debug("container %s/%s exited code=%s", self.key, name, code)

    def _message(self, name: str, exit_code: int) -> str:
        """The termination message the run that just ended left."""
        record, store = self.records[name], self.ctx.store
        run_dir = store.run_dir(self.uid, name, record.restart_count)
        started = parse_rfc3339(record.started_at) / 1e9 if record.started_at else 0
        return termination.read_message(
            self.spec_of(name) or {}, termination.message_path(run_dir), started,
            exit_code, store.log_dir(self.namespace, self.name, self.uid, name),
            record.restart_count)

    async def _restart_unhealthy(self) -> None:
        for name, run in list(self.runs.items()):
            if run.probes.failure and not run.process.exited.is_set():
                spec = self.spec_of(name)
                self._event(spec, "Normal", "Killing",
                            f"{run.probes.failure}, will be restarted")
                probe = spec.get("livenessProbe") or spec.get("startupProbe") or {}
                grace = probe.get("terminationGracePeriodSeconds", self._grace())
                await self._kill(name, grace)
                self._finish(name, run)

    async def _restart_changed(self) -> None:
        # The kubelet restarts a container whose spec changed (of what a pod
        # may change, the image), whatever the restart policy.
        for spec in self.pod["spec"]["containers"]:
            run = self.runs.get(spec["name"])
            record = self.records.get(spec["name"])
            if run is None or record is None or run.process.exited.is_set() or \
                    spec.get("image", "") == record.image:
                continue
            self._event(spec, "Normal", "Killing", f"Container {spec['name']} "
                        "definition changed, will be restarted")
            await self._kill(spec["name"], self._grace())
            self._finish(spec["name"], run)
            record.restart_pending = True

    def _refresh_probes(self) -> None:
        for name, run in self.runs.items():
            record = self.records[name]
            record.started, record.ready = run.probes.started, run.probes.ready

    async def _terminate(self) -> None:
        grace = self._grace()
        meta = self.pod["metadata"]
        if meta.get("deletionTimestamp") and meta.get("deletionGracePeriodSeconds") \
                is not None:
            grace = meta["deletionGracePeriodSeconds"]
        await self._stop_containers(grace)
        if not self.gone:
            await self._report(terminal=True)
            await self._delete()
        self.ctx.store.remove(self.uid, self.namespace, self.name)
        self.ctx.backoff.forget(self.uid + "/")
        self.done = True
        log.info("pod %s: terminated", self.key)

    async def _stop_containers(self, grace: float) -> None:
        """Stop every running container within ``grace`` seconds: preStop hooks
        all at once, then the app containers, then the sidecars in reverse
        order, each once those after it have exited (the kubelet's termination
        ordering)."""
        for name in self.runs:
            self._event(self.spec_of(name), "Normal", "Killing",
                        f"Stopping container {name}")
        inits = [c["name"] for c in self.pod["spec"].get("initContainers") or []]
        sidecars = [n for n in reversed(inits) if n in self.runs]
        apps = [n for n in self.runs if n not in sidecars]
        kills, waited = [], [self.runs[n].process.exited for n in apps]
        for name in apps:
            kills.append(self._kill(name, grace))
        for name in sidecars:
            kills.append(self._kill(name, grace, after=list(waited)))
            waited.append(self.runs[name].process.exited)
        await asyncio.gather(*kills)
        self._collect_exits()

    async def _kill(self, name: str, grace: float,
                    after: list[asyncio.Event] = ()) -> None:
        """The kubelet's killContainer: the preStop hook, then this container's
        turn, within the grace period; then SIGTERM, and SIGKILL after what is
        left of it (never less than two seconds)."""
        run, spec = self.runs[name], self.spec_of(name)
        deadline = asyncio.get_running_loop().time() + grace
        handler = ((spec or {}).get("lifecycle") or {}).get("preStop")
        if handler and grace > 0 and not run.process.exited.is_set():
            await self._pre_stop(spec, run, handler, grace)
        if after:
            left = deadline - asyncio.get_running_loop().time()
            waits = asyncio.gather(*(event.wait() for event in after))
            try:
                await asyncio.wait_for(waits, max(left, 0))
            except asyncio.TimeoutError:
                pass
        left = deadline - asyncio.get_running_loop().time()
        await run.process.stop(max(left, MINIMUM_GRACE))

    async def _pre_stop(self, spec: dict, run: Run, handler: dict,
                        grace: float) -> None:
        try:
            message = await asyncio.wait_for(
                run_hook(handler, self.pod, spec, run.env, run.cwd, self.ctx.http),
                grace)
        except asyncio.TimeoutError:
            # No event for a hook that ran out of time: the kubelet only logs it.
            log.info("pod %s: preStop hook of %s not completed in %gs", self.key,
                     spec["name"], grace)
            return
        if message is not None:
            log.warning("pod %s: %s", self.key, message)
            self._event(spec, "Warning", "FailedPreStopHook", "PreStopHook failed")

    async def shut_down_node(self, grace: float, report_time: float,
                             keep_pod: bool = False) -> None:
        """The node goes away: stop the containers within ``grace`` and report
        the pod Failed, as the kubelet's graceful node shutdown does; with
        ``keep_pod``, report only the containers' ends, so the next agent
        restarts them by the pod's restartPolicy. The pod stays on the server,
        and its state here: the records say the containers ended, so a later
        agent does not adopt them."""
        if self.done or self.rejection is not None or self.is_terminal():
            return
        await self._stop_containers(min(grace, self._grace()))
        self.shut_down = not keep_pod
        self.save()
        await asyncio.wait_for(self._report(terminal=not keep_pod), report_time)

    async def _delete(self) -> None:
        options = {"kind": "DeleteOptions", "apiVersion": "v1",
                   "gracePeriodSeconds": 0, "preconditions": {"uid": self.uid}}
        try:
            await self.ctx.client.delete(pod_path(self.namespace, self.name), options)
        except (NotFound, Conflict):
            pass  # already gone, or a new pod of the same name

    # -- adoption after an agent restart -----------------------------------------

    async def _adopt(self) -> None:
        for name, record in self.records.items():
            if record.state != "running" or not record.process:
                continue
            identity = proc.ProcessIdentity.from_dict(record.process)
            process = proc.ContainerProcess.adopt(identity)
            if process is None:
                record.ended(terminated_state(137, record.started_at, now_rfc3339(),
                                              record.container_id, *LOST_EXIT),
                             time.time())
            else:
                await self._reattach(self.spec_of(name), record, process)

    async def _reattach(self, spec: dict, record: ContainerRecord,
                        process: proc.ContainerProcess) -> None:
        store = self.ctx.store
        pipes = proc.make_pipes(store.run_dir(self.uid, spec["name"],
                                              record.restart_count))
        logfile = LogFile(store.log_dir(self.namespace, self.name, self.uid,
                                        spec["name"]), record.restart_count)
        readers = [PipeReader(proc.open_reader(path), stream, logfile)
                   for path, stream in zip(pipes, ("stdout", "stderr"))]
        try:
            env = await container_env(self.pod, spec, self.ctx.host_ip, self._lookup,
                                      await self._service_variables())
        except (ConfigError, *TRANSIENT):
            env = {}  # only what `kubectl exec` would see is lost
        full_env = {**proc.base_env(), "HOSTNAME": self._hostname(), **env}
        full_env[termination.ENV_VAR] = str(termination.message_path(
            store.run_dir(self.uid, spec["name"], record.restart_count)))
        cwd = spec.get("workingDir") or str(self._work_dir())
        self._attach(spec, process, logfile, readers, full_env, cwd)
        log.info("pod %s: adopted container %s (pid %d)", self.key, spec["name"],
                 process.pid)

    # -- status -------------------------------------------------------------------

    def _status(self, pod: dict, terminal: bool = False) -> dict:
        if self.rejection is not None:
            reason, message = self.rejection
            return {"phase": "Failed", "reason": reason, "message": message,
                    "startTime": self.start_time}
        self._refresh_probes()
        init = [self._record(c) for c in pod["spec"].get("initContainers") or []]
        app = [self._record(c) for c in pod["spec"]["containers"]]
        status = pod_status(pod, init, app, self.ctx.host_ip, self.start_time,
                            now_rfc3339(), terminal=terminal)
        if self.shut_down:
            status.update(phase="Failed", reason=SHUTDOWN_REASON,
                          message=SHUTDOWN_MESSAGE)
            status["conditions"] = with_transition_times(
                [{"type": "DisruptionTarget", "status": "True",
                  "reason": "TerminationByKubelet", "message": SHUTDOWN_MESSAGE}],
                [], now_rfc3339()) + [c for c in status["conditions"]
                                      if c["type"] != "DisruptionTarget"]
        return status

    async def _report(self, terminal: bool = False) -> None:
        status = self._status(self.pod, terminal)
        if status == self._sent or status == self.pod.get("status"):
            return

        def set_status(obj: dict) -> None:
            obj["status"] = self._status(obj, terminal)

        try:
            self.pod = await self.ctx.client.update_status(
                pod_path(self.namespace, self.name), dict(self.pod), set_status)
        except NotFound:
            self.gone = True
            self.wake.set()
            return
        self._sent = status
        log.debug("pod %s: status phase=%s", self.key, status["phase"])

    def save(self) -> None:
        state = {"uid": self.uid, "namespace": self.namespace, "name": self.name,
                 "startTime": self.start_time, "grace": self._grace(),
                 "volumesWarned": self.volumes_warned,
                 "containers": {n: r.to_dict() for n, r in self.records.items()}}
        data = orjson.dumps(state)
        if data != self._saved_bytes:
            self.ctx.store.save(self.uid, state)
            self._saved_bytes = data

    # -- logs -----------------------------------------------------------------------

    def log_target(self, container: str, previous: bool) -> tuple[Path, int,
                                                                  LogFile | None]:
        """The log directory, run number and live writer for a log request,
        following the kubelet's validateContainerLogStatus."""
        record = self.records.get(container)
        if record is None:
            raise LogUnavailable(f'container "{container}" in pod "{self.name}" '
                                 "is not available")
        status = record.api_status()
        state, last = status["state"], status["lastState"].get("terminated")
        if previous:
            if not last or not last.get("containerID"):
                raise LogUnavailable(f'previous terminated container "{container}" '
                                     f'in pod "{self.name}" not found')
            container_id = last["containerID"]
        elif "running" in state:
            container_id = record.container_id
        elif "terminated" in state or last:
            container_id = (state.get("terminated") or last)["containerID"]
        else:
            raise LogUnavailable(f'container "{container}" in pod "{self.name}" is '
                                 f"waiting to start: {state['waiting']['reason']}")
        index = record.run_index.get(container_id)
        if index is None:
            raise LogUnavailable(f'container "{container}" in pod "{self.name}" '
                                 "is terminated")
        run = self.runs.get(container)
        live = run.logfile if run and record.container_id == container_id else None
        log_dir = self.ctx.store.log_dir(self.namespace, self.name, self.uid, container)
        return log_dir, index, live

    # -- exec -----------------------------------------------------------------------

    def exec_target(self, container: str) -> tuple[dict, str]:
        """The environment and working directory a command run in a container
        gets: those its running process was started with."""
        run = self.runs.get(container)
        if run is None or run.process.exited.is_set():
            raise ExecUnavailable(f'container not found ("{container}")')
        return run.env, run.cwd

    # -- helpers ----------------------------------------------------------------------

    def spec_of(self, name: str) -> dict | None:
        spec = self.pod["spec"]
        for container in (spec.get("initContainers") or []) + spec["containers"]:
            if container["name"] == name:
                return container
        return None

    def _grace(self) -> float:
        value = self.pod["spec"].get("terminationGracePeriodSeconds")
        return DEFAULT_GRACE if value is None else value

    def _hostname(self) -> str:
        return self.pod["spec"].get("hostname") or self.name

    def _work_dir(self) -> Path:
        path = self.ctx.store.work_dir(self.uid)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _event(self, spec: dict | None, type_: str, reason: str, message: str) -> None:
        field_path = ""
        if spec is not None:
            init = spec in (self.pod["spec"].get("initContainers") or [])
            field_path = f"spec.{'initContainers' if init else 'containers'}" \
                         f"{{{spec['name']}}}"
        self.ctx.events.emit(self.pod, field_path, type_, reason, message)

    async def _lookup(self, resource: str, namespace: str, name: str) -> dict | None:
        try:
            return await self.ctx.client.get(f"/api/v1/namespaces/{namespace}/"
                                             f"{resource}/{name}")
        except NotFound:
            return None

    async def _service_variables(self) -> dict[str, str]:
        # TODO: cluster IPs do not route here: nothing plays kube-proxy for
        # the process runtime.
        services = self.ctx.services
        kubernetes = await services.get(
            self.ctx.client, "/api/v1/namespaces/default/services/kubernetes")
        listed = []
        if self.pod["spec"].get("enableServiceLinks", True):
            answer = await services.get(
                self.ctx.client, f"/api/v1/namespaces/{self.namespace}/services")
            listed = (answer or {}).get("items") or []
        return service_env(pod_services(self.pod, listed, kubernetes))

    def stop_watching(self) -> None:
        """Let go of the running processes without stopping them (agent shutdown)."""
        for run in self.runs.values():
            run.probes.stop()
            if run.watcher:
                run.watcher.cancel()
            for reader in run.readers:
                reader.drain()
            run.logfile.flush()
