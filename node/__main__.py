"""``python -m node``: the same command as ``kctl node``."""

from node.agent import node_command

if __name__ == "__main__":
    node_command(prog_name="kctl node")
