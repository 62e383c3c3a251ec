"""``kctl``'s entry point and its single error boundary.

Every error ends here and becomes one line on stderr and an exit code: 0
success, 1 an error from the server or a failed command, 2 a usage error;
``--debug`` adds the traceback. A plain ``kctl get`` goes through
kctl.fastpath, without importing click; everything else through the click
group in kctl.cli.
"""

from __future__ import annotations

import os
import sys

from kctl.errors import EXIT_ERROR, EXIT_USAGE
from kctl.session import Session


def main(argv: list[str] | None = None, out=None, err=None) -> int:
    """Run kctl; ``out`` and ``err`` replace stdout and stderr (for tests)."""
    session = Session(out=out, err=err)
    args = sys.argv[1:] if argv is None else list(argv)
    completing = "_KCTL_COMPLETE" in os.environ
    try:
        if not completing:
            from kctl.fastpath import run_fast

            if run_fast(args, session):
                _flush(session)
                return 0
        return _run_click(args, session, completing)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kctl get pods | head`: the reader left; that is not an error.
        _silence_stdout()
        return 0
    except Exception as exc:  # the one boundary: every error ends here
        line, code = describe_error(exc)
        return _report(session, exc, line, code)


def _run_click(args: list[str], session: Session, completing: bool) -> int:
    import click

    from kctl.cli import cli

    if not args and not completing:
        click.echo(cli.get_help(click.Context(cli, info_name="kctl")),
                   file=session.out)
        return 0
    try:
        cli.main(args=args, prog_name="kctl", standalone_mode=False, obj=session)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        session.err.write("\n")
        return EXIT_ERROR
    except click.UsageError as exc:
        return _report(session, exc, f"error: {exc.format_message()}", EXIT_USAGE)
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
    if isinstance(exc, client.Unreachable):
        return f"error: {exc}", EXIT_ERROR
    if isinstance(exc, (ConfigError, UnknownResource)):
        return f"error: {exc}", EXIT_ERROR
    if isinstance(exc, OSError):
        return f"error: {exc.strerror or exc}" + (
            f": {exc.filename}" if exc.filename else ""), EXIT_ERROR
    return f"error: {type(exc).__name__}: {exc}", EXIT_ERROR


def server_error_line(exc) -> str:
    """kubectl's wording: ``Error from server (NotFound): pods "x" not found``."""
    if unauthorized(exc):
        return logged_in_line(str(exc))
    if exc.reason == "Invalid":
        return _invalid_line(exc)
    if exc.reason:
        return f"Error from server ({exc.reason}): {exc}"
    return f"Error from server: {exc}"


def unauthorized(exc) -> bool:
    # client-go gives a 401 without a Status body the reason Unauthorized too.
    return exc.reason == "Unauthorized" or exc.code == 401


def logged_in_line(message: str) -> str:
    """kubectl's CheckErr words an Unauthorized answer so."""
    return f"error: You must be logged in to the server ({message})"


def _invalid_line(exc) -> str:
    """kubectl names the object and lists each distinct cause once."""
    details = exc.details
    if not details:
        return f"The request is invalid: {exc}"
    if details.get("kind") or details.get("name"):
        kind, name = details.get("kind", ""), details.get("name", "")
        subject = f'The {kind} "{name}" is invalid'
    else:
        subject = "The request is invalid"
    causes = list(dict.fromkeys(
        f'{c.get("field", "")}: {c.get("message", "")}'
        for c in details.get("causes") or []))
    if not causes:
        return subject
    if len(causes) == 1:
        return f"{subject}: {causes[0]}"
    return f"{subject}: \n" + "\n".join(
        f"* {cause}" for cause in causes)


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
