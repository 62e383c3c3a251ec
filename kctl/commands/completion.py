"""kctl completion: the shell script that wires kctl's completion into a shell.

The scripts call kctl back with _KCTL_COMPLETE set; click answers with
commands, flags, and (from kctl.completion) resource types and live names.
completions/ holds the generated scripts; a test keeps them equal to this.
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


def script(shell: str) -> str:
    from click.shell_completion import get_completion_class

    from kctl.cli import cli

    complete = get_completion_class(shell)(cli, {}, "kctl", "_KCTL_COMPLETE")
    return complete.source().rstrip("\n") + "\n"


@click.command(epilog="""
\b
Examples:
  source <(kctl completion bash)
  kctl completion zsh > "${fpath[1]}/_kctl"
  kctl completion fish > ~/.config/fish/completions/kctl.fish
""")
@click.argument("args", nargs=-1, metavar="SHELL", shell_complete=lambda ctx, param,
                incomplete: [s for s in SHELLS if s.startswith(incomplete)])
def completion(args):
    """Output shell completion code for bash, zsh or fish."""
    from kctl.errors import CommandError

    # kubectl's words and exit code 1 for each refusal.
    see = "\nSee 'kctl completion -h' for help and examples"
    if not args:
        raise CommandError("Shell not specified." + see)
    if len(args) > 1:
        raise CommandError("Too many arguments. Expected only the shell type." + see)
    shell = args[0]
    if shell not in SHELLS:
        raise CommandError(f'Unsupported shell type "{shell}".' + see)
    click.echo(script(shell), nl=False)
