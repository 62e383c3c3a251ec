"""``python -m kctl``: the same entry point as the ``kctl`` script."""

from kctl.main import run

run()
