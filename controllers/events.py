"""Events a controller records about the objects it manages.

A thin wrapper over ``node.events.EventRecorder``, which already posts in the
background and folds repeats into ``count``: only the involved object (any
kind, not just a Pod) and the source (the controller, not a kubelet) differ.
"""

from __future__ import annotations

from node.client import APIClient
from node.events import EventRecorder


class ControllerEventRecorder(EventRecorder):
    def __init__(self, client: APIClient, component: str):
        super().__init__(client, node_name="")
        self.component = component

    def event(self, obj: dict, type_: str, reason: str, message: str) -> None:
        """Record ``reason``/``message`` about ``obj`` (Normal or Warning)."""
        self.emit(obj, "", type_, reason, message)

    def _event(self, obj: dict, field_path: str, type_: str, reason: str,
               message: str, now: str) -> dict:
        event = super()._event(obj, field_path, type_, reason, message, now)
        event["involvedObject"].update(kind=obj.get("kind", ""),
                                       apiVersion=obj.get("apiVersion", ""))
        event["source"] = {"component": self.component}
        event["reportingComponent"] = self.component
        event["reportingInstance"] = ""
        return event
