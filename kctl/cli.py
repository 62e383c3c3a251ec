"""The click group of kctl: commands imported only when called.

Each command lives in its own module; ``kctl get`` never imports the server,
the node agent or rich (unless it draws to a terminal). kctl.main runs this
group inside its error boundary.
"""

from __future__ import annotations

import click

from kctl.options import connection_options

# name -> "module:attribute" of a click command, imported on first use.
COMMANDS = {
    "get": "kctl.commands.get:get",
    "describe": "kctl.commands.describe:describe",
    "create": "kctl.commands.create:create",
    "apply": "kctl.commands.apply:apply",
    "replace": "kctl.commands.replace:replace",
    "delete": "kctl.commands.delete:delete",
    "edit": "kctl.commands.edit:edit",
    "patch": "kctl.commands.patch:patch",
    "label": "kctl.commands.label:label",
    "annotate": "kctl.commands.label:annotate",
    "logs": "kctl.commands.logs:logs",
    "wait": "kctl.commands.wait:wait",
    "rollout": "kctl.commands.rollout:rollout",
    "scale": "kctl.commands.scale:scale",
    "run": "kctl.commands.imperative:run",
    "expose": "kctl.commands.expose:expose",
    "set": "kctl.commands.set:set_group",
    "explain": "kctl.commands.explain:explain",
    "taint": "kctl.commands.taint:taint",
    "diff": "kctl.commands.diff:diff",
    "events": "kctl.commands.events:events",
    "exec": "kctl.commands.exec:exec_command",
    "api-resources": "kctl.commands.api_resources:api_resources",
    "cluster-info": "kctl.commands.cluster_info:cluster_info",
    "version": "kctl.commands.version:version",
    "config": "kctl.commands.config:config",
    "completion": "kctl.commands.completion:completion",
    "cordon": "kctl.commands.cordon:cordon",
    "uncordon": "kctl.commands.cordon:uncordon",
    "drain": "kctl.commands.cordon:drain",
    "serve": "server.serve:serve_command",
    "node": "node.agent:node_command",
    "controllers": "controllers.manager:controllers_command",
}

# One line each for `kctl --help`, so listing commands imports none of them.
SUMMARIES = {
    "get": "Display one or many resources.",
    "describe": "Show details of a specific resource or group of resources.",
    "create": "Create resources from files or stdin.",
    "apply": "Apply a configuration to resources from files or stdin.",
    "replace": "Replace a resource by file name or stdin.",
    "delete": "Delete resources by file names, types and names, or selectors.",
    "edit": "Edit a resource in $EDITOR.",
    "patch": "Update fields of a resource.",
    "label": "Update the labels on a resource.",
    "annotate": "Update the annotations on a resource.",
    "logs": "Print the logs for a container in a pod.",
    "wait": "Wait for a specific condition on one or many resources.",
    "rollout": "Manage the rollout of a Deployment.",
    "scale": "Set a new size for a Deployment, ReplicaSet or ReplicationController.",
    "run": "Create and run a pod with one container.",
    "expose": "Expose a resource as a new Kubernetes service.",
    "set": "Set specific features on objects (set image).",
    "explain": "Get the documentation of a resource and its fields.",
    "taint": "Update the taints on one or more nodes.",
    "diff": "Diff the live objects against what applying the files would make.",
    "events": "List events.",
    "exec": "Execute a command in a container.",
    "api-resources": "Print the supported API resources on the server.",
    "cluster-info": "Display cluster information.",
    "version": "Print the client and server version information.",
    "config": "Show and switch kubeconfig contexts.",
    "completion": "Output shell completion code for bash, zsh or fish.",
    "cordon": "Mark node as unschedulable.",
    "uncordon": "Mark node as schedulable.",
    "drain": "Drain node in preparation for maintenance.",
    "serve": "Run the API server.",
    "node": "Run a node agent (kubelet) that runs pods as local processes.",
    "controllers": "Run the scheduler and controllers against an API server.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        import importlib

        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx, formatter):
        rows = [(name, SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
@click.pass_context
def cli(ctx: click.Context):
    """kctl controls a Kubernetes cluster, as kubectl does."""
