"""`python -m scripts.rasa_server run …`: the one entry point of the Rasa server, Rasa's own command line.

Before Rasa's ``main`` runs, it prepares the process (rasa_runtime.startup: no jax, matplotlib on
first use, TensorFlow's oneDNN kernels off and one thread per process unless the variables are set)
and installs every in-process change of Rasa (rasa_runtime.install.install_all, which refuses on a
Rasa version other than the locked one). Then Rasa's own command line runs unchanged. `make run`, the
tests, the benchmark and the production set-up start Rasa this way; `rasa train` and the other
commands are unaffected.
"""

from __future__ import annotations

import logging
import sys
from typing import Sequence

logger = logging.getLogger(__name__)


def run_rasa(argv: Sequence[str]) -> None:
    """Run `rasa ARGV` in this process, prepared and patched."""
    from rasa_runtime import install, startup

    startup.prepare_process()
    install.install_all()
    sys.argv = ["rasa", *argv]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    run_rasa(sys.argv[1:])
