"""``python -m controllers --server URL --controllers ...``"""

from controllers.manager import controllers_command

if __name__ == "__main__":
    controllers_command(prog_name="python -m controllers")
