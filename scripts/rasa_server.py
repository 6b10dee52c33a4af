"""`python -m scripts.rasa_server run …`: the `rasa` command, without loading jax.

TensorFlow 2.12 imports jax at start-up only for an optional TFLite converter helper
(tensorflow/lite/python/util.py, inside try/except ImportError). In a Rasa server that import costs
about 65 MB of memory and a second of start-up, and nothing uses it. This entry point marks jax as
unavailable before anything imports TensorFlow and then runs Rasa's own command line unchanged.
`make run`, the tests, the benchmark and the production set-up start Rasa this way; `rasa train`
and the other commands are unaffected.
"""

from __future__ import annotations

import sys
from typing import Sequence

SKIPPED_MODULES = ("jax", "jaxlib")


def skip_optional_imports() -> None:
    """Make `import jax` raise ImportError (TensorFlow then leaves its optional helper unset)."""
    for name in SKIPPED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def run_rasa(argv: Sequence[str]) -> None:
    """Run `rasa ARGV` in this process."""
    skip_optional_imports()
    sys.argv = ["rasa", *argv]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    run_rasa(sys.argv[1:])
