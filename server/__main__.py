"""``python -m server``: the same as ``kctl serve``."""

from server.serve import serve_command

serve_command(prog_name="kctl serve")
