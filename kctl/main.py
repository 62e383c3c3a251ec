"""The ``kctl`` command: a lazy click group and the single error boundary.

Each command lives in its own module, imported only when that command runs:
``kctl get`` never imports the server, the node agent or rich (unless it draws
to a terminal). Every error ends here and becomes one line on stderr and an
exit code: 0 success, 1 an error from the server or a failed command, 2 a
usage error; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import os
import sys

import click

from kctl.errors import EXIT_ERROR, EXIT_USAGE
from kctl.options import connection_options
from kctl.session import Session

# name -> "module:attribute" of a click command, imported on first use.
COMMANDS = {
    "get": "kctl.commands.get:get",
    "describe": "kctl.commands.describe:describe",
    "create": "kctl.commands.create:create",
    "apply": "kctl.commands.apply:apply",
    "delete": "kctl.commands.delete:delete",
    "edit": "kctl.commands.edit:edit",
    "patch": "kctl.commands.patch:patch",
    "label": "kctl.commands.label:label",
    "annotate": "kctl.commands.label:annotate",
    "logs": "kctl.commands.logs:logs",
    "wait": "kctl.commands.wait:wait",
    "api-resources": "kctl.commands.api_resources:api_resources",
    "cluster-info": "kctl.commands.cluster_info:cluster_info",
    "version": "kctl.commands.version:version",
    "config": "kctl.commands.config:config",
    "completion": "kctl.commands.completion:completion",
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
    "delete": "Delete resources by file names, types and names, or selectors.",
    "edit": "Edit a resource in $EDITOR.",
    "patch": "Update fields of a resource.",
    "label": "Update the labels on a resource.",
    "annotate": "Update the annotations on a resource.",
    "logs": "Print the logs for a container in a pod.",
    "wait": "Wait for a specific condition on one or many resources.",
    "api-resources": "Print the supported API resources on the server.",
    "cluster-info": "Display cluster information.",
    "version": "Print the client and server version information.",
    "config": "Show and switch kubeconfig contexts.",
    "completion": "Output shell completion code for bash, zsh or fish.",
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


def main(argv: list[str] | None = None, out=None, err=None) -> int:
    """Run kctl; ``out`` and ``err`` replace stdout and stderr (for tests)."""
    session = Session(out=out, err=err)
    bare = argv == [] or argv is None and len(sys.argv) == 1
    if bare and "_KCTL_COMPLETE" not in os.environ:
        click.echo(cli.get_help(click.Context(cli, info_name="kctl")),
                   file=session.out)
        return 0
    try:
        cli.main(args=argv, prog_name="kctl", standalone_mode=False, obj=session)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        session.err.write("\n")
        return EXIT_ERROR
    except click.UsageError as exc:
        return _report(session, exc, f"error: {exc.format_message()}", EXIT_USAGE)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kctl get pods | head`: the reader left; that is not an error.
        _silence_stdout()
        return 0
    except Exception as exc:  # the one boundary: every error ends here
        line, code = describe_error(exc)
        return _report(session, exc, line, code)
    _flush(session)
    return 0


def describe_error(exc: Exception) -> tuple[str, int]:
    """The stderr line and exit code for an error raised by a command."""
    from kctl.errors import AlreadyReported, CommandError

    if isinstance(exc, AlreadyReported):
        return "", exc.exit_code
    if isinstance(exc, CommandError):
        return f"error: {exc}", exc.exit_code
    from kctl import client
    from kctl.config import ConfigError
    from kctl.discovery import UnknownResource

    if isinstance(exc, client.APIError):
        return server_error_line(exc), EXIT_ERROR
    if isinstance(exc, (client.Unreachable, ConfigError, UnknownResource)):
        return f"error: {exc}", EXIT_ERROR
    if isinstance(exc, OSError):
        return f"error: {exc.strerror or exc}" + (
            f": {exc.filename}" if exc.filename else ""), EXIT_ERROR
    return f"error: {type(exc).__name__}: {exc}", EXIT_ERROR


def server_error_line(exc) -> str:
    """kubectl's wording: ``Error from server (NotFound): pods "x" not found``."""
    if exc.reason:
        return f"Error from server ({exc.reason}): {exc}"
    return f"Error from server: {exc}"


def _report(session: Session, exc: BaseException, line: str, code: int) -> int:
    _flush(session)
    if session.debug:
        import traceback

        traceback.print_exception(exc, file=session.err)
    if line:
        session.err.write(line.rstrip("\n") + "\n")
    return code


def _flush(session: Session) -> None:
    try:
        session.out.flush()
    except (BrokenPipeError, ValueError):
        _silence_stdout()


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
