"""Flags shared by commands: the connection flags and -o/--output.

kubectl accepts its global flags anywhere on the line (``kctl get pods -n x``),
so the connection flags are added to the group and to every command; each
stores into the session's overrides as it is parsed.
"""

from __future__ import annotations

import click

from kctl.errors import UsageError


def _store(attribute: str, convert=None):
    def callback(ctx: click.Context, param, value):
        if value is None or value is False and attribute != "debug":
            return
        # ensure_object: during shell completion click builds contexts
        # without kctl's session.
        session = ctx.ensure_object(_session_type())
        if attribute == "debug":
            session.debug = session.debug or value
        else:
            setattr(session.overrides, attribute,
                    convert(value) if convert else value)
    return callback


def _session_type():
    from kctl.session import Session

    return Session


def _timeout(value: str) -> float:
    from kctl.config import parse_timeout

    try:
        return parse_timeout(value)
    except ValueError:
        raise UsageError(f"invalid argument {value!r} for --request-timeout: "
                         f"must be a duration such as 5s, 2m or 0") from None


_CONNECTION_FLAGS = [
    (("--kubeconfig",), "kubeconfig", "Path to the kubeconfig file to use.", None),
    (("--context",), "context", "The name of the kubeconfig context to use.", None),
    (("--cluster",), "cluster", "The name of the kubeconfig cluster to use.", None),
    (("--user",), "user", "The name of the kubeconfig user to use.", None),
    (("-s", "--server"), "server", "The address and port of the API server.",
     None),
    (("--token",), "token", "Bearer token for authentication to the API server.",
     None),
    (("-n", "--namespace"), "namespace", "The namespace scope for this request.",
     None),
    (("--certificate-authority",), "certificate_authority",
     "Path to a cert file for the certificate authority.", None),
    (("--client-certificate",), "client_certificate",
     "Path to a client certificate file for TLS.", None),
    (("--client-key",), "client_key", "Path to a client key file for TLS.", None),
    (("--request-timeout",), "request_timeout",
     "How long to wait for a single server request (e.g. 1s, 2m, 0 for no "
     "timeout).", _timeout),
]


def connection_options(func=None, leave_out: tuple[str, ...] = ()):
    """Adds the connection flags (and --debug) to a command or the group;
    ``leave_out`` names attributes whose flags the command uses for itself."""
    if func is None:
        return lambda f: connection_options(f, leave_out)
    for decls, attribute, help_text, convert in reversed(_CONNECTION_FLAGS):
        if attribute in leave_out:
            continue
        func = click.option(*decls, attribute, expose_value=False,
                            is_eager=True, help=help_text, metavar="TEXT",
                            callback=_store(attribute, convert))(func)
    func = click.option("--insecure-skip-tls-verify", "insecure_skip_tls_verify",
                        is_flag=True, default=None, expose_value=False,
                        is_eager=True, callback=_store("insecure_skip_tls_verify"),
                        help="Do not check the server's certificate.")(func)
    func = click.option("--debug", is_flag=True, expose_value=False, is_eager=True,
                        callback=_store("debug"),
                        help="Show a traceback for errors.")(func)
    return func


def output_option(formats: str = "json|yaml|name|wide|jsonpath=...|"
                  "custom-columns=..."):
    return click.option("-o", "--output", default="", metavar="FORMAT",
                        help=f"Output format: {formats}.")


def filename_options(func):
    func = click.option("-R", "--recursive", is_flag=True,
                        help="Process the directory used in -f recursively.")(func)
    func = click.option("-f", "--filename", "filenames", multiple=True,
                        metavar="PATH",
                        help="Files, directories, URLs or - (stdin) holding "
                        "the objects.")(func)
    return func


def session() -> "object":
    return click.get_current_context().ensure_object(_session_type())


def resource_args(func):
    """The TYPE [NAME...] | TYPE/NAME... argument, completed from the server."""
    from kctl.completion import complete_resources

    return click.argument("args", nargs=-1,
                          shell_complete=complete_resources)(func)


def bool_flag(name: str, default: bool, help_text: str):
    """A kubectl-style boolean: ``--wait``, ``--wait=false`` or ``--wait=true``."""
    return click.option(name, type=click.BOOL, default=default, is_flag=False,
                        flag_value=True, show_default=True, metavar="[=BOOL]",
                        help=help_text)
