"""Lifecycle hooks: ``postStart`` right after a container starts, ``preStop``
before it is stopped, run as the kubelet's handler runner runs them
(pkg/kubelet/lifecycle/handlers.go).

An exec hook runs its command as a process of its own session with the
container's environment and working directory, like ``kubectl exec``. An
httpGet hook fails only when no response comes: its status code does not
matter to the kubelet either. A sleep hook waits. The failure message is the
kubelet's; the event it records says only "PostStartHook failed" or
"PreStopHook failed", so that no secret leaks into an event.
https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/
"""

from __future__ import annotations

import asyncio
import os
import signal

import aiohttp

from node.probes import dial_error, resolve_port

USER_AGENT = "kube-lifecycle/1.32"


def describe_pod(pod: dict) -> str:
    """The kubelet's format.Pod: name_namespace(uid)."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace', 'default')}({meta.get('uid', '')})"


async def run_hook(handler: dict, pod: dict, container: dict, env: dict, cwd: str,
                   session: aiohttp.ClientSession) -> str | None:
    """Run one lifecycle handler; None when it succeeded, else why it failed."""
    where = f'for Container "{container["name"]}" in Pod "{describe_pod(pod)}"'
    if "exec" in handler:
        command = handler["exec"].get("command") or []
        error, output = await _exec(command, env, cwd)
        if error is None:
            return None
        return (f"Exec lifecycle hook ([{' '.join(command)}]) {where} failed - "
                f"error: {error}, message: {_go_quote(output)}")
    if "httpGet" in handler:
        error = await _http_get(handler["httpGet"], container, session)
        if error is None:
            return None
        return (f"HTTP lifecycle hook ({handler['httpGet'].get('path', '')}) {where} "
                f"failed - error: {error}")
    if "sleep" in handler:
        await asyncio.sleep(handler["sleep"].get("seconds", 0))
        return None
    return f"invalid handler: {handler}"


async def _exec(command: list[str], env: dict, cwd: str) -> tuple[str | None, str]:
    try:
        child = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)
    except OSError as err:
        return f'exec: "{command[0] if command else ""}": {err.strerror}', ""
    try:
        output, _ = await child.communicate()
    except asyncio.CancelledError:
        # The hook ran out of time or its pod is being deleted: take it along.
        _kill_group(child.pid)
        raise
    text = output.decode(errors="replace")
    if child.returncode == 0:
        return None, text
    return f"command '{' '.join(command)}' exited with {child.returncode}: ", text


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def _http_get(action: dict, container: dict,
                    session: aiohttp.ClientSession) -> str | None:
    # Processes share the host's network: the pod IP is loopback here.
    host = action.get("host") or "127.0.0.1"
    try:
        port = resolve_port(action.get("port"), container)
    except ValueError as err:
        return str(err)
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    url = f"{action.get('scheme', 'HTTP').lower()}://{host}:{port}{path}"
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    headers.update({h["name"]: h["value"] for h in action.get("httpHeaders") or []})
    try:
        async with session.get(url, headers=headers, ssl=False) as resp:
            await resp.read()
    except aiohttp.ClientError as err:
        return f'Get "{url}": {dial_error(host, port, err)}'
    return None


def _go_quote(text: str) -> str:
    """Go's %q of a string, for the printable ASCII that hook output mostly is."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'
